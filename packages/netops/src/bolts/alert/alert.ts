import type { Writable } from 'node:stream';
import { type Bolt, formatDuration, isTick, type KeyedState, type OutputCollector, type TopologyContext, type Tuple } from '@qitian/api';
import { eventTimeOf, Watermark, windowStartOf } from '../../internal/windows.js';
import { EventOrder, type HeldEvent, type Hit } from './event-order.js';
import { type Alert, createNotifiers, type Notifier, parseNotify } from './notify.js';
import type { AlertBoltConfig } from './spec.js';
import { type CountStrategy, type NewClusterStrategy, parseStrategies, type Strategy, type TopnEntryStrategy } from './strategies.js';
import { COUNTED, countInWindow, earlierThreshold, LATE, type WindowCount } from './window-count.js';

/** Fields of the alert bolt's `default` stream. */
export const ALERT_FIELDS = ['time', 'strategy', 'severity', 'key', 'summary', 'details'] as const;

/** The fields a cluster bolt's `alert` stream has besides its key field. */
const CLUSTER_ALERT = ['windowStart', 'windowEnd', 'cluster', 'distance', 'nearest', 'topFeatures'];

/** One key's counts of one count strategy. */
interface Counter extends WindowCount {
  /** Start of the first window the key was seen in: that window is only a baseline for rate-of-change. */
  readonly first: number;
  /** Wall-clock ms of the key's last event (absent in counters kept before it existed). */
  seenAt?: number;
}

/** What an input of the alert bolt carries, told by its fields. */
export function inputKind(fields: readonly string[]): 'cluster' | 'topn' | 'event' | 'none' {
  const has = (f: string) => fields.includes(f);
  if (has('nearest') && has('topFeatures') && has('windowEnd')) return 'cluster';
  if (has('ranking') && has('dimension') && has('windowEnd')) return 'topn';
  if (has('time')) return 'event';
  return 'none';
}

/** The fields of an input a count strategy needs and the input lacks: it ignores such an input. */
export function missingFields(s: CountStrategy, fields: readonly string[]): string[] {
  return [...s.where.map((w) => w.field), ...s.by].filter((f) => !fields.includes(f));
}

/** How one count strategy reads one input layout. */
interface CountPlan {
  readonly s: CountStrategy;
  readonly where: readonly number[];
  readonly by: readonly number[];
}

type Layout =
  | { readonly kind: 'event'; readonly time: number; readonly plans: readonly CountPlan[] }
  | { readonly kind: 'cluster'; readonly key: number; readonly at: readonly number[]; readonly strategies: readonly NewClusterStrategy[] }
  | { readonly kind: 'topn'; readonly at: readonly number[]; readonly strategies: readonly TopnEntryStrategy[] }
  | { readonly kind: 'none' };

interface LayoutEntry {
  readonly fields: readonly string[];
  readonly source: string;
  readonly layout: Layout;
}

interface RankEntry {
  readonly key: unknown;
  readonly count?: unknown;
  readonly error?: unknown;
}

/** The alert bolt: strategies over events, cluster alerts and Top-N rankings; suppression; notifiers. */
export class AlertBolt implements Bolt<AlertBoltConfig> {
  readonly strategies: readonly Strategy[];
  private readonly countStrategies: readonly CountStrategy[];
  private readonly clusterStrategies: readonly NewClusterStrategy[];
  private readonly topnStrategies: readonly TopnEntryStrategy[];
  private context!: TopologyContext<AlertBoltConfig>;
  private collector!: OutputCollector;
  private notifiers: Notifier[] = [];
  private layouts: LayoutEntry[] = [];
  // What the bolt remembers is keyed state (the runtime copies it, gives it to a replacement
  // thread, and keeps it in --state-dir), so that a restart neither forgets a window's counts
  // nor pages again for what it already reported. States are named after the strategies.
  /** Per count strategy (by index): key -> counter. */
  private counters: (KeyedState<Counter> | undefined)[] = [];
  /** Per count strategy: the window start up to which old counters were swept. */
  private readonly swept: number[];
  /** strategy name + NUL + key -> time of the last alert. */
  private lastFired!: KeyedState<number>;
  private sweepFiredAt = 10_000;
  /** Per topn strategy name, source and dimension: the watched keys in the previous ranking. */
  private topnPrev!: KeyedState<string[]>;
  /** Per Top-N source: the dimensions of its first window, until a later window shows they are all there. */
  private readonly rankedDims = new Map<string, { firstEnd: number; dims: Set<string>; checked: boolean }>();
  private readonly maxSuppress: number;
  // Counters gathered over a batch.
  private readonly nAlerts: number[];
  private readonly nSuppressed: number[];
  private nLate = 0;
  private nBadTime = 0;
  private nUnknown = 0;
  private nBadInput = 0;
  private nMaxKeys = 0;
  /** Wall clock at the start of the batch being executed. */
  private now = 0;
  /**
   * Event time over the upstream tasks that send events: windows it has not passed stay open, so
   * that the events of a task far behind the others (a replay parsed by several tasks, whose
   * batches can be hours apart) are not late merely because another task's are newer.
   */
  private readonly watermark: Watermark;
  /** The same without lateness: count-strategy events wait in `held` until it passes them. */
  private readonly order: Watermark;
  private held!: EventOrder;
  private readonly countHeldBound = (e: HeldEvent) => this.countHeld(e);

  constructor(
    readonly config: AlertBoltConfig,
    private readonly stdout?: Writable,
  ) {
    this.strategies = parseStrategies(config.strategies, config.suppress);
    // Checked here too, so that a bad notifier is an error when the bolt is built.
    parseNotify(config.notify);
    this.countStrategies = this.strategies.filter((s): s is CountStrategy => s.kind === 'threshold' || s.kind === 'rate-of-change');
    this.clusterStrategies = this.strategies.filter((s): s is NewClusterStrategy => s.kind === 'new-cluster');
    this.topnStrategies = this.strategies.filter((s): s is TopnEntryStrategy => s.kind === 'topn-entry');
    this.swept = this.strategies.map(() => Number.NEGATIVE_INFINITY);
    this.nAlerts = this.strategies.map(() => 0);
    this.nSuppressed = this.strategies.map(() => 0);
    this.maxSuppress = Math.max(0, ...this.strategies.map((s) => s.suppress));
    // A silent input holds windows open and events back only until `idleTimeout`: it costs
    // memory and delay, never an alert.
    this.watermark = new Watermark(config.lateness, config.idleTimeout);
    this.order = new Watermark(0, config.idleTimeout);
  }

  prepare(context: TopologyContext<AlertBoltConfig>, collector: OutputCollector): void {
    this.context = context;
    this.collector = collector;
    this.counters = this.strategies.map((s) =>
      s.kind === 'threshold' || s.kind === 'rate-of-change' ? context.keyedState<Counter>(`counts/${s.name}`) : undefined,
    );
    this.lastFired = context.keyedState<number>('suppressed');
    this.topnPrev = context.keyedState<string[]>('topn-previous');
    // One entry: the held events, in keyed state so that a restart finds the ones already acked.
    const heldState = context.keyedState<HeldEvent[]>('held-events');
    let heap = heldState.get('*');
    if (heap === undefined) heldState.set('*', (heap = []));
    this.held = new EventOrder(heap);
    // Restored events were held for upstream tasks of an earlier thread: counted at the first batch or tick.
    if (heap.length > 0) this.order.seed(Math.max(...heap.map((e) => e.time)));
    this.notifiers = createNotifiers(parseNotify(context.config.notify), { count: (n, d, r) => context.count(n, d, r), logger: context.logger }, this.stdout);
  }

  execute(tuple: Tuple): void {
    this.executeBatch([tuple]);
  }

  executeBatch(tuples: readonly Tuple[]): void {
    this.now = Date.now();
    this.watermark.at(this.now);
    this.order.at(this.now);
    for (let i = 0; i < tuples.length; i++) {
      const t = tuples[i]!;
      if (isTick(t)) continue;
      const layout = this.layoutOf(t);
      switch (layout.kind) {
        case 'event':
          this.onEvent(t, layout.time, layout.plans);
          break;
        case 'cluster':
          this.onClusterAlert(t, layout.key, layout.at, layout.strategies);
          break;
        case 'topn':
          this.onRanking(t, layout.at, layout.strategies);
          break;
        default:
          this.nUnknown++;
      }
    }
    // Ticks release too: an upstream task that went quiet stops holding events after idleTimeout.
    this.held.release(this.order.value, this.countHeldBound);
    this.flushCounts();
  }

  /** The input ended (or the run stops): what is held is counted, in order. */
  finish(): void {
    this.held.release(Number.POSITIVE_INFINITY, this.countHeldBound);
    this.flushCounts();
  }

  async cleanup(): Promise<void> {
    this.flushCounts();
    const deadline = this.context.config.drainTimeout;
    await Promise.all(this.notifiers.map((n) => n.close(deadline)));
  }

  // --- events: threshold and rate-of-change ---

  private onEvent(t: Tuple, timeIdx: number, plans: readonly CountPlan[]): void {
    const values = t.values;
    const time = eventTimeOf(values[timeIdx]);
    if (time === undefined) {
      this.nBadTime++;
      return;
    }
    this.watermark.observe(t.sourceTask, time);
    this.order.observe(t.sourceTask, time);
    let hits: Hit[] | null = null;
    for (let p = 0; p < plans.length; p++) {
      const plan = plans[p]!;
      const s = plan.s;
      const where = s.where;
      let match = true;
      for (let w = 0; w < where.length; w++) {
        if (!where[w]!.test(values[plan.where[w]!])) {
          match = false;
          break;
        }
      }
      if (!match) continue;
      const by = plan.by;
      let key = by.length === 0 ? '*' : keyString(values[by[0]!]);
      for (let b = 1; b < by.length; b++) key += `|${keyString(values[by[b]!])}`;
      (hits ??= []).push({ strategy: s.index, key, by: byValues(s.by, by, values) });
    }
    if (hits !== null) this.held.hold(time, hits);
  }

  /** A held event, now that every upstream task has passed its time: counted for each strategy it matched. */
  private countHeld(e: HeldEvent): void {
    for (const hit of e.hits) {
      const s = this.strategies[hit.strategy];
      if (s !== undefined && (s.kind === 'threshold' || s.kind === 'rate-of-change')) this.count(s, hit.key, e.time, hit.by);
    }
  }

  private count(s: CountStrategy, key: string, time: number, by: Record<string, unknown>): void {
    const size = s.window;
    const start = windowStartOf(time, size);
    const counters = this.counters[s.index]!;
    if (start > this.swept[s.index]! + size) this.sweep(s, start);
    let c = counters.get(key);
    // Silent for two whole windows (and lateness) in event time: start over, as the sweep would
    // have. The sweep also waits for the wall clock, which a replay outruns, and a kept counter
    // made the next window a rate of change against 0 instead of a baseline.
    const stale = c !== undefined && s.kind === 'rate-of-change' && c.start < start - 2 * size - this.config.lateness;
    if (c === undefined || stale) {
      if (c === undefined && counters.size >= this.config.maxKeys) {
        this.nMaxKeys++;
        return;
      }
      c = { start, count: 0, prevStart: start - size, prevCount: 0, first: start, fired: false };
      counters.set(key, c);
    }
    c.seenAt = this.now;
    const counted = countInWindow(c, start, size, this.config.lateness, this.watermark.value);
    if (counted !== COUNTED) {
      // An earlier window's event: counted there while it is open (its threshold, the baseline
      // of rate-of-change), else only as late.
      if (counted === LATE) this.nLate++;
      else if (s.kind === 'threshold') {
        const n = earlierThreshold(c, start, s.count);
        if (n >= 0) this.fireThreshold(s, key, time, start, n, by);
      }
      return;
    }
    if (c.fired) return;
    if (s.kind === 'threshold') {
      if (c.count < s.count) return;
      c.fired = true;
      this.fireThreshold(s, key, time, start, c.count, by);
      return;
    }
    if (c.first >= c.start || c.count < s.minCount || c.count < s.factor * c.prevCount) return;
    c.fired = true;
    const ratio = c.prevCount === 0 ? null : c.count / c.prevCount;
    this.fire(
      s,
      key,
      time,
      `${c.count} matching events in the ${formatDuration(size)} window from ${iso(start)} against ${c.prevCount} in the previous one` +
        `${ratio === null ? '' : ` (x${ratio.toFixed(1)})`}, factor ${s.factor}`,
      { windowStart: start, windowEnd: start + size, count: c.count, previous: c.prevCount, ratio, factor: s.factor, minCount: s.minCount, by },
    );
  }

  /**
   * Forgets keys with no event in the current window, the two before it, or the windows
   * `lateness` keeps open, that have also been silent that long on the wall clock. Event time
   * alone is not enough: it is another key's (a device whose clock runs an hour ahead, a parse
   * task ahead of the other), and a key's windows close on its own newest window, not on other
   * keys' (a key forgotten that way would start again from 0, uncounted as late).
   */
  private sweep(s: CountStrategy, start: number): void {
    this.swept[s.index] = start;
    const keep = 2 * s.window + this.config.lateness;
    const limit = start - keep;
    const quietSince = this.now - keep;
    const counters = this.counters[s.index]!;
    for (const [k, c] of counters.entries()) if (c.start < limit && (c.seenAt ?? 0) < quietSince) counters.delete(k);
  }

  // --- cluster alerts ---

  private onClusterAlert(t: Tuple, keyIdx: number, at: readonly number[], strategies: readonly NewClusterStrategy[]): void {
    const v = t.values;
    const [windowStart, windowEnd, cluster, distance, nearest, top] = at.map((i) => v[i]);
    if (typeof windowEnd !== 'number') {
      this.nBadInput++;
      return;
    }
    const key = keyIdx < 0 ? '*' : keyString(v[keyIdx]);
    const d = typeof distance === 'number' ? distance : null;
    const features = Array.isArray(top) ? (top as { feature?: unknown; value?: unknown; centroid?: unknown }[]) : [];
    for (const s of strategies) {
      if (d !== null && d < s.minDistance) continue;
      const what = features
        .slice(0, 3)
        .map((f) => `${String(f.feature)} ${num3(f.value)} (usually ${num3(f.centroid)})`)
        .join(', ');
      this.fire(
        s,
        key,
        windowEnd,
        `new behaviour${key === '*' ? '' : ` on ${key}`} in the window from ${iso(windowStart as number)}: cluster ${String(cluster)} is ` +
          `${d === null ? '?' : d.toFixed(3)} from cluster ${String(nearest)}${what ? `; ${what}` : ''}`,
        { windowStart, windowEnd, cluster, nearest, distance: d, topFeatures: features, source: t.sourceComponent },
      );
    }
  }

  // --- Top-N rankings ---

  /**
   * A Top-N bolt emits every dimension of a window before the next window: once a later window
   * comes, a strategy whose dimension was not among the first window's can never fire (a name
   * misspelt in the YAML). Said once, with the names there are.
   */
  private noteDimension(source: string, dim: string, windowEnd: number, strategies: readonly TopnEntryStrategy[]): void {
    let seen = this.rankedDims.get(source);
    if (seen === undefined) this.rankedDims.set(source, (seen = { firstEnd: windowEnd, dims: new Set(), checked: false }));
    if (seen.checked) return;
    if (windowEnd === seen.firstEnd) {
      seen.dims.add(dim);
      return;
    }
    if (windowEnd < seen.firstEnd) return;
    seen.checked = true;
    const known = [...seen.dims];
    for (const s of strategies) {
      if (s.dimension === undefined || seen.dims.has(s.dimension)) continue;
      this.context.logger.warn(
        `alert bolt "${this.context.componentId}": strategy "${s.name}" watches Top-N dimension "${s.dimension}", which "${source}" does not rank ` +
          `(it ranks ${known.map((d) => `"${d}"`).join(', ')}): the strategy cannot fire; check the dimension name`,
      );
    }
  }

  private onRanking(t: Tuple, at: readonly number[], strategies: readonly TopnEntryStrategy[]): void {
    const v = t.values;
    const [dimension, windowStart, windowEnd, ranking, total] = at.map((i) => v[i]);
    if (!Array.isArray(ranking) || typeof windowEnd !== 'number') {
      this.nBadInput++;
      return;
    }
    const dim = keyString(dimension);
    this.noteDimension(t.sourceComponent, dim, windowEnd, strategies);
    for (const s of strategies) {
      if (s.dimension !== undefined && s.dimension !== dim) continue;
      const stateKey = `${s.name}\u0000${t.sourceComponent}\u0000${dim}`;
      const prev = this.topnPrev.get(stateKey);
      const now = new Set<string>();
      const places = s.top === 0 ? ranking.length : Math.min(s.top, ranking.length);
      for (let r = 0; r < places; r++) {
        const e = ranking[r] as RankEntry | null;
        if (e === null || typeof e !== 'object') continue;
        const k = keyString(e.key);
        if (!s.watch(k)) continue;
        now.add(k);
        if (prev?.includes(k)) continue;
        this.fire(
          s,
          `${dim}=${k}`,
          windowEnd,
          `${k} entered the Top-${places} of ${dim} at #${r + 1} with ${String(e.count)} of ${String(total)} events in the window from ${iso(windowStart as number)}`,
          { dimension: dim, value: k, rank: r + 1, count: e.count, error: e.error, total, windowStart, windowEnd, source: t.sourceComponent },
        );
      }
      this.topnPrev.set(stateKey, [...now]);
    }
  }

  // --- firing, suppression ---

  /** A threshold strategy's alert for the window starting at `start`, which holds `count` matching events. */
  private fireThreshold(s: CountStrategy, key: string, time: number, start: number, count: number, by: Record<string, unknown>): void {
    const size = s.window;
    this.fire(s, key, time, `${count} matching events in the ${formatDuration(size)} window from ${iso(start)} (threshold ${s.count})`, {
      windowStart: start,
      windowEnd: start + size,
      count,
      threshold: s.count,
      by,
    });
  }

  private fire(s: Strategy, key: string, time: number, summary: string, details: Record<string, unknown>): void {
    const sk = `${s.name}\u0000${key}`;
    const last = this.lastFired.get(sk);
    if (last !== undefined && Math.abs(time - last) < s.suppress) {
      this.nSuppressed[s.index]!++;
      return;
    }
    this.lastFired.set(sk, time);
    if (this.lastFired.size > this.sweepFiredAt) this.sweepFired(time);
    this.nAlerts[s.index]!++;
    this.collector.emit([time, s.name, s.severity, key, summary, details]);
    if (this.notifiers.length > 0) {
      const alert: Alert = { time, strategy: s.name, severity: s.severity, key, summary, details };
      for (const n of this.notifiers) n.offer(alert);
    }
  }

  private sweepFired(now: number): void {
    for (const [k, t] of this.lastFired.entries()) if (now - t >= this.maxSuppress) this.lastFired.delete(k);
    this.sweepFiredAt = Math.max(10_000, this.lastFired.size * 2);
  }

  // --- input layouts ---

  private layoutOf(t: Tuple): Layout {
    const fields = t.fields;
    const source = t.sourceComponent;
    const layouts = this.layouts;
    for (let i = 0; i < layouts.length; i++) {
      const e = layouts[i]!;
      if (e.fields === fields && e.source === source) return e.layout;
    }
    const layout = this.classify(t);
    if (layouts.length >= 16) layouts.pop();
    layouts.unshift({ fields, source, layout });
    return layout;
  }

  private classify(t: Tuple): Layout {
    const fields = t.fields;
    const source = t.sourceComponent;
    const mine = <S extends Strategy>(list: readonly S[]) => list.filter((s) => s.from === undefined || s.from === source);
    const where = `stream "${t.stream}" of "${source}"`;
    const kind = inputKind(fields);
    if (kind === 'cluster') {
      const key = fields.findIndex((f) => !CLUSTER_ALERT.includes(f));
      return { kind: 'cluster', key, at: CLUSTER_ALERT.map((f) => fields.indexOf(f)), strategies: mine(this.clusterStrategies) };
    }
    if (kind === 'topn') {
      return {
        kind: 'topn',
        at: ['dimension', 'windowStart', 'windowEnd', 'ranking', 'total'].map((f) => fields.indexOf(f)),
        strategies: mine(this.topnStrategies),
      };
    }
    if (kind === 'event') {
      const plans: CountPlan[] = [];
      for (const s of mine(this.countStrategies)) {
        const missing = missingFields(s, fields);
        if (missing.length > 0) {
          this.context.logger.warn(
            `alert bolt "${this.context.componentId}": strategy "${s.name}" needs field(s) ${missing.join(', ')}, which ${where} lacks; it ignores that stream`,
          );
          continue;
        }
        plans.push({ s, where: s.where.map((w) => fields.indexOf(w.field)), by: s.by.map((f) => fields.indexOf(f)) });
      }
      // Every task of an event input holds the watermark back, from its first tuple on.
      if (plans.length > 0) {
        this.watermark.expect(this.context.componentTasks(source));
        this.order.expect(this.context.componentTasks(source));
      }
      return { kind: 'event', time: fields.indexOf('time'), plans };
    }
    this.context.logger.warn(
      `alert bolt "${this.context.componentId}": ${where} (fields ${fields.join(', ')}) is neither events (time), cluster alerts ` +
        '(nearest, topFeatures) nor Top-N rankings (dimension, ranking); its tuples are skipped and counted (skipped{reason=unknown_input})',
    );
    return { kind: 'none' };
  }

  private flushCounts(): void {
    const c = this.context;
    if (c === undefined) return;
    for (let i = 0; i < this.strategies.length; i++) {
      if (this.nAlerts[i]! > 0) c.count('alerts', this.nAlerts[i]!, this.strategies[i]!.name);
      if (this.nSuppressed[i]! > 0) c.count('suppressed', this.nSuppressed[i]!, this.strategies[i]!.name);
      this.nAlerts[i] = 0;
      this.nSuppressed[i] = 0;
    }
    if (this.nLate > 0) c.count('late', this.nLate);
    if (this.nBadTime > 0) c.count('skipped', this.nBadTime, 'bad_time');
    if (this.nUnknown > 0) c.count('skipped', this.nUnknown, 'unknown_input');
    if (this.nBadInput > 0) c.count('skipped', this.nBadInput, 'bad_input');
    if (this.nMaxKeys > 0) c.count('dropped', this.nMaxKeys, 'max_keys');
    this.nLate = this.nBadTime = this.nUnknown = this.nBadInput = this.nMaxKeys = 0;
  }
}

function keyString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '(none)';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The `by` fields and their values, for an alert's details. */
function byValues(names: readonly string[], idx: readonly number[], values: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < names.length; i++) out[names[i]!] = values[idx[i]!];
  return out;
}

function iso(t: number): string {
  return typeof t === 'number' && Number.isFinite(t) ? new Date(t).toISOString() : String(t);
}

function num3(v: unknown): string {
  return typeof v === 'number' ? v.toFixed(2) : String(v);
}
