import { validateConfig } from '@qitian/api';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RAW_FIELDS } from '../../syslog/event.js';
import { configFor, driveSpout, openSpout } from '../../testkit.js';
import { DeviceSyslogConfigError, DeviceSyslogModel, type DeviceSyslogSpout, deviceSyslogSpout } from './index.js';

const START = '2024-03-01T08:00:00Z';
const START_MS = Date.parse(START);

describe('device-syslog spout', () => {
  it('declares the raw syslog fields on default', () => {
    expect(deviceSyslogSpout.outputs?.(configFor(deviceSyslogSpout, {}))).toEqual({ default: [...RAW_FIELDS] });
  });

  it('every spec example is a valid config the spout accepts', () => {
    for (const ex of deviceSyslogSpout.spec.examples ?? []) {
      const entry = parse(ex.yaml) as { type: string; config: unknown };
      expect(entry.type).toBe('device-syslog');
      const { issues } = validateConfig(deviceSyslogSpout.spec.fields, entry.config);
      expect(issues, ex.title).toEqual([]);
      expect(() => deviceSyslogSpout.create(configFor(deviceSyslogSpout, entry.config))).not.toThrow();
    }
  });

  it('rejects a bad fault when the topology is built, naming it', () => {
    expect(() => deviceSyslogSpout.create(configFor(deviceSyslogSpout, { faults: [{ kind: 'link-flap', at: '1s', duration: '1s', device: 'nope' }] }))).toThrow(
      DeviceSyslogConfigError,
    );
    expect(() => deviceSyslogSpout.create(configFor(deviceSyslogSpout, { rateSteps: [{ at: 3, factor: 2 }] }))).not.toThrow(); // ms, for code
    expect(() => deviceSyslogSpout.create(configFor(deviceSyslogSpout, { rateSteps: [{ at: 'later', factor: 2 }] }))).toThrow(/rateSteps\[0\]\.at/);
  });

  it('unpaced, fills every next(max) with the model’s lines, peers and simulated times', async () => {
    const raw = { rate: 0, start: START, seed: 4, baseRate: 500 };
    const h = await openSpout(deviceSyslogSpout, raw, { taskIndex: 2 });
    expect(h.spout.next(777)).toBe('more');
    expect(h.spout.next(223)).toBe('more');
    expect(h.collector.emits).toHaveLength(1000);
    expect(h.collector.emits.every((e) => e.messageId === undefined && e.stream === 'default' && e.values.length === 3)).toBe(true);
    const m = new DeviceSyslogModel({ rate: 0, start: START, seed: 4, baseRate: 500 }, 2);
    for (const i of [0, 1, 500, 999]) expect(h.collector.emits[i]!.values).toEqual(m.values(i));
    expect(h.collector.emits[999]!.values[2]).toBe(START_MS + 1998);
    expect(h.collector.emits[0]!.values[1]).toMatch(/^10\.0\.\d+\.\d+:514$/);
    h.spout.close?.();
  });

  it('ends after count lines', async () => {
    const h = await openSpout(deviceSyslogSpout, { rate: 0, count: 250 });
    expect(h.spout.next(100)).toBe('more');
    expect(h.spout.next(100)).toBe('more');
    expect(h.spout.next(100)).toBe('end');
    expect(h.spout.next(100)).toBe('end');
    expect(h.collector.emits).toHaveLength(250);
  });

  it('uses line numbers as message ids and re-emits a failed line, regenerated, before new ones', async () => {
    const h = await openSpout(deviceSyslogSpout, { rate: 0, count: 10, start: START }, { reliable: true });
    expect(h.spout.next(4)).toBe('more');
    expect(h.collector.emits.map((e) => e.messageId)).toEqual([0, 1, 2, 3]);
    const original = h.collector.emits.slice(0, 4).map((e) => e.values);
    h.spout.ack!(0);
    h.spout.fail!(2);
    h.spout.fail!(1);
    h.spout.fail!(0); // already acked: ignored
    expect(h.spout.next(3)).toBe('more');
    const model = (h.spout as DeviceSyslogSpout).lines;
    expect(h.collector.emits.slice(4).map((e) => [e.values, e.messageId])).toEqual([
      [original[2], 2],
      [original[1], 1],
      [model.values(4), 4],
    ]);
    expect(h.spout.next(100)).toBe('end');
    h.spout.fail!(9);
    expect(h.spout.next(100)).toBe('end');
    expect(h.collector.emits.at(-1)?.messageId).toBe(9);
  });

  it('checkpoints the lowest unacked line and the simulated start, and resumes on the same timeline', async () => {
    const h = await openSpout(deviceSyslogSpout, { rate: 0 }, { reliable: true }); // start: now
    h.spout.next(100);
    for (let i = 0; i < 100; i++) if (i !== 40) h.spout.ack!(i);
    await new Promise((r) => setTimeout(r, 150));
    const startMs = (h.spout as DeviceSyslogSpout).lines.startMs;
    expect(h.context.lastCheckpoint).toEqual({ next: 40, start: startMs });
    expect(h.context.checkpoints.length).toBe(1);
    h.spout.ack!(40);
    h.spout.close!();
    expect(h.context.lastCheckpoint).toEqual({ next: 100, start: startMs });

    await new Promise((r) => setTimeout(r, 5)); // "now" has moved on; the restored start has not
    const again = await openSpout(deviceSyslogSpout, { rate: 0 }, { reliable: true, restoredCheckpoint: { next: 40, start: startMs } });
    again.spout.next(3);
    expect(again.collector.emits.map((e) => [e.values, e.messageId])).toEqual([40, 41, 42].map((i) => [h.collector.emits[i]!.values, i]));
    again.spout.close?.();

    const confused = await openSpout(deviceSyslogSpout, { rate: 0 }, { restoredCheckpoint: { offset: 3 } });
    confused.spout.next(1);
    expect(confused.context.logger.records.some((r) => r.level === 'warn')).toBe(true);
    expect((confused.spout as DeviceSyslogSpout).nextSeq).toBe(1);
  });

  it('paces at rate lines per real second, returning idle when ahead and waking when lines are due', async () => {
    const h = await openSpout(deviceSyslogSpout, { rate: 2000, speedup: 60, start: START });
    const t0 = performance.now();
    let idles = 0;
    while (performance.now() - t0 < 400) {
      const s = h.spout.next(1000);
      if (s === 'idle') {
        idles++;
        await h.context.waitForWake(100);
      } else await new Promise((r) => setImmediate(r));
    }
    const elapsed = performance.now() - t0;
    const n = h.collector.emits.length;
    expect(idles).toBeGreaterThan(0);
    expect(h.context.wakes).toBeGreaterThan(0);
    expect(n).toBeGreaterThan(elapsed * 2 * 0.5);
    expect(n).toBeLessThan(elapsed * 2 * 1.1 + 120);
    // The simulated clock runs 60 times faster: 2000 lines per real second are 2000/60 per simulated second.
    const last = h.collector.emits.at(-1)!.values[2] as number;
    expect(last - START_MS).toBe((n - 1) * 30);
    h.spout.close?.();
  });

  it('steps the rate: five times the lines per real second after the step', async () => {
    const h = await openSpout(deviceSyslogSpout, { rate: 500, start: START, rateSteps: [{ at: '200ms', factor: 5 }] });
    const t0 = performance.now();
    const simulated = (): number => ((h.collector.emits.at(-1)?.values[2] as number | undefined) ?? START_MS) - START_MS;
    expect(await driveSpout(h, { max: 1000, until: () => simulated() >= 400, idleWaitMs: 5, timeoutMs: 3000 })).not.toBe('timeout');
    const times = h.collector.emits.map((e) => (e.values[2] as number) - START_MS);
    // By the schedule: 100 lines in the first 200 ms, then 2500 per second.
    expect(times.filter((t) => t < 200).length).toBe(100);
    const after = times.filter((t) => t >= 200 && t < 400).length;
    expect(after).toBe(500);
    // And they went out in real time: 400 simulated ms took about 400 real ms.
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThan(390);
    expect(elapsed).toBeLessThan(1500);
    h.spout.close?.();
  });

  it('counts fault lines per batch, by kind', async () => {
    const h = await openSpout(deviceSyslogSpout, {
      rate: 0,
      baseRate: 100,
      start: START,
      faults: [
        { kind: 'port-scan', at: '0s', duration: '1m', rate: 100 },
        { kind: 'auth-storm', at: '5s', duration: '1m', rate: 20 },
      ],
    });
    h.spout.next(1000);
    h.spout.next(1000);
    const calls = h.context.countCalls.filter((c) => c.name === 'fault_lines');
    expect(calls.length).toBeLessThanOrEqual(4);
    const scans = h.context.counted('fault_lines', 'port-scan');
    const auth = h.context.counted('fault_lines', 'auth-storm');
    const model = (h.spout as DeviceSyslogSpout).lines;
    let expectScan = 0;
    let expectAuth = 0;
    for (let i = 0; i < 2000; i++) {
      const f = model.faultOf(i);
      if (f === 0) expectScan++;
      if (f === 1) expectAuth++;
    }
    expect(scans).toBe(expectScan);
    expect(auth).toBe(expectAuth);
    expect(scans).toBeGreaterThan(500);
    expect(auth).toBeGreaterThan(50);
  });
});
