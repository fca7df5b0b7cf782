/**
 * Counters an executor keeps as plain numbers, updated per batch on the hot path and read by the
 * metrics layer on demand. Component-owned counters (a parser's error reasons) live in `custom`.
 */
export interface ExecutorStats {
  taskId: number;
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
  /** Tuples emitted on a stream nobody consumes, or routed to no task. */
  dropped: number;
  /** Milliseconds spent inside execute / next. */
  busyMs: number;
  /** Milliseconds this task could not run because a downstream edge had no credit. */
  backpressureMs: number;
  /** Spouts: sum of complete latencies of acked trees, ms. */
  completeLatencyMsSum: number;
  /** Spouts: trees currently pending. */
  pending: number;
  /** Batches waiting in the input queue. */
  queued: number;
  custom: Record<string, number>;
}

export function newStats(taskId: number, componentId: string, kind: ExecutorStats['kind']): ExecutorStats {
  return {
    taskId,
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
    busyMs: 0,
    backpressureMs: 0,
    completeLatencyMsSum: 0,
    pending: 0,
    queued: 0,
    custom: {},
  };
}
