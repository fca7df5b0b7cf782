/**
 * The plain single-threaded loop of the syslog benchmark: the work of bench/syslog/pipeline.yaml
 * (parse, route by severity, Top-N in five dimensions, per-host clustering, alert strategies,
 * counting sinks) written as one loop over the events, with the components' own classes and
 * functions (SyslogParser, resolveGroups, resolveDimensions, ExactCounter, RankMerge, assign,
 * parseStrategies) and the configs the topology's loader validated, so that both sides do the
 * same work per event. What the bolts' classes keep private (windows, watermarks, the alert
 * counters and suppression) is written out here with the same rules.
 */
import {
  type AlertBoltConfig,
  assign,
  type ClusterBoltConfig,
  type ClusterModel,
  COUNTED,
  countInWindow,
  earlierThreshold,
  LATE,
  ExactCounter,
  emptyModel,
  type FeatureVector,
  KEY_SEPARATOR,
  type PriorityRouteConfig,
  parseStrategies,
  RankMerge,
  resolveDimensions,
  resolveGroups,
  SEVERITY_NAMES,
  type Strategy,
  type SyslogEvent,
  type SyslogParseConfig,
  SyslogParser,
  SyslogReject,
  type TopNConfig,
  type WindowCount,
} from '@qitian/netops';

/** The validated configs of the topology's components, by component id. */
export type Configs = Readonly<Record<string, Record<string, unknown>>>;

/** What one run counted; the engine's run reports the same figures from its counters. */
export interface Counted {
  events: number;
  stored: Record<string, number>;
  alerts: Record<string, number>;
  rankings: Record<string, number>;
  ranked: Record<string, number>;
  windows: number;
  late: number;
}

const NONE = '(none)';
const OTHER = '(other)';
/** A missing part of a Top-N key of several fields (topn.ts). */
const MISSING_PART = '-';

function keyString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return NONE;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function windowStartOf(time: number, size: number): number {
  const r = time % size;
  return r >= 0 ? time - r : time - r - size;
}

type Getter = (e: SyslogEvent) => unknown;
/** Reads an event field by name (raw and peer are not on SyslogEvent: they are the line and peer). */
function getter(field: string): Getter {
  return new Function('e', `return e.${field};`) as Getter;
}

interface Dim {
  readonly name: string;
  readonly get: readonly Getter[];
  readonly n: number;
}

interface TopWin {
  readonly start: number;
  readonly counters: ExactCounter[];
}

interface ClusterWin {
  readonly start: number;
  total: number;
  readonly counts: Record<string, number>[];
}

interface HostState {
  readonly model: ClusterModel;
  readonly open: ClusterWin[];
  closedUpTo: number;
}

interface CountPlan {
  readonly s: Strategy & { kind: 'threshold' | 'rate-of-change' };
  readonly where: readonly { get: Getter; test: (v: unknown) => boolean }[];
  readonly by: readonly Getter[];
}

export class PlainPipeline {
  private readonly parser: SyslogParser;
  // route
  private readonly urgent: boolean[] = new Array<boolean>(8).fill(false);
  private readonly store: boolean[] = new Array<boolean>(8).fill(false);
  private readonly stored = new Float64Array(8);
  // topn
  private readonly dims: Dim[];
  private readonly topSize: number;
  private readonly topLateness: number;
  private readonly separator: string;
  private readonly topOpen = new Map<number, TopWin>();
  private topMax = Number.NEGATIVE_INFINITY;
  private topWm = Number.NEGATIVE_INFINITY;
  /** The earliest end of an open window: nothing closes before the watermark reaches it. */
  private topFirstEnd = Number.POSITIVE_INFINITY;
  private readonly keys: (string | null)[];
  // cluster
  private readonly cluster: ClusterBoltConfig;
  private readonly clusterKey: Getter;
  private readonly features: readonly ((e: SyslogEvent) => string)[];
  private readonly featureNames: readonly string[];
  private readonly maxDistinct: number;
  private readonly hosts = new Map<string, HostState>();
  private clusterMax = Number.NEGATIVE_INFINITY;
  private checkedWindow = Number.NEGATIVE_INFINITY;
  // alert
  private readonly alert: AlertBoltConfig;
  private readonly fromParse: CountPlan[];
  private readonly fromRoute: CountPlan[];
  private readonly newCluster: (Strategy & { kind: 'new-cluster' })[];
  private readonly counters: Map<string, WindowCount>[];
  private readonly swept: number[];
  private readonly lastFired = new Map<string, number>();
  private readonly maxSuppress: number;
  private sweepFiredAt = 10_000;
  // results
  readonly counted: Counted = { events: 0, stored: {}, alerts: {}, rankings: {}, ranked: {}, windows: 0, late: 0 };

  constructor(configs: Configs) {
    const parse = configs.parse as unknown as SyslogParseConfig;
    this.parser = new SyslogParser({ strict: parse.strict, timezone: parse.timezone });

    for (const [name, severities] of resolveGroups((configs.route as unknown as PriorityRouteConfig).groups)) {
      for (const s of severities) (name === 'urgent' ? this.urgent : this.store)[s] = true;
    }

    const topn = configs.topn as unknown as TopNConfig;
    if (topn.slide !== undefined && topn.slide !== topn.window) throw new Error('the plain loop does tumbling Top-N windows only');
    this.dims = resolveDimensions(topn).map((d) => ({ name: d.name, get: d.fields.map(getter), n: d.n }));
    this.topSize = topn.window;
    this.topLateness = topn.allowedLateness;
    this.separator = (configs['topn-merge'] as unknown as TopNConfig).separator;
    this.keys = new Array<string | null>(this.dims.length).fill(null);

    this.cluster = configs.behaviour as unknown as ClusterBoltConfig;
    this.clusterKey = getter(this.cluster.keyBy ?? 'host');
    this.featureNames = this.cluster.features;
    this.features = this.cluster.features.map((f) => {
      const get = getter(f);
      if (f === 'severity') return (e: SyslogEvent) => SEVERITY_NAMES[e.severity] ?? keyString(e.severity);
      return (e: SyslogEvent) => keyString(get(e));
    });
    this.maxDistinct = this.cluster.maxFeatures > 0 ? this.cluster.maxFeatures * 10 : Number.POSITIVE_INFINITY;

    this.alert = configs.alerts as unknown as AlertBoltConfig;
    const strategies = parseStrategies(this.alert.strategies, this.alert.suppress);
    const plan = (s: Strategy): CountPlan => {
      if (s.kind !== 'threshold' && s.kind !== 'rate-of-change') throw new Error('not a count strategy');
      return { s, where: s.where.map((w) => ({ get: getter(w.field), test: w.test })), by: s.by.map(getter) };
    };
    const count = strategies.filter((s) => s.kind === 'threshold' || s.kind === 'rate-of-change');
    if (strategies.some((s) => s.kind === 'rate-of-change' || s.kind === 'topn-entry'))
      throw new Error('the plain loop does threshold and new-cluster strategies only');
    this.fromParse = count.filter((s) => s.from === undefined || s.from === 'parse').map(plan);
    this.fromRoute = count.filter((s) => s.from === undefined || s.from === 'route').map(plan);
    this.newCluster = strategies.filter((s): s is Strategy & { kind: 'new-cluster' } => s.kind === 'new-cluster');
    this.counters = strategies.map(() => new Map());
    this.swept = strategies.map(() => Number.NEGATIVE_INFINITY);
    this.maxSuppress = Math.max(0, ...strategies.map((s) => s.suppress));
  }

  /** One raw message through the whole pipeline. */
  add(line: string, peer: string | null, receivedAt: number | null): void {
    const e = this.parser.parse(line, receivedAt, peer);
    if (e instanceof SyslogReject) throw new Error(`rejected: ${e.message}`);
    this.counted.events++;
    const sev = e.severity;
    // route: store (counted, as the counting sink does) and urgent (to the alert strategies from route)
    if (this.store[sev]) this.stored[sev]!++;
    // alert strategies over parsed events; then over urgent ones, as they arrive from route
    this.countStrategies(this.fromParse, e);
    if (this.urgent[sev]) this.countStrategies(this.fromRoute, e);
    this.topn(e);
    this.clusterAdd(e);
  }

  /** The input has ended: every window closes. */
  finish(): Counted {
    this.topClose(Number.POSITIVE_INFINITY);
    this.clusterClose(Number.POSITIVE_INFINITY);
    const c = this.counted;
    for (let s = 0; s < 8; s++) if (this.stored[s]! > 0) c.stored[SEVERITY_NAMES[s]!] = this.stored[s]!;
    return c;
  }

  // --- Top-N: event-time tumbling windows, exact counters per dimension ---

  private topn(e: SyslogEvent): void {
    const time = e.time;
    if (time > this.topMax) {
      this.topMax = time;
      this.topWm = time - this.topLateness;
    }
    const size = this.topSize;
    const start = windowStartOf(time, size);
    if (start + size <= this.topWm) {
      this.counted.late++;
      return;
    }
    const dims = this.dims;
    const keys = this.keys;
    for (let d = 0; d < dims.length; d++) keys[d] = keyOf(dims[d]!.get, e);
    let w = this.topOpen.get(start);
    if (w === undefined) {
      w = { start, counters: dims.map(() => new ExactCounter()) };
      this.topOpen.set(start, w);
      if (start + size < this.topFirstEnd) this.topFirstEnd = start + size;
    }
    for (let d = 0; d < dims.length; d++) {
      const k = keys[d]!;
      if (k !== null) w.counters[d]!.add(k);
    }
    if (this.topWm >= this.topFirstEnd) this.topClose(this.topWm);
  }

  private topClose(until: number): void {
    if (this.topOpen.size === 0) return;
    let ready: TopWin[] | null = null;
    for (const w of this.topOpen.values()) if (w.start + this.topSize <= until) (ready ??= []).push(w);
    let first = Number.POSITIVE_INFINITY;
    for (const w of this.topOpen.values()) if (w.start + this.topSize > until && w.start + this.topSize < first) first = w.start + this.topSize;
    this.topFirstEnd = first;
    if (ready === null) return;
    ready.sort((a, b) => a.start - b.start);
    const c = this.counted;
    for (const w of ready) {
      this.topOpen.delete(w.start);
      for (let d = 0; d < this.dims.length; d++) {
        const dim = this.dims[d]!;
        const m = new RankMerge();
        m.add(w.counters[d]!.report(dim.n));
        const r = m.result(dim.n, true, this.separator);
        c.rankings[dim.name] = (c.rankings[dim.name] ?? 0) + 1;
        c.ranked[dim.name] = (c.ranked[dim.name] ?? 0) + r.total;
      }
    }
  }

  // --- clustering: per host, event-time tumbling windows of feature counts ---

  private clusterAdd(e: SyslogEvent): void {
    const size = this.cluster.window;
    const time = e.time;
    const start = windowStartOf(time, size);
    if (start + size <= this.clusterMax - this.cluster.lateness) {
      this.counted.late++;
      return;
    }
    const key = keyString(this.clusterKey(e));
    let s = this.hosts.get(key);
    if (s === undefined) {
      s = { model: emptyModel(), open: [], closedUpTo: Number.NEGATIVE_INFINITY };
      this.hosts.set(key, s);
    } else if (start < s.closedUpTo) {
      this.counted.late++;
      return;
    }
    const w = openWindow(s, start, this.features.length);
    w.total++;
    for (let f = 0; f < this.features.length; f++) {
      const name = this.features[f]!(e);
      const counts = w.counts[f]!;
      const n = counts[name];
      if (n !== undefined) counts[name] = n + 1;
      else if (name !== OTHER && Object.keys(counts).length >= this.maxDistinct) counts[OTHER] = (counts[OTHER] ?? 0) + 1;
      else counts[name] = 1;
    }
    if (time > this.clusterMax) this.clusterMax = time;
    const now = this.clusterMax - this.cluster.lateness;
    const current = windowStartOf(now, size);
    if (current > this.checkedWindow) {
      this.checkedWindow = current;
      this.clusterClose(now);
    }
  }

  private clusterClose(limit: number): void {
    const size = this.cluster.window;
    const options = {
      distance: this.cluster.distance,
      threshold: this.cluster.threshold,
      decay: this.cluster.decay,
      maxClusters: this.cluster.maxClusters,
      maxCentroidEntries: this.cluster.maxFeatures > 0 ? (this.cluster.maxFeatures + 1) * this.featureNames.length : 0,
    };
    for (const [key, s] of this.hosts) {
      let closed = 0;
      while (closed < s.open.length && s.open[closed]!.start + size <= limit) {
        const w = s.open[closed]!;
        const end = w.start + size;
        s.closedUpTo = end;
        closed++;
        if (w.total === 0) continue;
        this.counted.windows++;
        const a = assign(s.model, this.vectorOf(w), w.start, options);
        if (a.isNew && a.nearest !== null) this.onClusterAlert(key, w.start, end, a.cluster, a.distance, a.nearest, a.topFeatures);
      }
      if (closed > 0) s.open.splice(0, closed);
    }
  }

  private vectorOf(w: ClusterWin): FeatureVector {
    const x: FeatureVector = {};
    const max = this.cluster.maxFeatures;
    for (let f = 0; f < this.featureNames.length; f++) {
      const prefix = `${this.featureNames[f]}=`;
      const counts = w.counts[f]!;
      let names = Object.keys(counts);
      let other = 0;
      if (max > 0 && names.length > max) {
        names.sort((a, b) => counts[b]! - counts[a]! || (a < b ? -1 : 1));
        for (let i = max; i < names.length; i++) other += counts[names[i]!]!;
        names = names.slice(0, max);
      }
      for (const name of names) x[prefix + name] = (x[prefix + name] ?? 0) + counts[name]! / w.total;
      if (other > 0) x[prefix + OTHER] = (x[prefix + OTHER] ?? 0) + other / w.total;
    }
    return x;
  }

  // --- alert strategies ---

  private countStrategies(plans: readonly CountPlan[], e: SyslogEvent): void {
    const time = e.time;
    for (let p = 0; p < plans.length; p++) {
      const plan = plans[p]!;
      const where = plan.where;
      let match = true;
      for (let w = 0; w < where.length; w++) {
        if (!where[w]!.test(where[w]!.get(e))) {
          match = false;
          break;
        }
      }
      if (!match) continue;
      const s = plan.s;
      const by = plan.by;
      let key = by.length === 0 ? '*' : keyString(by[0]!(e));
      for (let b = 1; b < by.length; b++) key += `|${keyString(by[b]!(e))}`;
      const size = s.window;
      const start = windowStartOf(time, size);
      const counters = this.counters[s.index]!;
      if (start > this.swept[s.index]! + size) {
        this.swept[s.index] = start;
        const limit = start - 2 * size;
        for (const [k, c] of counters) if (c.start < limit) counters.delete(k);
      }
      let c = counters.get(key);
      if (c === undefined) {
        if (counters.size >= this.alert.maxKeys) continue;
        c = { start, count: 0, prevStart: start - size, prevCount: 0, fired: false };
        counters.set(key, c);
      }
      const counted = countInWindow(c, start, size, this.alert.lateness);
      if (counted !== COUNTED) {
        if (counted === LATE) this.counted.late++;
        else if (s.kind === 'threshold') {
          const n = earlierThreshold(c, start, s.count);
          if (n >= 0) {
            this.fire(s, key, time, `${n} matching events in the window from ${new Date(start).toISOString()} (threshold ${s.count})`, {
              windowStart: start,
              windowEnd: start + size,
              count: n,
              threshold: s.count,
            });
          }
        }
        continue;
      }
      if (c.fired || s.kind !== 'threshold' || c.count < s.count) continue;
      c.fired = true;
      this.fire(s, key, time, `${c.count} matching events in the window from ${new Date(start).toISOString()} (threshold ${s.count})`, {
        windowStart: start,
        windowEnd: start + size,
        count: c.count,
        threshold: s.count,
      });
    }
  }

  private onClusterAlert(key: string, start: number, end: number, cluster: number, distance: number | null, nearest: number, top: unknown): void {
    for (const s of this.newCluster) {
      if (distance !== null && distance < s.minDistance) continue;
      this.fire(
        s,
        key,
        end,
        `new behaviour on ${key} in the window from ${new Date(start).toISOString()}: cluster ${cluster} is ${distance?.toFixed(3)} from cluster ${nearest}`,
        {
          windowStart: start,
          windowEnd: end,
          cluster,
          nearest,
          distance,
          topFeatures: top,
        },
      );
    }
  }

  private fire(s: Strategy, key: string, time: number, summary: string, details: Record<string, unknown>): void {
    const sk = `${s.name}\u0000${key}`;
    const last = this.lastFired.get(sk);
    if (last !== undefined && Math.abs(time - last) < s.suppress) return;
    this.lastFired.set(sk, time);
    if (this.lastFired.size > this.sweepFiredAt) {
      for (const [k, t] of this.lastFired) if (time - t >= this.maxSuppress) this.lastFired.delete(k);
      this.sweepFiredAt = Math.max(10_000, this.lastFired.size * 2);
    }
    const alerts = this.counted.alerts;
    alerts[s.name] = (alerts[s.name] ?? 0) + (summary.length > 0 && details !== null ? 1 : 0);
  }
}

/** As the topn bolt keys a tuple: a one-field key needs its value; several fields show a missing part as `-` and need one. */
function keyOf(get: readonly Getter[], e: SyslogEvent): string | null {
  const x = get[0]!(e);
  if (get.length === 1) {
    if (x === null || x === undefined) return null;
    return typeof x === 'string' ? x : String(x);
  }
  let present = x !== null && x !== undefined;
  let key = !present ? MISSING_PART : typeof x === 'string' ? x : String(x);
  for (let j = 1; j < get.length; j++) {
    const y = get[j]!(e);
    if (y === null || y === undefined) {
      key += KEY_SEPARATOR + MISSING_PART;
      continue;
    }
    present = true;
    key += KEY_SEPARATOR + (typeof y === 'string' ? y : String(y));
  }
  return present ? key : null;
}

function openWindow(s: HostState, start: number, features: number): ClusterWin {
  const open = s.open;
  for (let i = open.length - 1; i >= 0; i--) {
    const w = open[i]!;
    if (w.start === start) return w;
    if (w.start < start) {
      const nw = newWindow(start, features);
      open.splice(i + 1, 0, nw);
      return nw;
    }
  }
  const nw = newWindow(start, features);
  open.unshift(nw);
  return nw;
}

function newWindow(start: number, features: number): ClusterWin {
  const counts: Record<string, number>[] = [];
  for (let f = 0; f < features; f++) counts.push({});
  return { start, total: 0, counts };
}
