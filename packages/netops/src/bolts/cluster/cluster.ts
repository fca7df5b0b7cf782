import { type Bolt, type FinishInfo, isTick, type KeyedState, type OutputCollector, type TopologyContext, type Tuple } from '@qitian/api';
import { eventTimeOf, futureLimit, Watermark, windowStartOf } from '../../internal/windows.js';
import { FACILITY_NAMES, SEVERITY_NAMES } from '../../syslog/event.js';
import { type Assignment, assign, type ClusterModel, emptyModel, type FeatureVector, type ModelOptions } from './model.js';
import type { ClusterBoltConfig } from './spec.js';

/** Fields of stream `default` (after the key field, with `keyBy`). */
export const CLUSTER_FIELDS = ['windowStart', 'windowEnd', 'cluster', 'distance', 'isNew', 'events'] as const;
/** Fields of stream `alert` (after the key field, with `keyBy`). */
export const CLUSTER_ALERT_FIELDS = ['windowStart', 'windowEnd', 'cluster', 'distance', 'nearest', 'topFeatures'] as const;

/** The name of the keyed state holding the models and open windows. */
export const CLUSTER_STATE = 'cluster';
/** The key of the one model when there is no `keyBy`. */
export const GLOBAL_KEY = '*';
/** The name of a null feature value or key. */
export const NONE = '(none)';
/** The name under which values beyond the vocabulary cap are summed. */
export const OTHER = '(other)';

export function clusterOutputs(config: ClusterBoltConfig): Record<string, string[]> {
  const prefix = config.keyBy ? [config.keyBy] : [];
  const alert = [...prefix, ...CLUSTER_ALERT_FIELDS];
  return config.windows ? { default: [...prefix, ...CLUSTER_FIELDS], alert } : { alert };
}

/** One window being counted: per feature field, value name -> count. */
export interface OpenWindow {
  readonly start: number;
  total: number;
  readonly counts: Record<string, number>[];
}

/** Everything kept per key, as plain data: keyed state snapshots and moves it as it is. */
export interface ClusterKeyState {
  model: ClusterModel;
  /** Windows still counting, oldest first. */
  open: OpenWindow[];
  /** End of the last closed window: events before it are late. */
  closedUpTo: number;
}

/** Field positions of one input layout (resolved once per distinct fields array). */
interface Layout {
  readonly fields: readonly string[];
  readonly time: number;
  readonly key: number;
  readonly features: readonly number[];
  /** Why tuples of this layout cannot be used, or null. */
  readonly missing: string | null;
}

/**
 * The cluster bolt: counts feature values per key and tumbling window, and at each window's
 * close assigns its vector to the key's model (see model.ts).
 */
export class ClusterBolt implements Bolt<ClusterBoltConfig> {
  private context!: TopologyContext<ClusterBoltConfig>;
  private collector!: OutputCollector;
  private state!: KeyedState<ClusterKeyState>;
  private readonly size: number;
  private readonly eventTime: boolean;
  private readonly watermark: Watermark;
  private readonly features: readonly string[];
  private readonly featureNamers: readonly ((v: unknown) => string)[];
  private readonly maxFeatures: number;
  /** Distinct values counted per field and window before newcomers go to `(other)`. */
  private readonly maxDistinct: number;
  private readonly modelOptions: ModelOptions;
  private layouts: Layout[] = [];
  /** Start of the window the clock (watermark or wall clock) was in when windows were last closed. */
  private checkedWindow = Number.NEGATIVE_INFINITY;
  // Counters gathered over a batch.
  private nLate = 0;
  private nBadTime = 0;
  private nFuture = 0;
  private warnedFuture = false;
  private nMissing = 0;
  private nWindows = 0;
  /** Windows closed with fewer than minEvents events: not scored. */
  private nTooFew = 0;
  private nIncomplete = 0;
  private nNew = 0;
  private nJoined = 0;
  private nEvicted = 0;

  constructor(
    readonly config: ClusterBoltConfig,
    private readonly clock: () => number = Date.now,
  ) {
    this.size = config.window;
    this.eventTime = config.time === 'event';
    this.watermark = new Watermark(config.lateness, config.idleTimeout);
    this.features = config.features;
    this.featureNamers = config.features.map(namerFor);
    this.maxFeatures = config.maxFeatures;
    this.maxDistinct = config.maxFeatures > 0 ? config.maxFeatures * 10 : Number.POSITIVE_INFINITY;
    this.modelOptions = {
      distance: config.distance,
      threshold: config.threshold,
      decay: config.decay,
      maxClusters: config.maxClusters,
      maxCentroidEntries: config.maxFeatures > 0 ? (config.maxFeatures + 1) * config.features.length : 0,
    };
  }

  prepare(context: TopologyContext<ClusterBoltConfig>, collector: OutputCollector): void {
    this.context = context;
    this.collector = collector;
    this.state = context.keyedState<ClusterKeyState>(CLUSTER_STATE);
  }

  execute(tuple: Tuple): void {
    this.executeBatch([tuple]);
  }

  executeBatch(tuples: readonly Tuple[]): void {
    const size = this.size;
    if (this.eventTime) {
      // Ticks bring this batch when the input is silent: the watermark may move on without events.
      this.watermark.at(this.clock());
      if (this.watermark.value > Number.NEGATIVE_INFINITY) this.advance(this.watermark.value);
    }
    const limit = futureLimit();
    for (let i = 0; i < tuples.length; i++) {
      const t = tuples[i]!;
      if (isTick(t)) {
        if (!this.eventTime) this.advance(this.clock());
        continue;
      }
      const layout = this.layoutOf(t);
      if (layout.missing !== null) {
        this.nMissing++;
        continue;
      }
      const values = t.values;
      let time: number | undefined;
      if (this.eventTime) {
        time = eventTimeOf(values[layout.time]);
        if (time === undefined) {
          this.nBadTime++;
          continue;
        }
        // A device with a wrong clock must not drive the watermark past every open window.
        if (time > limit) {
          this.nFuture++;
          continue;
        }
      } else time = this.clock();
      const start = windowStartOf(time, size);
      // An event whose window the clock has already passed is late.
      if (this.eventTime && start + size <= this.watermark.value) {
        this.nLate++;
        continue;
      }
      const key = layout.key < 0 ? GLOBAL_KEY : keyString(values[layout.key]);
      let s = this.state.get(key);
      if (s === undefined) {
        s = { model: emptyModel(), open: [], closedUpTo: Number.NEGATIVE_INFINITY };
        this.state.set(key, s);
      } else if (start < s.closedUpTo) {
        this.nLate++;
        continue;
      }
      const w = this.openWindow(s, start);
      w.total++;
      const idx = layout.features;
      for (let f = 0; f < idx.length; f++) {
        const name = this.featureNamers[f]!(values[idx[f]!]);
        const counts = w.counts[f]!;
        const n = counts[name];
        if (n !== undefined) counts[name] = n + 1;
        else if (name !== OTHER && Object.keys(counts).length >= this.maxDistinct) counts[OTHER] = (counts[OTHER] ?? 0) + 1;
        else counts[name] = 1;
      }
      this.advance(this.eventTime ? this.watermark.observe(t.sourceTask, time) : time);
    }
    this.flushCounts();
  }

  /**
   * Input has ended: every open window closes, in time order per key. A stop is not an end: the
   * window in progress holds only the part of it that arrived, and scored now it would look new
   * (false alerts) and teach the model a mix it never had. Windows stay open in keyed state, so
   * a run resumed from --state-dir goes on filling them.
   */
  finish(end?: FinishInfo): void {
    if (end?.stopped !== true) this.closeAtEnd(this.eventTime ? this.watermark.max : this.clock());
    this.flushCounts();
  }

  /**
   * The end of the input, which reached `until`: windows that end by then close as usual, and so
   * does one the input ended inside if it covers at least half its span. One covering less holds
   * too few of its events to say what is usual: a replay ending just after 08:30:00 gave each
   * device a window of a few events, and a false "new behaviour" alert for most of them. Such a
   * window is neither scored nor learned, and is counted (`windows{reason=incomplete}`).
   */
  private closeAtEnd(until: number): void {
    const size = this.size;
    for (const [key, s] of this.state.entries()) {
      if (s.open.length === 0) continue;
      for (const w of s.open) {
        if (w.start + size <= until || until - w.start >= size / 2) this.close(key, s, w);
        else if (w.total > 0) this.nIncomplete++;
      }
      s.open = [];
      this.state.set(key, s);
    }
  }

  /** The clock (watermark or wall clock) is at `now`: closes windows when it entered a later window. */
  private advance(now: number): void {
    const current = windowStartOf(now, this.size);
    if (current <= this.checkedWindow) return;
    this.checkedWindow = current;
    this.closeUpTo(now);
  }

  /** Closes every window of every key that ends at or before `limit`. */
  private closeUpTo(limit: number): void {
    const size = this.size;
    for (const [key, s] of this.state.entries()) {
      let closed = 0;
      while (closed < s.open.length && s.open[closed]!.start + size <= limit) {
        this.close(key, s, s.open[closed]!);
        closed++;
      }
      if (closed > 0) {
        s.open.splice(0, closed);
        this.state.set(key, s);
      }
    }
  }

  private close(key: string, s: ClusterKeyState, w: OpenWindow): void {
    const end = w.start + this.size;
    s.closedUpTo = end;
    if (w.total === 0) return;
    if (w.total < this.config.minEvents) {
      this.nTooFew++;
      return;
    }
    this.nWindows++;
    const x = this.vectorOf(w);
    const a: Assignment = assign(s.model, x, w.start, this.modelOptions);
    if (a.isNew) this.nNew++;
    else this.nJoined++;
    if (a.evicted !== null) this.nEvicted++;
    const keyed = this.config.keyBy !== undefined;
    const row = [w.start, end, a.cluster, a.distance, a.isNew, w.total];
    if (this.config.windows) this.collector.emit(keyed ? [key, ...row] : row, null);
    if (a.isNew && a.nearest !== null) {
      const alert = [w.start, end, a.cluster, a.distance, a.nearest, a.topFeatures];
      this.collector.emit(keyed ? [key, ...alert] : alert, null, 'alert');
    }
  }

  /** The window's feature vector: fractions of its total per field and value, capped per field. */
  vectorOf(w: OpenWindow): FeatureVector {
    const x: FeatureVector = {};
    const total = w.total;
    for (let f = 0; f < this.features.length; f++) {
      const prefix = `${this.features[f]}=`;
      const counts = w.counts[f]!;
      let names = Object.keys(counts);
      let other = 0;
      if (this.maxFeatures > 0 && names.length > this.maxFeatures) {
        names.sort((a, b) => counts[b]! - counts[a]! || (a < b ? -1 : 1));
        for (let i = this.maxFeatures; i < names.length; i++) other += counts[names[i]!]!;
        names = names.slice(0, this.maxFeatures);
      }
      for (const name of names) x[prefix + name] = (x[prefix + name] ?? 0) + counts[name]! / total;
      if (other > 0) x[prefix + OTHER] = (x[prefix + OTHER] ?? 0) + other / total;
    }
    return x;
  }

  private openWindow(s: ClusterKeyState, start: number): OpenWindow {
    const open = s.open;
    for (let i = open.length - 1; i >= 0; i--) {
      const w = open[i]!;
      if (w.start === start) return w;
      if (w.start < start) {
        const nw = this.newWindow(start);
        open.splice(i + 1, 0, nw);
        return nw;
      }
    }
    const nw = this.newWindow(start);
    open.unshift(nw);
    return nw;
  }

  private newWindow(start: number): OpenWindow {
    const counts: Record<string, number>[] = [];
    for (let f = 0; f < this.features.length; f++) counts.push({});
    return { start, total: 0, counts };
  }

  private layoutOf(t: Tuple): Layout {
    const fields = t.fields;
    const layouts = this.layouts;
    for (let i = 0; i < layouts.length; i++) if (layouts[i]!.fields === fields) return layouts[i]!;
    // A new input stream: every task of its component counts for the watermark from now on.
    this.watermark.expect(this.context.componentTasks(t.sourceComponent));
    const time = t.fieldIndex('time');
    const key = this.config.keyBy ? t.fieldIndex(this.config.keyBy) : -1;
    const features = this.features.map((f) => t.fieldIndex(f));
    const absent: string[] = [];
    if (this.eventTime && time < 0) absent.push('time');
    if (this.config.keyBy && key < 0) absent.push(this.config.keyBy);
    features.forEach((ix, i) => {
      if (ix < 0) absent.push(this.features[i]!);
    });
    const missing =
      absent.length === 0
        ? null
        : `cluster bolt "${this.context.componentId}": stream "${t.stream}" of "${t.sourceComponent}" has no field ${absent.map((a) => `"${a}"`).join(', ')} ` +
          `(it has ${fields.join(', ')}); its tuples are skipped and counted (skipped{reason=missing_field})`;
    if (missing !== null) this.context.logger.warn(missing);
    const layout: Layout = { fields, time, key, features, missing };
    if (layouts.length >= 8) layouts.pop();
    layouts.unshift(layout);
    return layout;
  }

  private flushCounts(): void {
    const c = this.context;
    if (this.nLate > 0) c.count('late', this.nLate);
    if (this.nBadTime > 0) c.count('skipped', this.nBadTime, 'bad_time');
    if (this.nFuture > 0) {
      c.count('skipped', this.nFuture, 'future_time');
      if (!this.warnedFuture) {
        this.warnedFuture = true;
        c.logger.warn(
          `cluster: skipped ${this.nFuture} events more than 1h ahead of this machine's clock (a device with a wrong clock?); counted as skipped{reason=future_time}`,
        );
      }
    }
    if (this.nMissing > 0) c.count('skipped', this.nMissing, 'missing_field');
    if (this.nWindows > 0) c.count('windows', this.nWindows);
    if (this.nTooFew > 0) c.count('windows', this.nTooFew, 'too_few');
    if (this.nIncomplete > 0) {
      c.count('windows', this.nIncomplete, 'incomplete');
      c.logger.info(
        `cluster: ${this.nIncomplete} window${this.nIncomplete === 1 ? '' : 's'} the input ended inside, covering less than half their span, not scored (windows{reason=incomplete})`,
      );
    }
    if (this.nNew > 0) c.count('clusters', this.nNew, 'new');
    if (this.nJoined > 0) c.count('clusters', this.nJoined, 'joined');
    if (this.nEvicted > 0) c.count('evicted', this.nEvicted);
    this.nLate = this.nBadTime = this.nFuture = this.nMissing = this.nWindows = this.nTooFew = this.nIncomplete = this.nNew = this.nJoined = this.nEvicted = 0;
  }
}

/** A key value as a string: strings as they are, null as `(none)`. */
export function keyString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return NONE;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** How a feature field's values are named: severity and facility numbers by their keywords. */
function namerFor(field: string): (v: unknown) => string {
  const names: readonly string[] | undefined = field === 'severity' ? SEVERITY_NAMES : field === 'facility' ? FACILITY_NAMES : undefined;
  if (names === undefined) return keyString;
  return (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < names.length ? names[v]! : keyString(v));
}

/** Tick interval for processing-time windows: a tenth of a window, at most a second. */
export function clusterTickMs(config: ClusterBoltConfig): number | undefined {
  if (config.time === 'processing' || config.idleTimeout > 0) return Math.max(1, Math.min(1000, Math.floor(config.window / 10)));
  return undefined;
}
