/**
 * The Prometheus metric families of a set of tasks, built from their counters at scrape time.
 * Plain objects in prom-client's JSON shape, so that a thread's registry serves them and the
 * main thread merges the threads' with prom-client's aggregator.
 */
import { type ExecutorStats, parseCustomKey } from '../stats.js';
import { type Histogram, LATENCY_BUCKETS } from './histogram.js';

export type Labels = Record<string, string>;

export interface FamilyValue {
  value: number;
  labels: Labels;
  metricName?: string;
}

/** One metric family, as prom-client's getMetricsAsJSON() returns it. */
export interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: 'sum' | 'max' | 'first';
  values: FamilyValue[];
}

/** The per-task metrics: name, help and type, and which tasks have them. Documented in docs/metrics.md. */
export const TASK_METRICS = {
  emitted: { name: 'qitian_tuples_emitted_total', help: 'Tuples emitted by the task (each emit once, whatever the fan-out).' },
  transferred: { name: 'qitian_tuples_transferred_total', help: 'Tuple copies handed to consuming tasks.' },
  executed: { name: 'qitian_tuples_executed_total', help: 'Input tuples executed by the bolt.' },
  acked: { name: 'qitian_tuples_acked_total', help: 'Spouts: tuple trees completed. Bolts: input tuples acked.' },
  failed: { name: 'qitian_tuples_failed_total', help: 'Spouts: tuple trees failed (timeouts included). Bolts: input tuples failed.' },
  dropped: {
    name: 'qitian_tuples_dropped_total',
    help:
      'Tuple copies lost, by reason: unrouted (a grouping chose no task; a stream nobody consumes is not a drop), ' +
      'uncloneable (values that cannot cross threads).',
  },
  errors: { name: 'qitian_task_errors_total', help: 'Errors thrown by component code or reported with reportError.' },
  replays: { name: 'qitian_spout_replays_total', help: 'Tuples a spout emitted again after their tree failed.' },
  timeouts: { name: 'qitian_spout_timeouts_total', help: 'Tuple trees that failed because they were not completed within messageTimeout.' },
  givenUp: { name: 'qitian_spout_given_up_total', help: 'Message ids given up on after maxRetries failures: acked to the spout, not replayed.' },
  pending: { name: 'qitian_spout_pending_trees', help: 'Tuple trees a spout task has in flight.' },
  busy: { name: 'qitian_task_busy_seconds_total', help: 'Time the task spent in its own code (execute, next); its rate is the capacity.' },
  capacity: {
    name: 'qitian_task_capacity_ratio',
    help: 'Fraction of the last ten seconds the task was busy (Storm UI capacity); near 1 means it is a bottleneck.',
  },
  queue: { name: 'qitian_input_queue_batches', help: 'Batches waiting in the task input queue.' },
  backpressure: { name: 'qitian_backpressure_seconds_total', help: 'Time the task could not run because a task of the target component had no credit left.' },
  executeLatency: {
    name: 'qitian_execute_latency_seconds',
    help: 'Execute time of a tuple in a bolt (sampled: 1 in latencySampling tuples; batch bolts: batch time over its size).',
  },
  processLatency: { name: 'qitian_process_latency_seconds', help: 'Arrival in the input queue to ack of a tuple in a bolt (sampled as execute latency).' },
  completeLatency: { name: 'qitian_complete_latency_seconds', help: 'Emit to completion of a spout tuple tree (every acked tree).' },
} as const;

/** Prometheus-safe metric name part: letters, digits and underscores. */
export function metricPart(s: string): string {
  const clean = s.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(clean) ? `_${clean}` : clean;
}

/** The families of these tasks; `base` labels (the topology) go on every value. */
export function taskFamilies(stats: readonly ExecutorStats[], base: Labels): Family[] {
  const fam = new Map<string, Family>();
  const add = (name: string, help: string, type: Family['type'], labels: Labels, value: number, metricName?: string): void => {
    let f = fam.get(name);
    if (!f) fam.set(name, (f = { name, help, type, aggregator: type === 'gauge' ? 'max' : 'sum', values: [] }));
    f.values.push(metricName ? { value, labels, metricName } : { value, labels });
  };
  const counter = (m: { name: string; help: string }, labels: Labels, value: number) => add(m.name, m.help, 'counter', labels, value);
  const gauge = (m: { name: string; help: string }, labels: Labels, value: number) => add(m.name, m.help, 'gauge', labels, value);
  const histogram = (m: { name: string; help: string }, labels: Labels, h: Histogram) => {
    let cumulative = 0;
    for (let i = 0; i < h.counts.length; i++) {
      cumulative += h.counts[i]!;
      const le = i < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[i]) : '+Inf';
      add(m.name, m.help, 'histogram', { ...labels, le }, cumulative, `${m.name}_bucket`);
    }
    add(m.name, m.help, 'histogram', labels, h.sum, `${m.name}_sum`);
    add(m.name, m.help, 'histogram', labels, h.count, `${m.name}_count`);
  };

  for (const s of [...stats].sort((a, b) => a.taskId - b.taskId)) {
    const labels: Labels = { ...base, component: s.componentId, task: String(s.taskIndex) };
    const M = TASK_METRICS;
    counter(M.emitted, labels, s.emitted);
    counter(M.transferred, labels, s.transferred);
    if (s.kind !== 'spout') counter(M.executed, labels, s.executed);
    counter(M.acked, labels, s.acked);
    counter(M.failed, labels, s.failed);
    counter(M.dropped, { ...labels, reason: 'unrouted' }, s.dropped - s.droppedUncloneable);
    counter(M.dropped, { ...labels, reason: 'uncloneable' }, s.droppedUncloneable);
    counter(M.errors, labels, s.errors);
    counter(M.busy, labels, s.busyMs / 1000);
    gauge(M.capacity, labels, s.capacity);
    for (const [target, ms] of Object.entries(s.backpressureMsByTarget)) counter(M.backpressure, { ...labels, target }, ms / 1000);
    if (s.kind === 'spout') {
      counter(M.replays, labels, s.replayed);
      counter(M.timeouts, labels, s.timedOut);
      counter(M.givenUp, labels, s.gaveUp);
      gauge(M.pending, labels, s.pending);
      histogram(M.completeLatency, labels, s.completeLatency);
    } else {
      gauge(M.queue, labels, s.queued);
      histogram(M.executeLatency, labels, s.executeLatency);
      histogram(M.processLatency, labels, s.processLatency);
    }
    for (const [key, value] of Object.entries(s.custom)) {
      const c = parseCustomKey(key);
      if (!c) continue;
      const name = `qitian_component_${metricPart(c.name)}_total`;
      counter(
        { name, help: `Counted by the component with context.count('${c.name}').` },
        c.reason !== undefined ? { ...labels, reason: c.reason } : labels,
        value,
      );
    }
  }
  return [...fam.values()];
}
