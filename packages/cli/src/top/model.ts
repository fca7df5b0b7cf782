/**
 * What `qitian top` shows, computed from two snapshots of /api/v1/stats: one row per component
 * (rates over the interval, the engine's capacity gauge, p99 latency from histogram deltas,
 * backpressure) and the bottleneck with a parallelism to try. Pure functions, no I/O.
 */
import { type ExecutorStats, type Histogram, parseCustomKey, quantile, subtractHistograms } from '@qitian/runtime';

/** What GET /api/v1/stats answers. */
export interface StatsSnapshot {
  /** When the engine took it, ms since the epoch. */
  readonly time: number;
  readonly name: string;
  readonly workers: number;
  readonly restarts: number;
  readonly uptimeSeconds: number;
  /** When this run booted, ms since the epoch: a different value is a different run. */
  readonly startedAt: number;
  readonly phase: string;
  /** Each worker thread's busy fraction (0..1, null before it measured itself); absent from older engines. */
  readonly threadBusy?: readonly (number | null)[];
  /** Running threads that have not reported for seconds (stuck in a component); absent from older engines. */
  readonly silentThreads?: readonly SilentThread[];
  readonly tasks: readonly ExecutorStats[];
}

export interface SilentThread {
  readonly worker: number;
  readonly silentSeconds: number;
  /** The components with tasks on it: one of them is stuck. */
  readonly components: readonly string[];
  /** The task whose code it is running, when it is in one (absent from older engines). */
  readonly stuckIn?: { readonly component: string; readonly task: number } | null;
}

/** The part of GET /api/v1/topology that top uses. */
export interface TopologyInfo {
  readonly name: string;
  readonly components: readonly { readonly id: string; readonly kind: ExecutorStats['kind']; readonly parallelism: number }[];
  /** Absent from endpoints older than this field. */
  readonly config?: { readonly acking: boolean; readonly maxSpoutPending: number };
}

/** One component over one interval, summed (or maxed) over its tasks. */
export interface ComponentRow {
  readonly component: string;
  readonly kind: ExecutorStats['kind'];
  /** Tasks that reported. */
  readonly tasks: number;
  /** Declared parallelism (the task count when the topology is unknown). */
  readonly parallelism: number;
  /** Bolts and sinks: tuples executed per second; null for spouts. */
  readonly inPerSecond: number | null;
  /** Spouts and bolts: tuples emitted per second; null for sinks. */
  readonly outPerSecond: number | null;
  /** The engine's capacity gauge (busy fraction over ~10 s), the busiest task's. */
  readonly capacity: number;
  /** The same, averaged over the tasks. */
  readonly capacityMean: number;
  /** 99th percentile over the interval, seconds: execute latency (bolts, sinks), complete latency (spouts); null with no observations. */
  readonly p99Seconds: number | null;
  /**
   * The p99 lies beyond the histograms' last bound (10 s): p99Seconds says 10, the latency is
   * more. Absent (false) otherwise.
   */
  readonly p99OverMax?: boolean;
  /** Total since the start. */
  readonly errors: number;
  readonly errorsPerSecond: number;
  /** Total since the start. */
  readonly dropped: number;
  readonly droppedPerSecond: number;
  /** Fraction (0..1) of the interval the tasks could not run because a consumer had no credit. */
  readonly backpressure: number;
  /** The consuming component that blocked it most over the interval; null when never blocked. */
  readonly backpressureOn: string | null;
  /** Spouts: tuple trees pending; null for others. */
  readonly pending: number | null;
  /** Input batches waiting, summed over the tasks. */
  readonly queued: number;
}

export interface Bottleneck {
  readonly component: string;
  readonly capacity: number;
  readonly parallelism: number;
  /** ceil(parallelism * capacity / TARGET_CAPACITY), when that is more than `parallelism`; else null. */
  readonly suggestedParallelism: number | null;
  /**
   * Named although under BUSY_THRESHOLD: this component waits on it that fraction of the time (its
   * executes wait on something capacity does not count, e.g. async calls). Absent otherwise.
   */
  readonly waitedOnBy?: { readonly component: string; readonly backpressure: number };
  /**
   * Named because a worker thread has been stuck in this component's code (it stopped reporting):
   * everything on that thread waits, and what waits on it looks like a bottleneck. Absent otherwise.
   */
  readonly stuck?: { readonly worker: number; readonly task: number; readonly silentSeconds: number };
}

export interface TopView {
  readonly time: number;
  readonly topology: {
    readonly name: string;
    readonly phase: string;
    readonly uptimeSeconds: number;
    readonly workers: number;
    readonly restarts: number;
    /** Each worker thread's busy fraction, when the engine reports it. */
    readonly threadBusy?: readonly (number | null)[];
  };
  readonly intervalSeconds: number;
  /** In topological order. */
  readonly components: readonly ComponentRow[];
  readonly bottleneck: Bottleneck | null;
  /**
   * Spouts with maxSpoutPending trees in flight on (nearly) every task: they wait for acks, not
   * for a busy consumer, so no component need be busy for them to be slow.
   */
  readonly heldSpouts: readonly HeldSpout[];
  /** Threads stuck in a component: their figures are stale. */
  readonly silentThreads: readonly SilentThread[];
}

export interface HeldSpout {
  readonly component: string;
  readonly maxSpoutPending: number;
  /** Complete latency p99 over the interval, seconds; null with none completed. */
  readonly p99Seconds: number | null;
  /** As ComponentRow.p99OverMax. */
  readonly p99OverMax?: boolean;
}

/** A spout task with this fraction of maxSpoutPending in flight waits for acks. */
export const HELD_PENDING = 0.9;

/** Below this capacity no component is called a bottleneck. */
export const BUSY_THRESHOLD = 0.5;
/** A component blocked this fraction of the time or more waits on another: not the bottleneck. */
export const BACKPRESSURE_THRESHOLD = 0.2;
/** The busy fraction the parallelism suggestion aims at. */
export const TARGET_CAPACITY = 0.7;

/** Columns rows can be sorted by; `topology` is the DAG's order (spouts first). */
export const SORT_COLUMNS = ['topology', 'name', 'in', 'out', 'capacity', 'p99', 'errors', 'drops', 'backpressure', 'pending', 'queue'] as const;
export type SortColumn = (typeof SORT_COLUMNS)[number];

export function isSortColumn(s: string): s is SortColumn {
  return (SORT_COLUMNS as readonly string[]).includes(s);
}

/** A counter's growth between two snapshots; a smaller later value means the task restarted from zero. */
function delta(earlier: number | undefined, later: number): number {
  if (earlier === undefined || later < earlier) return later;
  return later - earlier;
}

function histogramDelta(earlier: Histogram | undefined, later: Histogram): Histogram {
  if (!earlier || later.count < earlier.count) return later;
  return subtractHistograms(later, earlier);
}

function addHistogram(into: Histogram | undefined, h: Histogram): Histogram {
  if (!into) return { counts: [...h.counts], sum: h.sum, count: h.count };
  return { counts: into.counts.map((c, i) => c + (h.counts[i] ?? 0)), sum: into.sum + h.sum, count: into.count + h.count };
}

/** Whether quantile `q` of `h` falls in its +Inf bucket, where quantile() can only answer the last bound. */
function overMax(h: Histogram, q: number): boolean {
  const inf = h.counts[h.counts.length - 1] ?? 0;
  return h.count > 0 && inf > 0 && h.count - inf < q * h.count;
}

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

/**
 * One row per component from two snapshots of the same run, `later` taken after `earlier`.
 * Rows follow the topology's order when it is given, else the order of task ids (also
 * topological). A task absent from `earlier` counts from zero.
 */
export function componentRows(earlier: StatsSnapshot, later: StatsSnapshot, topology?: TopologyInfo): ComponentRow[] {
  const seconds = Math.max((later.time - earlier.time) / 1000, 1e-3);
  const before = new Map(earlier.tasks.map((t) => [t.taskId, t]));
  const byComponent = new Map<string, ExecutorStats[]>();
  for (const c of topology?.components ?? []) byComponent.set(c.id, []);
  for (const t of [...later.tasks].sort((a, b) => a.taskId - b.taskId)) {
    let list = byComponent.get(t.componentId);
    if (!list) byComponent.set(t.componentId, (list = []));
    list.push(t);
  }
  const declared = new Map((topology?.components ?? []).map((c) => [c.id, c]));
  const rows: ComponentRow[] = [];
  for (const [component, tasks] of byComponent) {
    const kind = tasks[0]?.kind ?? declared.get(component)?.kind ?? 'bolt';
    const sumDelta = (f: (s: ExecutorStats) => number) => tasks.reduce((a, t) => a + delta(maybe(before.get(t.taskId), f), f(t)), 0);
    const sum = (f: (s: ExecutorStats) => number) => tasks.reduce((a, t) => a + f(t), 0);
    let latency: Histogram | undefined;
    const blockedOn = new Map<string, number>();
    for (const t of tasks) {
      const prev = before.get(t.taskId);
      const pick = (s: ExecutorStats) => (kind === 'spout' ? s.completeLatency : s.executeLatency);
      latency = addHistogram(latency, histogramDelta(prev && pick(prev), pick(t)));
      for (const [target, ms] of Object.entries(t.backpressureMsByTarget)) {
        blockedOn.set(target, (blockedOn.get(target) ?? 0) + delta(prev?.backpressureMsByTarget[target], ms));
      }
    }
    const p99 = latency ? quantile(latency, 0.99) : Number.NaN;
    const n = tasks.length;
    const backpressure = n > 0 ? clamp01(sumDelta((s) => s.backpressureMs) / (seconds * 1000 * n)) : 0;
    const worst = [...blockedOn].filter(([, ms]) => ms > 0).sort((a, b) => b[1] - a[1])[0];
    rows.push({
      component,
      kind,
      tasks: n,
      parallelism: declared.get(component)?.parallelism ?? n,
      inPerSecond: kind === 'spout' ? null : sumDelta((s) => s.executed) / seconds,
      outPerSecond: kind === 'sink' ? null : sumDelta((s) => s.emitted) / seconds,
      capacity: n > 0 ? clamp01(Math.max(...tasks.map((t) => t.capacity))) : 0,
      capacityMean: n > 0 ? clamp01(sum((s) => s.capacity) / n) : 0,
      p99Seconds: Number.isNaN(p99) ? null : p99,
      p99OverMax: latency !== undefined && overMax(latency, 0.99),
      errors: sum(errorsOf),
      errorsPerSecond: sumDelta(errorsOf) / seconds,
      dropped: sum(droppedOf),
      droppedPerSecond: sumDelta(droppedOf) / seconds,
      backpressure,
      backpressureOn: worst ? worst[0] : null,
      pending: kind === 'spout' ? sum((s) => s.pending) : null,
      queued: sum((s) => s.queued),
    });
  }
  return rows;
}

/**
 * Errors of a task: what the engine counted (thrown or reported) and the component's own `errors`
 * counters (bad input it handled itself, which it does not also report: docs/metrics.md).
 */
function errorsOf(s: ExecutorStats): number {
  return s.errors + ownCounter(s, 'errors');
}

/** Tuple copies the engine could not deliver, and what the component counted as `dropped`. */
function droppedOf(s: ExecutorStats): number {
  return s.dropped + ownCounter(s, 'dropped');
}

/** A component counter summed over its reasons. */
function ownCounter(s: ExecutorStats, name: string): number {
  let n = 0;
  for (const key in s.custom) if (parseCustomKey(key)?.name === name) n += s.custom[key]!;
  return n;
}

function maybe(s: ExecutorStats | undefined, f: (s: ExecutorStats) => number): number | undefined {
  return s === undefined ? undefined : f(s);
}

/**
 * The busiest component (highest capacity) that is not itself held back by backpressure, when
 * it is at least BUSY_THRESHOLD busy; with the parallelism that would bring it to
 * TARGET_CAPACITY, when that is more than it has. A busier component that is backpressured is
 * waiting on a consumer, which is where more threads would help.
 */
export function findBottleneck(rows: readonly ComponentRow[], silent: readonly SilentThread[] = []): Bottleneck | null {
  // A thread stuck in a component holds every task on it, and its figures are stale: the
  // components waiting on those tasks would otherwise be named, with parallelism to add.
  const stuck = silent.find((t) => t.stuckIn && rows.some((r) => r.component === t.stuckIn!.component));
  if (stuck) {
    const r = rows.find((x) => x.component === stuck.stuckIn!.component)!;
    return {
      component: r.component,
      capacity: r.capacity,
      parallelism: r.parallelism,
      suggestedParallelism: null,
      stuck: { worker: stuck.worker, task: stuck.stuckIn!.task, silentSeconds: stuck.silentSeconds },
    };
  }
  // Silent, in no component's code: what runs on it cannot be judged from its stale figures.
  const stale = new Set(silent.flatMap((t) => t.components));
  let best: ComponentRow | undefined;
  for (const r of rows) {
    if (r.tasks === 0 || r.capacity < BUSY_THRESHOLD || r.backpressure >= BACKPRESSURE_THRESHOLD || stale.has(r.component)) continue;
    if (!best || r.capacity > best.capacity) best = r;
  }
  if (!best) return waitedOn(rows, stale);
  return {
    component: best.component,
    capacity: best.capacity,
    parallelism: best.parallelism,
    suggestedParallelism: suggestParallelism(best.parallelism, best.capacity),
  };
}

/**
 * No component is busy, yet one holds another back (backpressured on it): it waits on something
 * capacity, a measure of CPU time, does not count (async calls to a database or a service).
 */
function waitedOn(rows: readonly ComponentRow[], stale: ReadonlySet<string>): Bottleneck | null {
  let blocked = rows.find((r) => r.backpressure >= BACKPRESSURE_THRESHOLD && r.backpressureOn !== null);
  // Along a chain of waits to its end: a consumer that is itself held back by its own consumer
  // is waiting too, not busy with async work (gen -> parse -> a slow sink names the sink).
  const seen = new Set<string>();
  while (blocked && !seen.has(blocked.component)) {
    seen.add(blocked.component);
    const next = rows.find((r) => r.component === blocked!.backpressureOn && r.tasks > 0);
    if (!next || next.backpressure < BACKPRESSURE_THRESHOLD || next.backpressureOn === null || seen.has(next.component)) break;
    blocked = next;
  }
  const on = blocked && rows.find((r) => r.component === blocked!.backpressureOn && r.tasks > 0 && !stale.has(r.component));
  if (!blocked || !on || on.capacity >= BUSY_THRESHOLD) return null;
  return {
    component: on.component,
    capacity: on.capacity,
    parallelism: on.parallelism,
    suggestedParallelism: on.parallelism * 2,
    waitedOnBy: { component: blocked.component, backpressure: blocked.backpressure },
  };
}

/** ceil(parallelism * capacity / TARGET_CAPACITY) when that is more than `parallelism`, else null. */
export function suggestParallelism(parallelism: number, capacity: number): number | null {
  // The epsilon keeps 0.7 / 0.7 at 1 despite floating point.
  const wanted = Math.ceil((parallelism * capacity) / TARGET_CAPACITY - 1e-9);
  return wanted > parallelism ? wanted : null;
}

/** Rows and bottleneck from two snapshots of one run. */
export function computeView(earlier: StatsSnapshot, later: StatsSnapshot, topology?: TopologyInfo): TopView {
  const components = componentRows(earlier, later, topology);
  return {
    time: later.time,
    topology: {
      name: later.name,
      phase: later.phase,
      uptimeSeconds: later.uptimeSeconds,
      workers: later.workers,
      restarts: later.restarts,
      ...(later.threadBusy ? { threadBusy: later.threadBusy } : {}),
    },
    intervalSeconds: Math.max((later.time - earlier.time) / 1000, 0),
    components,
    bottleneck: findBottleneck(components, later.silentThreads),
    heldSpouts: heldSpouts(components, topology),
    silentThreads: later.silentThreads ?? [],
  };
}

/** Spouts whose tasks hold, on average, at least HELD_PENDING of maxSpoutPending (acking on). */
export function heldSpouts(rows: readonly ComponentRow[], topology?: TopologyInfo): HeldSpout[] {
  const config = topology?.config;
  if (!config?.acking || !(config.maxSpoutPending > 0)) return [];
  const max = config.maxSpoutPending;
  return rows
    .filter((r) => r.kind === 'spout' && r.tasks > 0 && r.pending !== null && r.pending / r.tasks >= HELD_PENDING * max)
    .map((r) => ({ component: r.component, maxSpoutPending: max, p99Seconds: r.p99Seconds, p99OverMax: r.p99OverMax === true }));
}

/** What each column sorts by, in order of precedence; larger first. */
const SORT_KEYS: Record<Exclude<SortColumn, 'topology' | 'name'>, ((r: ComponentRow) => number | null)[]> = {
  in: [(r) => r.inPerSecond],
  out: [(r) => r.outPerSecond],
  capacity: [(r) => r.capacity, (r) => r.capacityMean],
  p99: [(r) => r.p99Seconds],
  errors: [(r) => r.errorsPerSecond, (r) => r.errors],
  drops: [(r) => r.droppedPerSecond, (r) => r.dropped],
  backpressure: [(r) => r.backpressure],
  pending: [(r) => r.pending],
  queue: [(r) => r.queued],
};

/**
 * Rows sorted by `column`: name A to Z, figures largest first, ties in topological order;
 * `reverse` turns the order around, but rows without the figure (null) stay last. The input is
 * taken to be in topological order.
 */
export function sortRows(rows: readonly ComponentRow[], column: SortColumn, reverse = false): ComponentRow[] {
  const dir = reverse ? -1 : 1;
  const compare = (a: ComponentRow, b: ComponentRow): number => {
    if (column === 'topology') return 0;
    if (column === 'name') return dir * a.component.localeCompare(b.component);
    for (const key of SORT_KEYS[column]) {
      const x = key(a);
      const y = key(b);
      if (x === null || y === null) {
        if (x !== y) return x === null ? 1 : -1;
        continue;
      }
      if (x !== y) return dir * (y - x);
    }
    return 0;
  };
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => compare(a.r, b.r) || (column === 'topology' ? dir : 1) * (a.i - b.i))
    .map((x) => x.r);
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));
const roundOrNull = (x: number | null, digits: number) => (x === null ? null : round(x, digits));

/** What `qitian top --json` prints: the view with its figures rounded for reading. */
export function viewJson(view: TopView, url: string): unknown {
  return {
    url,
    time: view.time,
    topology: view.topology,
    intervalSeconds: round(view.intervalSeconds, 3),
    components: view.components.map((r) => ({
      component: r.component,
      kind: r.kind,
      tasks: r.tasks,
      parallelism: r.parallelism,
      inPerSecond: roundOrNull(r.inPerSecond, 2),
      outPerSecond: roundOrNull(r.outPerSecond, 2),
      capacity: round(r.capacity, 4),
      capacityMean: round(r.capacityMean, 4),
      p99Seconds: roundOrNull(r.p99Seconds, 7),
      p99OverMax: r.p99OverMax === true,
      errors: r.errors,
      errorsPerSecond: round(r.errorsPerSecond, 2),
      dropped: r.dropped,
      droppedPerSecond: round(r.droppedPerSecond, 2),
      backpressure: round(r.backpressure, 4),
      backpressureOn: r.backpressureOn,
      pending: r.pending,
      queued: r.queued,
    })),
    bottleneck: view.bottleneck && { ...view.bottleneck, capacity: round(view.bottleneck.capacity, 4) },
    heldSpouts: view.heldSpouts.map((h) => ({ ...h, p99Seconds: roundOrNull(h.p99Seconds, 7) })),
    silentThreads: view.silentThreads,
  };
}
