import { addHistograms, type Histogram, newHistogram } from './metrics/histogram.js';

/**
 * Counters an executor keeps as plain numbers, updated per batch on the hot path and read by the
 * metrics layer on demand. Component-owned counters (a parser's error reasons) live in `custom`.
 */
export interface ExecutorStats {
  taskId: number;
  /** Index of the task within its component (0..parallelism-1). */
  taskIndex: number;
  componentId: string;
  kind: 'spout' | 'bolt' | 'sink';
  /** Tuples emitted by this task (each emit once, whatever the fan-out). */
  emitted: number;
  /** Tuple copies handed to consuming tasks (one emit to an `all` grouping of 4 tasks is 4). */
  transferred: number;
  /** Input tuples executed (bolts). */
  executed: number;
  /** Spouts: tuple trees completed; bolts: input tuples acked. */
  acked: number;
  /** Spouts: tuple trees failed (bolt failure or timeout); bolts: input tuples failed. */
  failed: number;
  /** Spouts: trees that timed out (included in failed). */
  timedOut: number;
  /** Errors thrown by component code, or reported with reportError. */
  errors: number;
  /**
   * Tuple copies lost: routed to no task by a grouping (not a stream nobody consumes), or holding values
   * that cannot be copied to another thread (those are also in `droppedUncloneable`).
   */
  dropped: number;
  droppedUncloneable: number;
  /** Spouts: tuples emitted with a message id that had failed before (a replay). */
  replayed: number;
  /** Spouts: message ids given up on after maxRetries failures (acked to the spout, not replayed). */
  gaveUp: number;
  /** Milliseconds spent inside execute / next. */
  busyMs: number;
  /** Milliseconds this task could not run because a downstream edge had no credit. */
  backpressureMs: number;
  /** The same, by the consuming component whose task had no credit. */
  backpressureMsByTarget: Record<string, number>;
  /** Busy fraction (0..1) over the last ten seconds or so: Storm UI's capacity. A gauge. */
  capacity: number;
  /** Bolts: execute time of sampled tuples (1 in latencySampling, on average). */
  executeLatency: Histogram;
  /** Bolts: arrival in the input queue to ack, of sampled tuples. */
  processLatency: Histogram;
  /** Spouts: emit to tree completion, of every acked tree. */
  completeLatency: Histogram;
  /** Spouts: sum of complete latencies of acked trees, ms. */
  completeLatencyMsSum: number;
  /** Spouts: trees currently pending. */
  pending: number;
  /** Batches waiting in the input queue. */
  queued: number;
  custom: Record<string, number>;
}

export function newStats(taskId: number, componentId: string, kind: ExecutorStats['kind'], taskIndex = 0): ExecutorStats {
  return {
    taskId,
    taskIndex,
    componentId,
    kind,
    emitted: 0,
    transferred: 0,
    executed: 0,
    acked: 0,
    failed: 0,
    timedOut: 0,
    errors: 0,
    dropped: 0,
    droppedUncloneable: 0,
    replayed: 0,
    gaveUp: 0,
    busyMs: 0,
    backpressureMs: 0,
    backpressureMsByTarget: {},
    capacity: 0,
    executeLatency: newHistogram(),
    processLatency: newHistogram(),
    completeLatency: newHistogram(),
    completeLatencyMsSum: 0,
    pending: 0,
    queued: 0,
    custom: {},
  };
}

function addRecords(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/**
 * `later`'s figures with `earlier`'s counters added: the counts of a task whose thread was
 * replaced. Gauges (pending, queued, capacity) are `later`'s alone.
 */
export function addCounters(earlier: ExecutorStats | undefined, later: ExecutorStats): ExecutorStats {
  if (!earlier) return { ...later, custom: { ...later.custom }, backpressureMsByTarget: { ...later.backpressureMsByTarget } };
  return {
    ...later,
    emitted: earlier.emitted + later.emitted,
    transferred: earlier.transferred + later.transferred,
    executed: earlier.executed + later.executed,
    acked: earlier.acked + later.acked,
    failed: earlier.failed + later.failed,
    timedOut: earlier.timedOut + later.timedOut,
    errors: earlier.errors + later.errors,
    dropped: earlier.dropped + later.dropped,
    droppedUncloneable: earlier.droppedUncloneable + later.droppedUncloneable,
    replayed: earlier.replayed + later.replayed,
    gaveUp: earlier.gaveUp + later.gaveUp,
    busyMs: earlier.busyMs + later.busyMs,
    backpressureMs: earlier.backpressureMs + later.backpressureMs,
    backpressureMsByTarget: addRecords(earlier.backpressureMsByTarget, later.backpressureMsByTarget),
    completeLatencyMsSum: earlier.completeLatencyMsSum + later.completeLatencyMsSum,
    executeLatency: addHistograms(earlier.executeLatency, later.executeLatency),
    processLatency: addHistograms(earlier.processLatency, later.processLatency),
    completeLatency: addHistograms(earlier.completeLatency, later.completeLatency),
    custom: addRecords(earlier.custom, later.custom),
  };
}

/** The counters of `s` with its gauges zeroed: what a replacement thread starts a task from. */
export function countersOnly(s: ExecutorStats): ExecutorStats {
  return { ...addCounters(undefined, s), pending: 0, queued: 0, capacity: 0 };
}

/** A component counter's key in ExecutorStats.custom: `name`, or `name{reason="x"}` with a reason. */
export function customKey(name: string, reason?: string): string {
  return reason === undefined ? name : `${name}{reason="${reason}"}`;
}

// `[\s\S]`: a reason may hold a newline (prom-client escapes it in the exposition).
const CUSTOM_KEY = /^([^{]+)(?:\{reason="([\s\S]*)"\})?$/;

/** The name and reason of a customKey(); undefined for a key of another form. */
export function parseCustomKey(key: string): { name: string; reason: string | undefined } | undefined {
  const m = CUSTOM_KEY.exec(key);
  return m ? { name: m[1]!, reason: m[2] } : undefined;
}
