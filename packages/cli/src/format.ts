import type { ComponentSummary, RunSummary } from '@qitian/runtime';

/** A plain-text table, columns right-aligned except the first two. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatCount(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i < 2 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatCount(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** The end-of-run report: one row per component, then what components counted themselves. */
export function formatSummary(run: RunSummary, components: readonly ComponentSummary[]): string {
  const secs = run.durationMs / 1000;
  const givenUp = components.reduce((a, c) => a + c.gaveUp, 0);
  const lines = [
    `topology ${run.reason} after ${secs.toFixed(2)}s on ${run.workers} worker thread${run.workers === 1 ? '' : 's'}` +
      (run.restarts ? `, ${run.restarts} restart${run.restarts === 1 ? '' : 's'}` : '') +
      (run.abandoned ? `, ${run.abandoned} tuple tree${run.abandoned === 1 ? '' : 's'} abandoned by the drain timeout` : '') +
      (givenUp ? `, ${givenUp} message id${givenUp === 1 ? '' : 's'} given up after maxRetries failures` : '') +
      (run.incomplete ? ', end incomplete (a step outran drainTimeout; see the warnings above)' : ''),
    table(
      ['component', 'kind', 'tasks', 'emitted', 'executed', 'acked', 'failed', 'timed out', 'errors', 'dropped', 'per sec'],
      components.map((c) => [
        c.component,
        c.kind,
        c.tasks,
        c.emitted,
        c.executed,
        c.acked,
        c.failed,
        c.timedOut,
        c.errors,
        c.dropped,
        Math.round((c.kind === 'spout' ? c.emitted : c.executed) / Math.max(secs, 1e-3)),
      ]),
    ),
  ];
  const custom = components.flatMap((c) => Object.entries(c.custom).map(([k, v]) => [c.component, k, v] as [string, string, number]));
  if (custom.length > 0) lines.push('', table(['component', 'counter', 'value'], custom));
  return lines.join('\n');
}
