import { describe, expect, it } from 'vitest';
import { DeviceSyslogConfigError, DeviceSyslogModel, type DeviceSyslogOptions } from './index.js';

const START = '2024-03-01T08:00:00Z';
const START_MS = Date.parse(START);
const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';

/** The header shape of each OS, RFC 3164 as each vendor sends it or RFC 5424; group 1 is the PRI, group 2 the host. */
const FORMATS: Record<string, RegExp> = {
  ios: new RegExp(`^<(\\d{1,3})>(?:${MONTHS}) [ \\d]\\d \\d\\d:\\d\\d:\\d\\d ([a-z0-9-]+) \\d{1,5}: %[A-Z0-9_]+-([0-7])-[A-Z0-9_]+: \\S.*$`),
  asa: new RegExp(`^<(\\d{1,3})>(?:${MONTHS}) \\d\\d \\d{4} \\d\\d:\\d\\d:\\d\\d ([a-z0-9-]+) : %ASA-([0-7])-\\d{6}: \\S.*$`),
  vrp: new RegExp(`^<(\\d{1,3})>(?:${MONTHS}) [ \\d]\\d \\d{4} \\d\\d:\\d\\d:\\d\\d ([a-z0-9-]+) %%01[A-Z]+/([0-7])/[A-Za-z_]+\\([lsd]\\)\\[\\d+\\]:\\S.*$`),
  comware: new RegExp(`^<(\\d{1,3})>(?:${MONTHS}) [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4} ([a-z0-9-]+) %%10[A-Z]+/([0-7])/[A-Z0-9_]+\\(l\\): \\S.*$`),
  junos:
    /^<(\d{1,3})>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ([a-z0-9-]+) [A-Za-z0-9_]+ (?:\d+|-) [A-Z_]+ \[junos@2636\.1\.1\.1\.2\.129(?: [a-z0-9-]+="[^"\\\]]*")+\] \S.*$/,
  linux3164: new RegExp(`^<(\\d{1,3})>(?:${MONTHS}) [ \\d]\\d \\d\\d:\\d\\d:\\d\\d ([a-z0-9-]+) [A-Za-z-]+(?:\\[\\d+\\])?: +\\S.*$`),
  linux5424: /^<(\d{1,3})>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ([a-z0-9-]+) [A-Za-z-]+ (?:\d+|-) - - +\S.*$/,
};

function model(o: DeviceSyslogOptions = {}, task = 0): DeviceSyslogModel {
  return new DeviceSyslogModel({ start: START, rate: 0, ...o }, task);
}

describe('DeviceSyslogModel', () => {
  it('is deterministic: the same seed, options and task give the same lines, peers and times; another task or seed does not', () => {
    const a = model({ seed: 7 });
    const b = model({ seed: 7 });
    const lines = a.lines(2000);
    expect(b.lines(2000)).toEqual(lines);
    const va = Array.from({ length: 50 }, (_, i) => a.values(i * 37));
    expect(Array.from({ length: 50 }, (_, i) => b.values(i * 37))).toEqual(va);
    const other = model({ seed: 7 }, 1).lines(2000);
    const seed8 = model({ seed: 8 }).lines(2000);
    let sameTask = 0;
    let sameSeed = 0;
    for (let i = 0; i < 2000; i++) {
      if (other[i] === lines[i]) sameTask++;
      if (seed8[i] === lines[i]) sameSeed++;
    }
    expect(sameTask).toBeLessThan(20);
    expect(sameSeed).toBeLessThan(20);
  });

  it('makes any line again from its number alone, in any order', () => {
    const m = model({ seed: 3, faults: [{ kind: 'port-scan', at: '1s', duration: '2s' }] });
    const forward = m.lines(5000);
    const again = model({ seed: 3, faults: [{ kind: 'port-scan', at: '1s', duration: '2s' }] });
    for (const i of [4999, 0, 2500, 1024, 1500, 7]) expect(again.line(i)).toBe(forward[i]);
    expect(again.line(2 ** 40 + 5)).toBe(m.line(2 ** 40 + 5));
  });

  it('has every kind and vendor in a small network, with hostnames, management addresses and peers', () => {
    const m = model({ devices: 11 });
    expect(new Set(m.devices.map((d) => d.os))).toEqual(new Set(['ios', 'asa', 'vrp', 'comware', 'junos', 'linux']));
    expect(new Set(m.devices.map((d) => d.kind))).toEqual(new Set(['core-switch', 'access-switch', 'router', 'firewall', 'server']));
    expect(m.devices[0]).toMatchObject({ name: 'sw-core-01', vendor: 'cisco', address: '10.0.0.1', peer: '10.0.0.1:514' });
    expect(new Set(m.devices.map((d) => d.name)).size).toBe(11);
    expect(model({ devices: 2000 }).devices.length).toBe(2000);
  });

  it('has a realistic severity mix: mostly notice and info, some warning, few err, rare crit/alert/emerg', () => {
    const m = model({ seed: 11 });
    const sev = new Array<number>(8).fill(0);
    const N = 100_000;
    for (let i = 0; i < N; i++) sev[Number(/^<(\d+)>/.exec(m.line(i))![1]) % 8]!++;
    const share = sev.map((n) => n / N);
    expect(share[5]! + share[6]!).toBeGreaterThan(0.8);
    expect(share[6]!).toBeGreaterThan(share[5]!);
    expect(share[5]!).toBeGreaterThan(0.08);
    expect(share[4]!).toBeGreaterThan(0.03);
    expect(share[4]!).toBeLessThan(0.15);
    expect(share[3]!).toBeGreaterThan(0.003);
    expect(share[3]!).toBeLessThan(share[4]!);
    const rare = share[0]! + share[1]! + share[2]!;
    expect(rare).toBeGreaterThan(0);
    expect(rare).toBeLessThan(0.005);
    expect(share[7]).toBe(0);
  });

  it("writes each OS's lines in its format: RFC 3164 as Cisco, ASA, Huawei and H3C send it, RFC 5424 for Junos and some Linux", () => {
    const m = model({ seed: 5, faults: [{ kind: 'new-event', at: '0s', duration: '1h', rate: 5 }] });
    const byPeer = new Map(m.devices.map((d) => [d.peer, d]));
    const seen = new Map<string, number>();
    const bad: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const line = m.line(i);
      const d = byPeer.get(m.peer)!;
      const fmt = d.os === 'linux' ? (d.rfc5424 ? 'linux5424' : 'linux3164') : d.os;
      const match = FORMATS[fmt]!.exec(line);
      seen.set(fmt, (seen.get(fmt) ?? 0) + 1);
      if (!match) {
        bad.push(`${fmt} format: ${line}`);
        continue;
      }
      const pri = Number(match[1]);
      if (pri >= 192) bad.push(`PRI: ${line}`);
      if (match[2] !== d.name) bad.push(`host is not ${d.name}: ${line}`);
      // Cisco, ASA, Huawei and H3C repeat the severity in the body: it agrees with the PRI.
      if (match[3] !== undefined && Number(match[3]) !== pri % 8) bad.push(`severity: ${line}`);
      // The header's timestamp is the simulated receive time.
      const iso = new Date(m.time).toISOString();
      if (!line.includes(line.includes('Z ') ? iso : iso.slice(11, 19))) bad.push(`time ${iso}: ${line}`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect([...seen.keys()].sort()).toEqual(Object.keys(FORMATS).sort());
  });

  it("names the same interface in a Junos line's structured data and in its text", () => {
    const m = model({ seed: 3 });
    let seen = 0;
    for (let i = 0; i < 200_000 && seen < 10; i++) {
      const line = m.line(i);
      if (!line.includes('RT_SCREEN_TCP [')) continue;
      seen++;
      const sd = /interface-name="([^"]+)"/.exec(line)![1];
      expect(line).toContain(`interface name: ${sd},`);
    }
    expect(seen).toBe(10);
  });

  it('runs a simulated clock from start: baseRate lines per simulated second when unpaced, rate/speedup when paced', () => {
    const m = model({ baseRate: 100 });
    expect(m.timeOf(0)).toBe(START_MS);
    expect(m.timeOf(100)).toBe(START_MS + 1000);
    expect(m.timeOf(12_345)).toBe(START_MS + 123_450);
    m.line(12_345);
    expect(m.time).toBe(START_MS + 123_450);
    const paced = model({ rate: 1000, speedup: 60 });
    expect(paced.densityAt(0)).toBeCloseTo(1000 / 60, 6);
    const now = Date.now();
    const fromNow = new DeviceSyslogModel({});
    expect(Math.abs(fromNow.startMs - now)).toBeLessThan(5000);
  });

  it('steps the rate at the given simulated times', () => {
    const m = model({
      baseRate: 100,
      rateSteps: [
        { at: '30s', factor: 2 },
        { at: '60s', factor: 5 },
        { at: '90s', factor: 1 },
      ],
    });
    expect([0, 29_999, 30_000, 60_000, 89_999, 90_000, 500_000].map((t) => m.densityAt(t))).toEqual([100, 100, 200, 500, 500, 100, 100]);
    const perWindow = [0, 0, 0, 0];
    for (let i = 0; ; i++) {
      const w = Math.floor((m.timeOf(i) - START_MS) / 30_000);
      if (w >= 4) break;
      perWindow[w]!++;
    }
    expect(perWindow).toEqual([3000, 6000, 15000, 3000]);
    // The schedule's inverse: lines by a time.
    expect(m.schedule.linesBy(30_000 - 1e-6)).toBe(3000);
    expect(m.schedule.linesBy(60_000 - 1e-6)).toBe(9000);
  });

  describe('faults', () => {
    const faults = [
      { kind: 'link-flap', at: '10s', duration: '20s', rate: 10 },
      { kind: 'port-scan', at: '40s', duration: '30s', rate: 50 },
      { kind: 'auth-storm', at: '80s', duration: '20s', rate: 40 },
      { kind: 'new-event', at: '110s', duration: '10s', rate: 5 },
    ] as const;
    const m = model({ seed: 9, baseRate: 200, faults: [...faults] });
    const end = START_MS + 130_000;
    const lines: { line: string; peer: string; time: number; fault: number }[] = [];
    for (let i = 0; ; i++) {
      const line = m.line(i);
      if (m.time >= end) break;
      lines.push({ line, peer: m.peer, time: m.time, fault: m.faultOf(i) });
    }

    it('resolves each fault to a device, its sources, targets or interface', () => {
      expect(m.faults.map((f) => [f.kind, f.device.kind, f.rate])).toEqual([
        ['link-flap', 'access-switch', 10],
        ['port-scan', 'firewall', 50],
        ['auth-storm', 'server', 40],
        ['new-event', 'core-switch', 5],
      ]);
      expect(m.faults[0]!.iface).toBeDefined();
      expect(m.faults[1]!.sources).toHaveLength(1);
      expect(m.faults[1]!.targets).toHaveLength(2);
      expect(m.faults[2]!.sources.length).toBeGreaterThanOrEqual(1);
    });

    it('puts each fault in its time window only, from its device, at about its rate', () => {
      faults.forEach((f, k) => {
        const fault = m.faults[k]!;
        const mine = lines.filter((l) => l.fault === k);
        const from = START_MS + fault.at;
        const to = from + fault.duration;
        for (const l of mine) {
          expect(l.time).toBeGreaterThanOrEqual(from);
          expect(l.time).toBeLessThan(to);
          expect(l.peer).toBe(fault.device.peer);
          expect(l.line).toContain(` ${fault.device.name} `);
        }
        const expected = (f.rate * fault.duration) / 1000;
        // Fault lines are drawn line by line: binomial, within 4 standard deviations.
        expect(Math.abs(mine.length - expected), f.kind).toBeLessThan(4 * Math.sqrt(expected) + 0.02 * expected);
      });
    });

    it('link-flap: one interface going down and up', () => {
      const f = m.faults[0]!;
      const mine = lines.filter((l) => l.fault === 0).map((l) => l.line);
      for (const l of mine) expect(l).toContain(f.iface!);
      expect(mine.some((l) => /down/i.test(l))).toBe(true);
      expect(mine.some((l) => /\bup\b/i.test(l))).toBe(true);
      // Down, then up, in turn: the state changes many times.
      let changes = 0;
      for (let j = 1; j < mine.length; j++) if (/down/i.test(mine[j]!) !== /down/i.test(mine[j - 1]!)) changes++;
      expect(changes).toBeGreaterThan(20);
    });

    it('port-scan and auth-storm: their sources appear in their windows and nowhere else', () => {
      for (const k of [1, 2]) {
        const f = m.faults[k]!;
        for (const src of f.sources) {
          const withSrc = lines.filter((l) => l.line.includes(src));
          expect(withSrc.length, src).toBeGreaterThan(0);
          for (const l of withSrc) expect(l.fault).toBe(k);
        }
        for (const l of lines.filter((x) => x.fault === k)) expect(f.sources.some((s) => l.line.includes(s))).toBe(true);
      }
      const ports = new Set(
        lines
          .filter((l) => l.fault === 1)
          .map((l) => {
            const m2 = /dst inside:(10\.[\d.]+)\/(\d+)/.exec(l.line)!;
            expect(m.faults[1]!.targets).toContain(m2[1]);
            return Number(m2[2]);
          }),
      );
      expect(ports.size).toBeGreaterThan(500);
      const auth = lines.filter((l) => l.fault === 2);
      for (const l of auth) expect(l.line).toMatch(/sshd\[\d+\]: Failed password for .+ from [\d.]+ port \d+ ssh2$/);
    });

    it('new-event: an event type normal traffic never has, only in its window', () => {
      const f = m.faults[3]!;
      expect(f.eventTypes).toEqual(['PLATFORM-PS_FAIL']);
      expect(m.normalEventTypes().has('PLATFORM-PS_FAIL')).toBe(false);
      const withIt = lines.filter((l) => l.line.includes('%PLATFORM-2-PS_FAIL'));
      expect(withIt.length).toBeGreaterThan(20);
      for (const l of withIt) expect(l.fault).toBe(3);
    });

    it('takes a named device, a device index, a source, and faults on every OS', () => {
      const names = model({ devices: 11 }).devices;
      for (const d of names) {
        const mm = model({
          devices: 11,
          baseRate: 10,
          faults: [
            { kind: 'link-flap', at: '0s', duration: '1h', device: d.name, rate: 10 },
            { kind: 'port-scan', at: '0s', duration: '1h', device: d.index, rate: 10, source: '203.0.113.201' },
            { kind: 'auth-storm', at: '0s', duration: '1h', device: d.name, rate: 10, source: '198.51.100.222' },
            { kind: 'new-event', at: '0s', duration: '1h', device: d.name, rate: 10 },
          ],
        });
        const normal = mm.normalEventTypes();
        const kinds = new Set<number>();
        for (let i = 0; i < 400; i++) {
          const line = mm.line(i);
          const k = mm.faultOf(i);
          if (k < 0) continue;
          kinds.add(k);
          expect(mm.peer).toBe(d.peer);
          expect(line, line).toContain(d.name);
          if (k === 1) expect(line).toContain('203.0.113.201');
          if (k === 2) expect(line).toContain('198.51.100.222');
        }
        expect(kinds.size, d.name).toBe(4);
        for (const t of mm.faults[3]!.eventTypes) expect(normal.has(t), `${d.os} ${t}`).toBe(false);
      }
    });
  });

  it('rejects bad options with an error naming the option', () => {
    const bad = (o: DeviceSyslogOptions): DeviceSyslogConfigError => {
      try {
        model(o);
      } catch (e) {
        expect(e).toBeInstanceOf(DeviceSyslogConfigError);
        return e as DeviceSyslogConfigError;
      }
      throw new Error('no error');
    };
    expect(bad({ faults: [{ kind: 'meltdown' as never, at: '1s', duration: '1s' }] }).path).toBe('faults[0].kind');
    expect(bad({ faults: [{ kind: 'link-flap', at: 'soon', duration: '1s' }] }).path).toBe('faults[0].at');
    expect(bad({ faults: [{ kind: 'link-flap', at: '1s', duration: '1s', device: 'sw-nope-01' }] }).message).toMatch(/no device "sw-nope-01".*sw-core-01/);
    expect(bad({ faults: [{ kind: 'link-flap', at: '1s', duration: '1s', device: 99 }], devices: 10 }).path).toBe('faults[0].device');
    expect(bad({ faults: [{ kind: 'port-scan', at: '1s', duration: '1s', source: 'evil' }] }).path).toBe('faults[0].source');
    expect(bad({ faults: [{ kind: 'port-scan', at: '1s', duration: '1s', colour: 'red' } as never] }).path).toBe('faults[0].colour');
    expect(bad({ rateSteps: [{ at: '1s', factor: 0 }] }).path).toBe('rateSteps[0].factor');
    expect(bad({ start: 'yesterday' }).path).toBe('start');
  });
});
