import type { ExecutorStats } from './stats.js';

/** One component's figures, summed over its tasks. */
export interface ComponentSummary {
  readonly component: string;
  readonly kind: ExecutorStats['kind'];
  readonly tasks: number;
  readonly emitted: number;
  readonly transferred: number;
  readonly executed: number;
  readonly acked: number;
  readonly failed: number;
  readonly timedOut: number;
  /** Spouts: message ids given up on after maxRetries failures. */
  readonly gaveUp: number;
  readonly errors: number;
  readonly dropped: number;
  readonly busyMs: number;
  readonly backpressureMs: number;
  /** Spouts: mean complete latency of acked trees, ms. */
  readonly completeLatencyMs: number;
  readonly custom: Readonly<Record<string, number>>;
}

export function summarize(stats: readonly ExecutorStats[]): ComponentSummary[] {
  const by = new Map<string, ExecutorStats[]>();
  // Task ids follow the plan's topological order: so do the rows.
  for (const s of [...stats].sort((a, b) => a.taskId - b.taskId)) {
    let list = by.get(s.componentId);
    if (!list) by.set(s.componentId, (list = []));
    list.push(s);
  }
  return [...by.entries()].map(([component, list]) => {
    const sum = (f: (s: ExecutorStats) => number) => list.reduce((a, s) => a + f(s), 0);
    const custom: Record<string, number> = {};
    for (const s of list) for (const [k, v] of Object.entries(s.custom)) custom[k] = (custom[k] ?? 0) + v;
    const acked = sum((s) => s.acked);
    return {
      component,
      kind: list[0]!.kind,
      tasks: list.length,
      emitted: sum((s) => s.emitted),
      transferred: sum((s) => s.transferred),
      executed: sum((s) => s.executed),
      acked,
      failed: sum((s) => s.failed),
      timedOut: sum((s) => s.timedOut),
      gaveUp: sum((s) => s.gaveUp),
      errors: sum((s) => s.errors),
      dropped: sum((s) => s.dropped),
      busyMs: sum((s) => s.busyMs),
      backpressureMs: sum((s) => s.backpressureMs),
      completeLatencyMs: list[0]!.kind === 'spout' && acked > 0 ? sum((s) => s.completeLatencyMsSum) / acked : 0,
      custom,
    };
  });
}
