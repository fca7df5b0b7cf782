/**
 * The topn bolt: per-window counting and ranking (`single`), its scaled-out first stage
 * (`partial`), and the stage that adds partial results up (`merge`).
 */
import {
  type Bolt,
  type FinishInfo,
  type KeyedState,
  keyGroupOf,
  keyGroupRange,
  type OutputCollector,
  TICK_STREAM,
  type TopologyContext,
  type Tuple,
} from '@qitian/api';
import { type Dimension, resolveDimensions, resolveWindowing } from './config.js';
import { type CounterData, type KeyCounter, newCounter, type Report } from './counters.js';
import { futureLimit, Watermark } from '../../internal/windows.js';
import { KEY_SEPARATOR, RankMerge, type RankMergeData } from './ranking.js';

/** A missing part of a key of several fields, as shown in rankings. */
const MISSING_PART = '-';

import { TOPN_PARTIAL_FIELDS, type TopNConfig } from './spec.js';

/** Progress a partial task announces when its input has ended: every window is closed. */
export const END_OF_INPUT = Number.MAX_SAFE_INTEGER;

/** Positions in a partial tuple. */
const P = Object.fromEntries(TOPN_PARTIAL_FIELDS.map((f, i) => [f, i])) as { readonly [K in (typeof TOPN_PARTIAL_FIELDS)[number]]: number };

export interface TopNOptions {
  /** The clock of processing-time windows (ms since the epoch); Date.now by default. */
  readonly now?: () => number;
}

/** The name of the keyed state that holds the open windows of a topn task (see TopNStateEntry). */
export const TOPN_STATE = 'topn';

/**
 * An open window of a counting task (`single`, `partial`) as kept in keyed state, under
 * `${start}/${taskIndex}` (with a suffix for a share, see shardOf): plain data, which the counters update in place, so that a snapshot
 * (a structured clone of the state) takes the counts as they are without a write per tuple.
 */
export interface CountWindowData {
  readonly kind: 'count';
  readonly start: number;
  readonly end: number;
  /** The dimension of each counter: its name and fields (dimensionId), so that a changed config is noticed. */
  readonly dims: readonly string[];
  readonly counters: CounterData[];
  /**
   * Restored from the state of an earlier run: its keys went to other tasks meanwhile, so a
   * partial task does not tell the merge that a dimension is partitioned by key in it.
   */
  split: boolean;
  /**
   * How far its task's event time got (the task's `reached`), kept on each window too: a restart
   * hands keyed state out by key group, so a task may get windows without the entry of the task
   * that kept them, and must still know how far that run got. Absent in state saved before it.
   */
  reached?: number;
  /** A single stage of several tasks: the task that counted it (see Shard). */
  shard?: string;
}

/** One dimension of a merge's open window: what the partial tasks sent for it so far. */
export interface MergeDimData {
  readonly name: string;
  readonly n: number;
  partitioned: boolean;
  readonly merge: RankMergeData;
}

/** An open window of a merge as kept in keyed state, under `${start}/${taskIndex}`. */
export interface MergeWindowData {
  readonly kind: 'merge';
  readonly start: number;
  readonly end: number;
  readonly dims: MergeDimData[];
}

/** What a task keeps besides its windows, under `task/${taskIndex}`. */
export interface TaskData {
  readonly kind: 'task';
  /**
   * How far the input's time got: the highest event time counted (single, partial: event time
   * only), the highest progress a partial task announced (merge). The `until` of a window the
   * input ends inside, even when the run that counted it was stopped and resumed.
   */
  reached: number;
  /** Tuples dropped as late, not yet reported with an emitted window (or a progress marker). */
  late: number;
  /** A single stage of several tasks: the task that kept it (see Shard). */
  shard?: string;
}

/**
 * An entry of the keyed state TOPN_STATE. On a restart the runtime hands a task the entries whose
 * key group it owns, which may have been written by other tasks (or by more or fewer of them): a
 * task takes them all, adds up those of the same window, and goes on under its own keys.
 */
export type TopNStateEntry = CountWindowData | MergeWindowData | TaskData;

/**
 * A single stage of several tasks counts, in each task, the keys of the key groups it owns: its
 * windows are that task's share, to be taken back only by the task that owns the same key groups,
 * `taskIndex/parallelism/maxParallelism`. Its entries are kept under keys of its own key groups, so
 * that a restart (a resumed run, a replaced thread) hands them back to it.
 */
function shardOf(taskIndex: number, parallelism: number, maxParallelism: number): string {
  return `${taskIndex}/${parallelism}/${maxParallelism}`;
}

/** `base`, or `base#i` for the first i whose key group lies in `groups`: a key that task owns. */
function ownedKey(base: string, groups: { start: number; end: number }, maxParallelism: number): string {
  // About parallelism tries on average; the range is never empty (maxParallelism >= parallelism).
  for (let i = 0; i < 1_000_000; i++) {
    const key = i === 0 ? base : `${base}#${i}`;
    const g = keyGroupOf(key, maxParallelism);
    if (g >= groups.start && g < groups.end) return key;
  }
  return base;
}

/** What identifies a dimension in keyed state: its name and fields. */
function dimensionId(d: Dimension): string {
  return `${d.name}${KEY_SEPARATOR}${d.fields.join(KEY_SEPARATOR)}`;
}

function windowKey(start: number, taskIndex: number): string {
  return `${start}/${taskIndex}`;
}

function taskKey(taskIndex: number): string {
  return `task/${taskIndex}`;
}

function newTaskData(): TaskData {
  return { kind: 'task', reached: Number.NEGATIVE_INFINITY, late: 0 };
}

/** Whether a value restored from keyed state is an entry of the kind asked for. */
function isEntry<K extends TopNStateEntry['kind']>(e: unknown, kind: K): e is Extract<TopNStateEntry, { kind: K }> {
  return typeof e === 'object' && e !== null && (e as { kind?: unknown }).kind === kind;
}

interface Win {
  readonly start: number;
  readonly end: number;
  readonly counters: KeyCounter[];
  /** What keyed state holds (the counters' data), and under which key. */
  readonly data: CountWindowData;
  readonly key: string;
}

/** `stage: single` and `stage: partial`. */
export class TopNBolt implements Bolt<TopNConfig> {
  private readonly dims: readonly Dimension[];
  private readonly size: number;
  private readonly slide: number;
  private readonly eventTime: boolean;
  private readonly partial: boolean;
  private readonly capacity: number;
  private readonly spaceSaving: boolean;
  private readonly candidates: number;
  private readonly separator: string;
  private readonly timeField: string;
  private readonly now: () => number;
  private readonly dimIds: readonly string[];
  private ctx!: TopologyContext<TopNConfig>;
  private out!: OutputCollector;
  /** Where open windows are kept across restarts. */
  private state: KeyedState<TopNStateEntry> | null = null;
  /** A single stage of several tasks: this task's share (see shardOf); undefined otherwise. */
  private shard: string | undefined;
  private ownGroups = { start: 0, end: 0 };
  /** This task's clock and late count, kept in `state` too. */
  private meta: TaskData = newTaskData();

  /** Open windows by start. */
  private readonly open = new Map<number, Win>();
  /** Event time: per upstream task (see Watermark). */
  private readonly eventClock: Watermark;
  /** Event time: eventClock's value; processing time: the clock at the batch. */
  private watermark = Number.NEGATIVE_INFINITY;
  /** Partial stage: the progress last announced to the merge. */
  private announced = Number.NEGATIVE_INFINITY;

  /** Field positions, resolved once per input stream (tuples of a stream share `fields`). */
  private lastFields: readonly string[] | null = null;
  private timeIdx = -1;
  private dimIdx: (number[] | null)[] = [];
  private readonly keyBuf: (string | null)[];
  private readonly warned = new Set<string>();

  constructor(config: TopNConfig, options: TopNOptions = {}) {
    this.dims = resolveDimensions(config);
    const w = resolveWindowing(config);
    this.size = w.size;
    this.slide = w.slide;
    this.eventTime = config.timeMode === 'event';
    this.eventClock = new Watermark(config.allowedLateness, config.idleTimeout);
    this.partial = config.stage === 'partial';
    this.spaceSaving = config.mode === 'space-saving';
    this.capacity = config.capacity;
    this.candidates = config.candidates;
    this.separator = config.separator;
    this.timeField = config.timeField;
    this.now = options.now ?? Date.now;
    this.keyBuf = new Array<string | null>(this.dims.length).fill(null);
    this.dimIds = this.dims.map(dimensionId);
  }

  prepare(context: TopologyContext<TopNConfig>, collector: OutputCollector): void {
    this.ctx = context;
    this.out = collector;
    const state = context.keyedState<TopNStateEntry>(TOPN_STATE);
    const restored = [...state.entries()].map(([, v]) => v);
    // Every restored entry is taken (or dropped) here, and this task goes on under its own keys.
    state.clear();
    this.state = state;
    let taken = restored;
    if (!this.partial && context.parallelism > 1) {
      this.shard = shardOf(context.taskIndex, context.parallelism, state.maxParallelism);
      this.ownGroups = keyGroupRange(context.taskIndex, context.parallelism, state.maxParallelism);
      this.meta.shard = this.shard;
      // Each task of a single stage counts its share of the keys: another task's counts, or a share
      // cut another way (another parallelism), would make its rankings wrong. They are dropped, and
      // so left out of the next copy.
      taken = restored.filter((e) => (e as { shard?: unknown }).shard === this.shard);
      if (restored.some((e) => !isEntry(e, 'task') && (e as { shard?: unknown }).shard !== this.shard)) {
        context.logger.warn(
          `topn "${context.componentId}": open windows restored from an earlier run are dropped: a single stage with parallelism ${context.parallelism} takes back only ` +
            'the windows its task counted with the same parallelism (and maxParallelism), each task counting its own keys (to change parallelism across restarts, use stage: partial and a merge)',
        );
      }
    }
    state.set(this.stateKey(taskKey(context.taskIndex)), this.meta);
    const clock = this.restore(taken);
    // Restored windows need a clock before any new input: from how far the earlier run got, so
    // that this task reports progress (a merge waits for it) and its time goes on after
    // idleTimeout of silence, closing them, even if no new input ever reaches it.
    if (this.eventTime && this.open.size > 0 && Number.isFinite(clock)) {
      this.eventClock.at(this.now());
      this.eventClock.seed(clock);
      if (this.eventClock.value > this.watermark) this.watermark = this.eventClock.value;
    }
    // Valid, but rarely meant: the merge ranks only what the partial tasks send.
    const n = Math.max(...this.dims.map((d) => d.n));
    if (this.partial && this.candidates > 0 && this.candidates < n && context.taskIndex === 0) {
      context.logger.warn(
        `candidates ${this.candidates} is below n ${n}: each partial task sends only its ${this.candidates} largest counts per dimension, ` +
          'so a merged ranking can hold fewer than n entries; raise candidates to at least n (or 0 for all)',
      );
    }
  }

  execute(tuple: Tuple): void {
    this.executeBatch([tuple]);
  }

  executeBatch(tuples: readonly Tuple[]): void {
    const eventTime = this.eventTime;
    const size = this.size;
    const slide = this.slide;
    const open = this.open;
    const dims = this.dims.length;
    const keys = this.keyBuf;
    let late = 0;
    let bad = 0;
    let time = 0;
    if (!eventTime) {
      time = this.now();
      if (time > this.watermark) this.watermark = time;
    } else {
      // Silence is noticed here too (ticks): idle inputs leave the watermark, or move it on when all are idle.
      this.eventClock.at(this.now());
      if (this.eventClock.value > this.watermark) this.watermark = this.eventClock.value;
    }
    let ticked = false;
    let future = 0;
    let reached = Number.NEGATIVE_INFINITY;
    const limit = eventTime ? futureLimit() : Number.POSITIVE_INFINITY;
    for (let i = 0; i < tuples.length; i++) {
      const t = tuples[i]!;
      if (t.stream === TICK_STREAM) {
        ticked = true;
        continue;
      }
      if (t.fields !== this.lastFields) this.resolve(t);
      const v = t.values;
      if (eventTime) {
        const x = v[this.timeIdx];
        if (typeof x !== 'number' || !Number.isFinite(x)) {
          bad++;
          continue;
        }
        if (x > limit) {
          future++;
          continue;
        }
        time = x;
        if (x > reached) reached = x;
        this.watermark = this.eventClock.observe(t.sourceTask, x);
      }
      const wm = this.watermark;
      const lastStart = Math.floor(time / slide) * slide;
      if (lastStart + size <= wm) {
        late++;
        continue;
      }
      for (let d = 0; d < dims; d++) keys[d] = this.keyOf(v, d);
      for (let s = lastStart; s > time - size && s + size > wm; s -= slide) {
        let w = open.get(s);
        if (w === undefined) {
          w = this.newWindow(s);
          open.set(s, w);
        }
        const counters = w.counters;
        for (let d = 0; d < dims; d++) {
          const k = keys[d]!;
          if (k !== null) counters[d]!.add(k);
        }
      }
    }
    if (reached > this.meta.reached) {
      this.meta.reached = reached;
      for (const w of open.values()) w.data.reached = reached;
    }
    if (late > 0) {
      this.meta.late += late;
      this.ctx.count('late', late);
    }
    if (future > 0) {
      this.ctx.count('dropped', future, 'future_time');
      this.warnOnce(
        'future_time',
        `topn "${this.ctx.componentId}": dropped ${future} tuples whose "${this.timeField}" is more than 1h ahead of this machine's clock (a device with a wrong clock?); they would have closed every open window`,
      );
    }
    if (bad > 0) {
      this.ctx.count('dropped', bad, 'bad_time');
      this.warnOnce('bad_time', `topn "${this.ctx.componentId}": dropped ${bad} tuples whose "${this.timeField}" is not a finite number (ms since the epoch)`);
    }
    this.closeUpTo(this.watermark);
    // A partial task also says how far it got on every tick (about once a second), window end or
    // not, moved or not: a merge takes a task it has not heard from in idleTimeout for one without
    // input. One whose input went quiet still has counts to send (its time goes on after
    // idleTimeout), so it must not look like one without input meanwhile.
    if (ticked && this.partial && this.watermark > Number.NEGATIVE_INFINITY) this.announce(Math.max(this.watermark, this.announced));
  }

  finish(end?: FinishInfo): void {
    // A stop is not an end: with --state-dir, open windows stay in keyed state, and the resumed
    // run goes on filling them (emitted now, each would come twice, split where the run stopped).
    if (end?.stopped === true && this.state !== null && this.ctx.stateKept) return;
    // The input has ended, or a stop with nothing kept: every open window goes out, marked
    // incomplete where its time fell short of the end.
    const reached = this.eventTime ? this.meta.reached : this.now();
    this.closeUpTo(Number.POSITIVE_INFINITY, Math.max(this.watermark, reached));
    // Nothing is left for a later run: every window was emitted.
    if (this.state !== null) {
      this.state.clear();
      this.meta = newTaskData();
      this.meta.shard = this.shard;
    }
  }

  /** Open windows (for tests and diagnostics). */
  get openWindows(): number {
    return this.open.size;
  }

  private newWindow(start: number): Win {
    const counters = new Array<KeyCounter>(this.dims.length);
    const data = new Array<CounterData>(this.dims.length);
    for (let d = 0; d < counters.length; d++) data[d] = (counters[d] = newCounter(this.spaceSaving, this.capacity)).data;
    const w: Win = {
      start,
      end: start + this.size,
      counters,
      data: { kind: 'count', start, end: start + this.size, dims: this.dimIds, counters: data, split: false, reached: this.meta.reached },
      key: this.stateKey(windowKey(start, this.ctx.taskIndex)),
    };
    if (this.shard !== undefined) w.data.shard = this.shard;
    this.state?.set(w.key, w.data);
    return w;
  }

  /** The key of an entry of this task's: in its own key groups when it keeps a share (shard). */
  private stateKey(base: string): string {
    return this.shard === undefined ? base : ownedKey(base, this.ownGroups, this.state!.maxParallelism);
  }

  /**
   * Takes the entries restored from keyed state (prepare; the state is empty and not yet used):
   * windows of the same start, written by several tasks of an earlier run, are added up into one.
   * A window or a dimension the config has changed under (window, slide, a dimension's fields,
   * space-saving to exact, the stage) is dropped, with a warning.
   */
  private restore(entries: readonly unknown[]): number {
    let windows = 0;
    let dims = 0;
    // Where the restored clock starts: the earliest of how far the earlier tasks got (the slowest
    // holds the windows, as their watermark did), else the earliest restored window's start.
    let clock = Number.POSITIVE_INFINITY;
    let earliest = Number.POSITIVE_INFINITY;
    for (const e of entries) {
      if (isEntry(e, 'task')) {
        if (e.reached > this.meta.reached) this.meta.reached = e.reached;
        if (Number.isFinite(e.reached) && e.reached < clock) clock = e.reached;
        this.meta.late += e.late;
        continue;
      }
      if (isEntry(e, 'count') && e.start < earliest) earliest = e.start;
      // A window's own record of its task's progress: that task's entry may have gone to another task.
      if (isEntry(e, 'count') && typeof e.reached === 'number' && Number.isFinite(e.reached)) {
        if (e.reached < clock) clock = e.reached;
        if (e.reached > this.meta.reached) this.meta.reached = e.reached;
      }
      const start = isEntry(e, 'count') ? e.start : Number.NaN;
      if (!isEntry(e, 'count') || e.end - start !== this.size || !Number.isInteger(start / this.slide)) {
        windows++;
        continue;
      }
      let w = this.open.get(start);
      if (w === undefined) {
        w = this.newWindow(start);
        w.data.split = true;
        this.open.set(start, w);
      }
      for (let i = 0; i < e.dims.length; i++) {
        const d = this.dimIds.indexOf(e.dims[i]!);
        const c = e.counters[i]!;
        if (d >= 0 && w.counters[d]!.accepts(c)) w.counters[d]!.merge(c);
        else if (c.total > 0) dims++;
      }
    }
    // A window whose every count was dropped is not one: nothing was counted in it.
    for (const w of [...this.open.values()]) {
      w.data.reached = this.meta.reached;
      if (!w.counters.every((c) => c.total === 0)) continue;
      this.open.delete(w.start);
      this.state?.delete(w.key);
    }
    if (windows > 0 || dims > 0) {
      this.ctx.logger.warn(
        `topn "${this.ctx.componentId}": dropped ${windows} open window(s) and the counts of ${dims} dimension(s) of others restored from an earlier run: ` +
          'they do not fit this config (window, slide, stage, a dimension renamed or its fields changed, space-saving counts into exact mode)',
      );
    }
    return Number.isFinite(clock) ? clock : earliest;
  }

  /**
   * The key of a tuple in dimension d, or null when it is not counted there: a one-field key
   * needs its value; a key of several fields shows a missing part as `-` and needs at least one
   * (a link event has a device and an event type but no addresses, and still counts).
   */
  private keyOf(v: readonly unknown[], d: number): string | null {
    const idx = this.dimIdx[d];
    if (!idx) return null;
    const x = v[idx[0]!];
    if (idx.length === 1) {
      if (x === null || x === undefined) return null;
      return typeof x === 'string' ? x : String(x);
    }
    let present = x !== null && x !== undefined;
    let key = !present ? MISSING_PART : typeof x === 'string' ? x : String(x);
    for (let j = 1; j < idx.length; j++) {
      const y = v[idx[j]!];
      if (y === null || y === undefined) {
        key += KEY_SEPARATOR + MISSING_PART;
        continue;
      }
      present = true;
      key += KEY_SEPARATOR + (typeof y === 'string' ? y : String(y));
    }
    return present ? key : null;
  }

  private resolve(t: Tuple): void {
    this.lastFields = t.fields;
    const where = `stream "${t.stream}" of "${t.sourceComponent}"`;
    if (this.eventTime) {
      // Every task of the input's component counts for the watermark from its first tuple on.
      this.eventClock.expect(this.ctx.componentTasks(t.sourceComponent));
      this.timeIdx = t.fieldIndex(this.timeField);
      if (this.timeIdx < 0)
        this.warnOnce(`time ${where}`, `topn "${this.ctx.componentId}": ${where} has no field "${this.timeField}" (timeField); its tuples are dropped`);
    }
    this.dimIdx = this.dims.map((dim) => {
      const idx = dim.fields.map((f) => t.fieldIndex(f));
      const missing = dim.fields.filter((_, j) => idx[j]! < 0);
      if (missing.length === 0) return idx;
      this.warnOnce(
        `${dim.name} ${where}`,
        `topn "${this.ctx.componentId}": dimension "${dim.name}" needs field(s) ${missing.join(', ')}, which ${where} does not have; it counts nothing from that stream`,
      );
      return null;
    });
  }

  private warnOnce(what: string, message: string): void {
    if (this.warned.has(what)) return;
    this.warned.add(what);
    this.ctx.logger.error(message);
  }

  /**
   * Emits every open window ending at or before `until`, oldest first; a partial task then
   * announces its progress. `reached`: how far time got (beyond `until` only at the end of input).
   */
  private closeUpTo(until: number, reached = until): void {
    if (this.open.size > 0) {
      let ready: Win[] | null = null;
      for (const w of this.open.values()) if (w.end <= until) (ready ??= []).push(w);
      if (ready) {
        ready.sort((a, b) => a.end - b.end);
        for (const w of ready) {
          this.open.delete(w.start);
          this.state?.delete(w.key);
          this.emitWindow(w, Math.min(w.end, reached));
        }
      }
    }
    if (this.partial && this.crossesWindowEnd(this.announced, until)) this.announce(until, reached);
  }

  /**
   * Partial stage: tells the merge that every window ending at or before `until` was sent; at the
   * end of input, also how far its time got, which the merge needs to tell complete windows.
   */
  private announce(until: number, reached = until): void {
    const marker = new Array<unknown>(TOPN_PARTIAL_FIELDS.length).fill(null);
    marker[P.late] = this.meta.late;
    if (until === Number.POSITIVE_INFINITY) {
      marker[P.progress] = END_OF_INPUT;
      if (Number.isFinite(reached)) marker[P.until] = reached;
    } else marker[P.progress] = until;
    this.out.emit(marker, null);
    this.meta.late = 0;
    this.announced = until;
  }

  /** Whether a window ends in (from, to]. */
  private crossesWindowEnd(from: number, to: number): boolean {
    if (to <= from) return false;
    if (from === Number.NEGATIVE_INFINITY || to === Number.POSITIVE_INFINITY) return true;
    const k = Math.floor((from - this.size) / this.slide) + 1;
    return k * this.slide + this.size <= to;
  }

  /** `until`: the end of the window, or how far time got in it when the input ended first. */
  private emitWindow(w: Win, until: number): void {
    const dims = this.dims;
    if (this.partial) {
      for (let d = 0; d < dims.length; d++) {
        const dim = dims[d]!;
        const r = w.counters[d]!.report(this.candidates);
        // A restored window's keys were counted by other tasks too before the restart.
        const partitioned = dim.partitioned && !w.data.split;
        this.out.emit([dim.name, w.start, w.end, r.keys, r.counts, r.errors, r.total, r.rest, r.bound, r.distinct, dim.n, partitioned, 0, null, null], null);
      }
      return;
    }
    const late = this.meta.late;
    this.meta.late = 0;
    for (let d = 0; d < dims.length; d++) {
      const dim = dims[d]!;
      // One task sees every key: its report is partitioned by key, trivially.
      const m = new RankMerge();
      m.add(w.counters[d]!.report(dim.n));
      const r = m.result(dim.n, true, this.separator);
      this.out.emit([dim.name, w.start, w.end, r.ranking, r.total, r.distinct, late, r.exact, r.guaranteed, until >= w.end, until], null);
    }
  }
}

interface MergeDim {
  readonly data: MergeDimData;
  readonly merge: RankMerge;
}

interface MergeWin {
  readonly start: number;
  readonly end: number;
  readonly dims: Map<string, MergeDim>;
  /** What keyed state holds, and under which key. */
  readonly data: MergeWindowData;
  readonly key: string;
}

/** `stage: merge`: adds up the candidates of every partial task and ranks. */
export class TopNMergeBolt implements Bolt<TopNConfig> {
  private readonly separator: string;
  private ctx!: TopologyContext<TopNConfig>;
  private out!: OutputCollector;
  /** Where open windows are kept across restarts. */
  private state: KeyedState<TopNStateEntry> | null = null;
  /**
   * `reached`: how far the input's time got: the highest progress of any partial task, or the
   * highest event time one saw before its input ended. The furthest task shows how far the input
   * went (the others have sent all they had), as one task's highest event time does in a single
   * stage. `late`: late tuples partial tasks reported, not yet given with a window.
   */
  private meta: TaskData = newTaskData();
  private readonly open = new Map<number, MergeWin>();
  /** Progress of every partial task the merge waits for, by global task id. */
  private readonly progress = new Map<number, number>();
  /** A partial task has announced the end of its input: the others' ends follow. */
  private ending = false;
  /** When each partial task was last heard from (processing time, ms). */
  private readonly heard = new Map<number, number>();
  private readonly idleMs: number;
  private readonly now: () => number;
  private readonly components = new Set<string>();
  private emittedUntil = Number.NEGATIVE_INFINITY;
  private lastFields: readonly string[] | null = null;
  private fieldsOk = false;
  private readonly warned = new Set<string>();

  constructor(config: TopNConfig, options: TopNOptions = {}) {
    this.separator = config.separator;
    this.idleMs = config.idleTimeout;
    this.now = options.now ?? Date.now;
  }

  prepare(context: TopologyContext<TopNConfig>, collector: OutputCollector): void {
    this.ctx = context;
    this.out = collector;
    // One task (parallelism is limited to 1): every restored entry is its own, or an earlier merge's.
    const state = context.keyedState<TopNStateEntry>(TOPN_STATE);
    const restored = [...state.entries()].map(([, v]) => v);
    state.clear();
    this.state = state;
    let dropped = 0;
    for (const e of restored) {
      if (isEntry(e, 'task')) {
        if (e.reached > this.meta.reached) this.meta.reached = e.reached;
        this.meta.late += e.late;
      } else if (isEntry(e, 'merge')) {
        const w = this.window(e.start, e.end);
        for (const d of e.dims) {
          const mine = w.dims.get(d.name);
          if (mine === undefined) this.addDim(w, d);
          else {
            mine.merge.absorb(d.merge);
            mine.data.partitioned &&= d.partitioned;
          }
        }
      } else dropped++;
    }
    if (dropped > 0) {
      context.logger.warn(
        `topn merge "${context.componentId}": dropped ${dropped} entries of keyed state restored from an earlier run that are not a merge's (was this component another stage?)`,
      );
    }
    state.set(taskKey(context.taskIndex), this.meta);
  }

  execute(tuple: Tuple): void {
    this.executeBatch([tuple]);
  }

  /** The open window starting at `start`, opened (and put in keyed state) if need be. */
  private window(start: number, end: number): MergeWin {
    let w = this.open.get(start);
    if (w === undefined) {
      const data: MergeWindowData = { kind: 'merge', start, end, dims: [] };
      w = { start, end, dims: new Map(), data, key: windowKey(start, this.ctx.taskIndex) };
      this.open.set(start, w);
      this.state?.set(w.key, data);
    }
    return w;
  }

  private addDim(w: MergeWin, data: MergeDimData): MergeDim {
    const d: MergeDim = { data, merge: new RankMerge(data.merge) };
    w.dims.set(data.name, d);
    w.data.dims.push(data);
    return d;
  }

  executeBatch(tuples: readonly Tuple[]): void {
    let afterEmit = 0;
    let notPartial = 0;
    // A tick re-checks which partial tasks went idle.
    let advanced = false;
    const now = this.now();
    for (let i = 0; i < tuples.length; i++) {
      const t = tuples[i]!;
      if (t.stream === TICK_STREAM) {
        advanced = true;
        continue;
      }
      if (t.fields !== this.lastFields) this.checkFields(t);
      if (!this.fieldsOk) {
        notPartial++;
        continue;
      }
      if (!this.components.has(t.sourceComponent)) this.learn(t, now);
      this.heard.set(t.sourceTask, now);
      const v = t.values;
      if (v[P.dimension] === null) {
        const p = v[P.progress] as number;
        if (p > (this.progress.get(t.sourceTask) ?? Number.NEGATIVE_INFINITY)) this.progress.set(t.sourceTask, p);
        if (p === END_OF_INPUT) this.ending = true;
        const reached = p === END_OF_INPUT ? v[P.until] : p;
        if (typeof reached === 'number' && reached > this.meta.reached) this.meta.reached = reached;
        this.meta.late += (v[P.late] as number) || 0;
        advanced = true;
        continue;
      }
      const start = v[P.windowStart] as number;
      const end = v[P.windowEnd] as number;
      if (end <= this.emittedUntil) {
        afterEmit++;
        continue;
      }
      const w = this.window(start, end);
      const name = v[P.dimension] as string;
      const partitioned = v[P.partitioned] === true;
      let d = w.dims.get(name);
      if (d === undefined) d = this.addDim(w, { name, n: v[P.n] as number, partitioned, merge: new RankMerge().data });
      // Partitioned only if every report says so (a partial task's restored window does not).
      else if (!partitioned) d.data.partitioned = false;
      d.merge.add({
        keys: v[P.keys] as string[],
        counts: v[P.counts] as number[],
        errors: v[P.errors] as number[] | null,
        total: v[P.total] as number,
        rest: v[P.rest] as number,
        bound: v[P.bound] as number,
        distinct: v[P.distinct] as number,
      } satisfies Report);
    }
    if (afterEmit > 0) this.ctx.count('dropped', afterEmit, 'after_emit');
    if (notPartial > 0) this.ctx.count('dropped', notPartial, 'not_partial');
    if (advanced) this.emitUpTo(this.minProgress(now));
  }

  /**
   * The lowest progress of the partial tasks heard from within idleTimeout. A task that has not
   * said anything for that long (it announces at least once a second while it has input) has no
   * input, and must not hold every window back; once it speaks again it counts again.
   */
  private minProgress(now: number): number {
    let min = Number.POSITIVE_INFINITY;
    let active = 0;
    for (const [task, p] of this.progress) {
      // The input ends for every partial task at once (finish): a quiet one now sends its open
      // windows before its end, so none is left out any more, or those windows would be lost.
      if (!this.ending && this.idleMs > 0 && now - (this.heard.get(task) ?? now) >= this.idleMs) continue;
      active++;
      if (p < min) min = p;
    }
    return active === 0 ? Number.NEGATIVE_INFINITY : min;
  }

  finish(end?: FinishInfo): void {
    // A stop with --state-dir: the open windows stay in keyed state with what the partial tasks
    // have sent so far; after a resume, those tasks send the rest (their open windows are kept too).
    if (end?.stopped === true && this.ctx.stateKept) return;
    this.emitUpTo(Number.POSITIVE_INFINITY);
    this.state?.clear();
    this.meta = newTaskData();
  }

  /** Every known partial task has announced progress up to `end` (or the end of its input). */
  private allReported(end: number): boolean {
    for (const p of this.progress.values()) if (p < end) return false;
    return true;
  }

  private learn(t: Tuple, now: number): void {
    this.components.add(t.sourceComponent);
    const tasks = this.ctx.componentTasks(t.sourceComponent);
    for (const id of tasks.length > 0 ? tasks : [t.sourceTask]) {
      if (this.progress.has(id)) continue;
      this.progress.set(id, Number.NEGATIVE_INFINITY);
      this.heard.set(id, now);
    }
    if (!this.progress.has(t.sourceTask)) this.progress.set(t.sourceTask, Number.NEGATIVE_INFINITY);
  }

  private checkFields(t: Tuple): void {
    this.lastFields = t.fields;
    this.fieldsOk = t.fields.length === TOPN_PARTIAL_FIELDS.length && TOPN_PARTIAL_FIELDS.every((f, i) => t.fields[i] === f);
    if (!this.fieldsOk && !this.warned.has(t.sourceComponent)) {
      this.warned.add(t.sourceComponent);
      this.ctx.logger.error(
        `topn merge "${this.ctx.componentId}": stream "${t.stream}" of "${t.sourceComponent}" is not the output of a topn partial stage ` +
          `(fields ${t.fields.join(', ')}); its tuples are dropped. Feed the merge from a topn with stage: partial.`,
      );
    }
  }

  private emitUpTo(until: number): void {
    if (until <= this.emittedUntil) return;
    let ready: MergeWin[] | null = null;
    for (const w of this.open.values()) if (w.end <= until) (ready ??= []).push(w);
    this.emittedUntil = until;
    if (!ready) return;
    ready.sort((a, b) => a.end - b.end);
    for (const w of ready) {
      this.open.delete(w.start);
      this.state?.delete(w.key);
      const late = this.meta.late;
      this.meta.late = 0;
      // Never before the window's start, even without word from the partial tasks (a merge finishing on its own).
      const until = Math.max(w.start, Math.min(w.end, this.meta.reached));
      // A partial task that has not said it sent this window (silent for idleTimeout) may still
      // send counts for it, which will come too late: the ranking cannot claim to be exact.
      const heardAll = this.allReported(w.end);
      for (const { data: d, merge } of w.dims.values()) {
        const r = merge.result(d.n, d.partitioned, this.separator);
        const exact = r.exact && heardAll;
        const guaranteed = r.guaranteed && heardAll;
        this.out.emit([d.name, w.start, w.end, r.ranking, r.total, r.distinct, late, exact, guaranteed, until >= w.end, until], null);
      }
    }
  }
}
