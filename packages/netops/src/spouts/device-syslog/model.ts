/**
 * `DeviceSyslogModel`: line i of a task as a pure function of (seed, task index, i) and the
 * schedule (rate, steps, faults), usable without the engine. The spout paces and emits it; tests
 * and benchmarks call it directly.
 *
 * Speed: a line is three flat pieces joined (four for RFC 5424, whose milliseconds are a piece of
 * their own): the header (PRI and timestamp, cached per template for the simulated second), the
 * tag (hostname, program, pid or sequence number; 8 per device and template) and the body (1024
 * per template and device kind, or per fault). Pools are built lazily, once per seed and device
 * count in a thread, and shared by every task and model of that network.
 */
import { fmix32 } from '@qitian/api';
import {
  type BodyArgs,
  type FaultArgs,
  type Role,
  type Template,
  TEMPLATES,
  TS_ASA,
  TS_BSD,
  TS_H3C,
  TS_HUAWEI,
  TS_ISO,
  tagOf,
  templatesFor,
  templatesWithRole,
} from './catalog.js';
import { buildDevices, type Device, type DeviceKind, GOLDEN, mix, Population, Rng } from './network.js';
import { DeviceSyslogConfigError, type DeviceSyslogOptions, type FaultKind, type ResolvedOptions, resolveOptions } from './options.js';
import { Schedule } from './schedule.js';

/** Mixes a seed and a task index into the key every line of that task starts from. */
function streamKey(seed: number, taskIndex: number): number {
  return fmix32((fmix32(seed ^ 0x3c6ef372) + Math.imul(taskIndex + 1, GOLDEN)) | 0);
}

/** The first random word of line `i` (any i up to 2^53). */
function lineHash(key: number, i: number): number {
  const lo = i >>> 0;
  const hi = (i / 4294967296) >>> 0;
  return fmix32(key ^ fmix32((Math.imul(lo, 0xcc9e2d51) + Math.imul(hi ^ 0x1b873593, 0x85ebca77)) | 0));
}

/** A flat copy of a string built from pieces, so that using it later costs no flattening. */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

const MONTH = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TWO: string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));
const DAY_SP: string[] = Array.from({ length: 32 }, (_, i) => (i < 10 ? ` ${i}` : `${i}`));
/** `.mmmZ ` for RFC 5424 timestamps. */
const MS_Z: string[] = Array.from({ length: 1000 }, (_, i) => `.${String(i).padStart(3, '0')}Z `);
const KIND_INDEX: Record<DeviceKind, number> = { 'core-switch': 0, 'access-switch': 1, router: 2, firewall: 3, server: 4 };
const KINDS = 5;
const TAGS = 8;
const BODIES = 1024;
const DEVICE_SLOTS = 16384;
const TEMPLATE_SLOTS = 1024;
/** Offsets like 799 x 29.999999999999996 ms are 23970 ms. */
const ROUNDING = 1e-6;

/** The network of one (seed, device count): devices, populations, traffic tables and pools. */
class Network {
  readonly devices: readonly Device[];
  readonly population: Population;
  /** Device index per slot, drawn in proportion to device weights. */
  readonly deviceSlots = new Uint16Array(DEVICE_SLOTS);
  /** Per device, template id per slot, drawn in proportion to template weights. */
  readonly templateSlots: Uint16Array[];
  readonly peers: string[];
  readonly kindOf: Uint8Array;
  /** A device per (kind, OS), whose interfaces stand for all of them in bodies. */
  private readonly representative = new Map<string, Device>();
  private readonly tags: (string[] | undefined)[];
  private readonly bodies: (string[] | undefined)[];

  constructor(
    readonly seed: number,
    count: number,
  ) {
    const devices = buildDevices(seed, count);
    this.devices = devices;
    this.population = new Population(seed);
    this.peers = devices.map((d) => d.peer);
    this.kindOf = Uint8Array.from(devices, (d) => KIND_INDEX[d.kind]);
    fillSlots(
      this.deviceSlots,
      devices.map((d) => d.weight),
      (k) => k,
    );
    this.templateSlots = devices.map((d) => {
      const ts = templatesFor(d);
      const slots = new Uint16Array(TEMPLATE_SLOTS);
      fillSlots(
        slots,
        ts.map((x) => x.w),
        (k) => ts[k]!.t.id,
      );
      return slots;
    });
    for (const d of devices) {
      const key = `${d.kind}/${d.os}/${d.rfc5424}`;
      if (!this.representative.has(key)) this.representative.set(key, d);
    }
    this.tags = new Array(devices.length * TEMPLATES.length);
    this.bodies = new Array(KINDS * TEMPLATES.length);
  }

  tagsOf(device: number, tid: number): string[] {
    const k = device * TEMPLATES.length + tid;
    let pool = this.tags[k];
    if (pool === undefined) {
      const r = new Rng(mix(this.seed, 1, device, tid));
      const d = this.devices[device]!;
      const t = TEMPLATES[tid]!;
      pool = [];
      for (let j = 0; j < TAGS; j++) pool.push(flat(tagOf(t, d, r)));
      this.tags[k] = pool;
    }
    return pool;
  }

  bodiesOf(device: number, tid: number): string[] {
    const kind = this.kindOf[device]!;
    const k = kind * TEMPLATES.length + tid;
    let pool = this.bodies[k];
    if (pool === undefined) {
      const d = this.devices[device]!;
      const rep = this.representative.get(`${d.kind}/${d.os}/${d.rfc5424}`)!;
      const r = new Rng(mix(this.seed, 2, kind, tid));
      const args: BodyArgs = { r, p: this.population, d: rep, f: undefined };
      const body = TEMPLATES[tid]!.body;
      pool = [];
      for (let j = 0; j < BODIES; j++) pool.push(flat(body(args)));
      this.bodies[k] = pool;
    }
    return pool;
  }
}

/** Fills `slots` with `value(k)` in proportion to `weights[k]`, every k with a weight getting at least one slot. */
function fillSlots(slots: Uint16Array, weights: readonly number[], value: (k: number) => number): void {
  let total = 0;
  for (const w of weights) total += w;
  const n = slots.length;
  const counts = weights.map((w) => Math.max(1, Math.floor((w / total) * n)));
  let used = counts.reduce((a, b) => a + b, 0);
  // Give back (from the largest) or hand out (to the largest) what rounding left over.
  const order = weights.map((_, k) => k).sort((a, b) => weights[b]! - weights[a]!);
  for (let j = 0; used > n; j = (j + 1) % order.length) {
    const k = order[j]!;
    if (counts[k]! > 1) {
      counts[k]!--;
      used--;
    }
  }
  for (let j = 0; used < n; j = (j + 1) % order.length) {
    counts[order[j]!]!++;
    used++;
  }
  let at = 0;
  for (let k = 0; k < counts.length; k++) for (let c = 0; c < counts[k]!; c++) slots[at++] = value(k);
}

const networks = new Map<string, Network>();

function networkFor(seed: number, devices: number): Network {
  const key = `${seed}/${devices}`;
  let n = networks.get(key);
  if (!n) {
    if (networks.size >= 8) networks.clear();
    n = new Network(seed, devices);
    networks.set(key, n);
  }
  return n;
}

/** The first template the device's kind logs in normal traffic (a router's filter log rather than a firewall's session deny), else the first. */
function preferred(ts: readonly Template[], d: Device): Template {
  return ts.find((t) => (t.weights[d.kind] ?? 0) > 0) ?? ts[0]!;
}

/** A fault as the model runs it. */
export interface Fault {
  readonly kind: FaultKind;
  /** Start, simulated ms after `start`. */
  readonly at: number;
  readonly duration: number;
  /** Lines per simulated second. */
  readonly rate: number;
  readonly device: Device;
  /** Attacking addresses (port-scan, auth-storm); empty for the others. */
  readonly sources: readonly string[];
  /** Scanned hosts (port-scan). */
  readonly targets: readonly string[];
  /** The flapping interface (link-flap). */
  readonly iface: string | undefined;
  /** The event types its lines have (for a new-event, types normal traffic never has). */
  readonly eventTypes: readonly string[];
}

/** The lines of one fault: variants taken in turn (link-flap down/up) or at random. */
interface FaultLines {
  readonly tids: Uint16Array;
  /** Per variant: tags and bodies. */
  readonly tags: string[][];
  readonly bodies: string[][];
  readonly sequential: boolean;
}

/** Default fault rates, as a share of the base density (lines per simulated second), at least 0.5/s. */
const DEFAULT_SHARE: Record<FaultKind, number> = { 'link-flap': 0.01, 'port-scan': 0.1, 'auth-storm': 0.05, 'new-event': 0.005 };
/** Which kinds of device a fault picks when none is named, in order of preference. */
const DEFAULT_DEVICE: Record<FaultKind, readonly DeviceKind[]> = {
  'link-flap': ['access-switch', 'core-switch', 'router'],
  'port-scan': ['firewall', 'router', 'core-switch'],
  'auth-storm': ['server', 'router', 'core-switch'],
  'new-event': ['core-switch', 'router', 'access-switch'],
};
/** Attackers come from .200-.254 of the documentation ranges, which normal traffic never uses. */
const ATTACKER_NETS = ['203.0.113.', '198.51.100.', '192.0.2.'];

/**
 * The seeded model of a network's syslog traffic. `line(i)` makes line i of this task and leaves
 * its peer and time in `peer` and `time`; the same (options, task index, i) always gives the same line.
 */
export class DeviceSyslogModel {
  readonly options: ResolvedOptions;
  readonly taskIndex: number;
  readonly schedule: Schedule;
  /** The simulated start, ms since the epoch. */
  readonly startMs: number;
  readonly faults: readonly Fault[];
  /** The peer (`address:514`) of the last line made. */
  peer = '';
  /** The simulated time (ms since the epoch) of the last line made: the `receivedAt` field. */
  time = 0;
  /** Lines made per fault, by fault index (the spout counts them per batch). */
  readonly faultLines: Float64Array;

  private readonly net: Network;
  private readonly key: number;
  private readonly faultRuns: FaultLines[];
  private readonly heads: string[];
  private readonly headSec: Float64Array;
  private sec = Number.NaN;
  private readonly stamps: string[] = ['', '', '', '', ''];

  constructor(options: DeviceSyslogOptions = {}, taskIndex = 0) {
    const o = resolveOptions(options);
    this.options = o;
    this.taskIndex = taskIndex;
    this.startMs = o.startMs;
    this.net = networkFor(o.seed, o.devices);
    this.key = streamKey(o.seed, taskIndex);
    const base = o.rate > 0 ? o.rate / o.speedup : o.baseRate;
    const faults: Fault[] = [];
    this.faultRuns = [];
    o.faults.forEach((f, k) => {
      const r = new Rng(mix(o.seed, 3, k));
      const device = this.faultDevice(f.kind, f.device, k);
      const rate = f.rate ?? Math.max(0.5, base * DEFAULT_SHARE[f.kind]);
      const [fault, lines] = this.buildFault(f.kind, f.at, f.duration, rate, device, f.source, r);
      faults.push(fault);
      this.faultRuns.push(lines);
    });
    this.faults = faults;
    this.faultLines = new Float64Array(faults.length);
    this.schedule = new Schedule(base, o.rateSteps, faults);
    this.heads = new Array(TEMPLATES.length).fill('');
    this.headSec = new Float64Array(TEMPLATES.length).fill(Number.NaN);
  }

  /** The devices of the network. */
  get devices(): readonly Device[] {
    return this.net.devices;
  }

  /** Line `i` of this task; its peer and time are left in `peer` and `time`. */
  line(i: number): string {
    const seg = this.schedule.segmentOf(i);
    const off = seg.t0 + (i - seg.n0) * seg.msPerLine;
    const ms = this.startMs + Math.floor(off + ROUNDING);
    this.time = ms;
    const sec = Math.floor(ms / 1000);
    if (sec !== this.sec) this.setSecond(sec);
    const r1 = lineHash(this.key, i);
    const r2 = fmix32(r1 ^ 0x85ebca6b);
    if (seg.faults.length !== 0) {
      const u = r2 >>> 16;
      const th = seg.thresholds;
      if (u >= th[0]!) {
        let k = 1;
        while (u >= th[k]!) k++;
        return this.faultLine(seg.faults[k - 1]!, off, ms, sec, r1, r2);
      }
    }
    const net = this.net;
    const dev = net.deviceSlots[r1 & (DEVICE_SLOTS - 1)]!;
    const tid = net.templateSlots[dev]![(r1 >>> 14) & (TEMPLATE_SLOTS - 1)]!;
    this.peer = net.peers[dev]!;
    const head = this.headSec[tid] === sec ? this.heads[tid]! : this.head(tid, sec);
    const tag = net.tagsOf(dev, tid)[(r1 >>> 24) & (TAGS - 1)]!;
    const body = net.bodiesOf(dev, tid)[r2 & (BODIES - 1)]!;
    if (TEMPLATES[tid]!.ts === TS_ISO) return head + MS_Z[ms - sec * 1000]! + tag + body;
    return head + tag + body;
  }

  /** The line, peer and time of line `i`, as the spout emits them. */
  values(i: number): [string, string, number] {
    const line = this.line(i);
    return [line, this.peer, this.time];
  }

  /** Lines `from` .. `from + n - 1`. */
  lines(n: number, from = 0): string[] {
    const out = new Array<string>(n);
    for (let k = 0; k < n; k++) out[k] = this.line(from + k);
    return out;
  }

  /** The simulated time of line `i`, ms since the epoch. */
  timeOf(i: number): number {
    return this.startMs + Math.floor(this.schedule.offsetOf(i) + ROUNDING);
  }

  /** Which fault line `i` belongs to (its index in `faults`), or -1 for normal traffic. */
  faultOf(i: number): number {
    const seg = this.schedule.segmentOf(i);
    if (seg.faults.length === 0) return -1;
    const u = fmix32(lineHash(this.key, i) ^ 0x85ebca6b) >>> 16;
    const th = seg.thresholds;
    if (u < th[0]!) return -1;
    let k = 1;
    while (u >= th[k]!) k++;
    return seg.faults[k - 1]!;
  }

  /** Lines per simulated second at `offsetMs` after the start, normal traffic and faults together. */
  densityAt(offsetMs: number): number {
    return this.schedule.densityAt(offsetMs);
  }

  /** The template ids a device uses in normal traffic (for tests: a new-event's type is never among them). */
  normalEventTypes(): Set<string> {
    const out = new Set<string>();
    for (const d of this.net.devices) for (const x of templatesFor(d)) out.add(x.t.eventType);
    return out;
  }

  private faultLine(f: number, off: number, ms: number, sec: number, r1: number, r2: number): string {
    const fault = this.faults[f]!;
    const run = this.faultRuns[f]!;
    this.faultLines[f]!++;
    // The fault's own line number, from its elapsed time: link-flap goes down, up, down...; a scan sweeps ports.
    const k = Math.floor(((off - fault.at) * fault.rate) / 1000);
    const v = run.sequential ? k % run.tids.length : (r1 >>> 27) % run.tids.length;
    const tid = run.tids[v]!;
    this.peer = fault.device.peer;
    const head = this.headSec[tid] === sec ? this.heads[tid]! : this.head(tid, sec);
    const tag = run.tags[v]![(r1 >>> 24) & (TAGS - 1)]!;
    const bodies = run.bodies[v]!;
    const body = bodies[(fault.kind === 'port-scan' ? k : r2) & (bodies.length - 1)]!;
    if (TEMPLATES[tid]!.ts === TS_ISO) return head + MS_Z[ms - sec * 1000]! + tag + body;
    return head + tag + body;
  }

  private setSecond(sec: number): void {
    const d = new Date(sec * 1000);
    const mon = MONTH[d.getUTCMonth()]!;
    const day = d.getUTCDate();
    const year = d.getUTCFullYear();
    const hms = `${TWO[d.getUTCHours()]}:${TWO[d.getUTCMinutes()]}:${TWO[d.getUTCSeconds()]}`;
    this.stamps[TS_BSD] = `${mon} ${DAY_SP[day]} ${hms} `;
    this.stamps[TS_HUAWEI] = `${mon} ${DAY_SP[day]} ${year} ${hms} `;
    this.stamps[TS_ASA] = `${mon} ${TWO[day]} ${year} ${hms} `;
    this.stamps[TS_H3C] = `${mon} ${DAY_SP[day]} ${hms} ${year} `;
    this.stamps[TS_ISO] = `1 ${year}-${TWO[d.getUTCMonth() + 1]}-${TWO[day]}T${hms}`;
    this.sec = sec;
  }

  private head(tid: number, sec: number): string {
    const t = TEMPLATES[tid]!;
    const h = flat(`<${t.facility * 8 + t.severity}>${this.stamps[t.ts]}`);
    this.heads[tid] = h;
    this.headSec[tid] = sec;
    return h;
  }

  private faultDevice(kind: FaultKind, want: string | number | undefined, k: number): Device {
    const devices = this.net.devices;
    if (typeof want === 'number') {
      const d = devices[want];
      if (!d)
        throw new DeviceSyslogConfigError(
          `faults[${k}].device`,
          `device index ${want} is out of range: the network has ${devices.length} devices (0..${devices.length - 1})`,
        );
      return d;
    }
    if (typeof want === 'string') {
      const d = devices.find((x) => x.name === want);
      if (!d)
        throw new DeviceSyslogConfigError(
          `faults[${k}].device`,
          `no device "${want}"; the network has ${devices
            .slice(0, 12)
            .map((x) => x.name)
            .join(', ')}${devices.length > 12 ? '...' : ''}`,
        );
      return d;
    }
    for (const kind2 of DEFAULT_DEVICE[kind]) {
      const d = devices.find((x) => x.kind === kind2);
      if (d) return d;
    }
    return devices[0]!;
  }

  private buildFault(kind: FaultKind, at: number, duration: number, rate: number, device: Device, source: string | undefined, r: Rng): [Fault, FaultLines] {
    const p = this.net.population;
    let roles: Role[][];
    let sources: string[] = [];
    let targets: string[] = [];
    let iface: string | undefined;
    const attacker = (): string => `${r.pick(ATTACKER_NETS)}${200 + r.below(55)}`;
    switch (kind) {
      case 'link-flap': {
        iface = r.pick(device.interfaces);
        const updown = templatesWithRole(device, 'updown');
        roles =
          updown.length > 0
            ? [
                ['updown', 'down'],
                ['updown', 'up'],
              ]
            : [['down'], ['up']];
        break;
      }
      case 'port-scan':
        sources = [source ?? attacker()];
        targets = [p.internalHost(r), p.internalHost(r)];
        roles = [['scan']];
        break;
      case 'auth-storm':
        sources = source ? [source] : [attacker(), attacker(), attacker()];
        roles = [['authfail']];
        break;
      default:
        roles = [['new']];
    }
    const tids: number[] = [];
    const tags: string[][] = [];
    const bodies: string[][] = [];
    const addVariant = (t: Template, f: FaultArgs | ((j: number) => FaultArgs), n: number): void => {
      tids.push(t.id);
      const tr = new Rng(mix(r.next(), 4));
      const tg: string[] = [];
      for (let j = 0; j < TAGS; j++) tg.push(flat(tagOf(t, device, tr)));
      tags.push(tg);
      const bs: string[] = [];
      for (let j = 0; j < n; j++) bs.push(flat(t.body({ r: tr, p, d: device, f: typeof f === 'function' ? f(j) : f })));
      bodies.push(bs);
    };
    if (kind === 'link-flap') {
      // Down (each template of the OS that reports it), then up: Cisco's LINK and LINEPROTO, H3C's PHY and LINK.
      for (const [state, rs] of [
        ['down', roles[0]!],
        ['up', roles[1]!],
      ] as const) {
        const ts = templatesWithRole(device, ...rs).filter((t) => t.role === 'updown' || t.role === state);
        for (const t of ts) addVariant(t, { iface, state }, 1);
      }
    } else if (kind === 'port-scan') {
      const t = preferred(templatesWithRole(device, 'scan'), device);
      // 1024 bodies sweep ports 1..1024, two targets in turn; a line's port follows the fault's elapsed time.
      const base = 1 + r.below(64);
      addVariant(t, (j) => ({ source: sources[0], target: targets[j & 1], port: ((base + j - 1) % 1024) + 1 }), 1024);
    } else if (kind === 'auth-storm') {
      const t = preferred(templatesWithRole(device, 'authfail'), device);
      addVariant(t, (j) => ({ source: sources[j % sources.length] }), 256);
    } else {
      const t = templatesWithRole(device, 'new')[0]!;
      addVariant(t, {}, 64);
    }
    const eventTypes = [...new Set(tids.map((t) => TEMPLATES[t]!.eventType))];
    return [
      { kind, at, duration, rate, device, sources, targets, iface, eventTypes },
      { tids: Uint16Array.from(tids), tags, bodies, sequential: kind === 'link-flap' },
    ];
  }
}
