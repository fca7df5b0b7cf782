/**
 * `qitian top`'s screen as text: a header, one row per component, the bottleneck line. Pure:
 * returns strings; the caller decides whether they redraw a terminal or go down a pipe. Columns
 * that do not fit the width are left out, least useful first.
 */
import { BACKPRESSURE_THRESHOLD, BUSY_THRESHOLD, type ComponentRow, type SortColumn, sortRows, TARGET_CAPACITY, type TopView } from './model.js';

export interface RenderOptions {
  readonly url: string;
  readonly sort: SortColumn;
  readonly reverse?: boolean;
  /** ANSI colours and bold. */
  readonly color?: boolean;
  /** Columns available; unlimited when absent. */
  readonly width?: number;
  /** Lines available; unlimited when absent. Rows that do not fit are summed up in one line. */
  readonly height?: number;
  /** Show the live view's key help as the last line. */
  readonly keys?: boolean;
  /** A notice under the header: a lost connection, a restarted topology. */
  readonly status?: string;
}

/** Keys of the live view that sort, by column. */
export const SORT_KEYS: Readonly<Record<string, SortColumn>> = {
  t: 'topology',
  n: 'name',
  i: 'in',
  o: 'out',
  c: 'capacity',
  p: 'p99',
  e: 'errors',
  d: 'drops',
  b: 'backpressure',
  w: 'pending',
  u: 'queue',
};

export const KEY_HELP = 'q quit  r reverse  sort: t topology  n name  i in  o out  c capacity  p p99  e errors  d drops  b backpressure  w pending  u queue';

type Style = 'bold' | 'dim' | 'red' | 'yellow' | 'green' | 'cyan' | 'inverse';
const SGR: Record<Style, string> = { bold: '1', dim: '2', red: '31', yellow: '33', green: '32', cyan: '36', inverse: '7' };

function paint(text: string, styles: readonly (Style | undefined)[], on: boolean): string {
  const codes = styles.filter((s): s is Style => s !== undefined).map((s) => SGR[s]);
  return on && codes.length > 0 && text.length > 0 ? `\x1b[${codes.join(';')}m${text}\x1b[0m` : text;
}

/** 12.3, 456, 7.89k, 1.23M: three significant figures past a thousand. */
export function formatRate(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '-';
  if (n === 0) return '0';
  if (n < 10) return n.toFixed(1);
  if (n < 999.5) return String(Math.round(n));
  for (const [unit, size] of [
    ['k', 1e3],
    ['M', 1e6],
    ['G', 1e9],
  ] as const) {
    const x = n / size;
    if (x < 999.5 || unit === 'G') return `${x < 9.995 ? x.toFixed(2) : x < 99.95 ? x.toFixed(1) : Math.round(x)}${unit}`;
  }
  return String(n);
}

/** A latency: 850us, 12.3ms, 1.20s; '-' when there is none. */
export function formatSeconds(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '-';
  if (s < 0.001) return `${Math.round(s * 1e6)}us`;
  if (s < 1) {
    const ms = s * 1000;
    return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms)}ms`;
  }
  return `${s.toFixed(2)}s`;
}

/** A p99 beyond the histograms' last bound is shown as more than it (">10.00s"), not as that bound. */
export function p99Text(s: number | null, overMax: boolean | undefined): string {
  return overMax ? `>${formatSeconds(s)}` : formatSeconds(s);
}

/** 45s, 12m05s, 3h02m, 4d07h. */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d${two(Math.floor((s % 86400) / 3600))}h`;
}

const fraction = (x: number) => x.toFixed(2);
const percent = (x: number) => `${Math.round(x * 100)}%`;
const total = (n: number) => String(n);

interface Column {
  readonly header: string;
  readonly right: boolean;
  /** Higher stays longer when the width runs out. */
  readonly priority: number;
  readonly sort?: SortColumn;
  cell(r: ComponentRow): string;
  style?(r: ComponentRow): Style | undefined;
}

const capacityStyle = (c: number): Style | undefined => (c >= 0.8 ? 'red' : c >= BUSY_THRESHOLD ? 'yellow' : undefined);

const COLUMNS: readonly Column[] = [
  { header: 'COMPONENT', right: false, priority: 100, sort: 'name', cell: (r) => r.component },
  { header: 'KIND', right: false, priority: 40, cell: (r) => r.kind },
  { header: 'TASKS', right: true, priority: 35, cell: (r) => (r.tasks === r.parallelism ? String(r.tasks) : `${r.tasks}/${r.parallelism}`) },
  { header: 'IN/S', right: true, priority: 90, sort: 'in', cell: (r) => formatRate(r.inPerSecond) },
  { header: 'OUT/S', right: true, priority: 89, sort: 'out', cell: (r) => formatRate(r.outPerSecond) },
  { header: 'CAP', right: true, priority: 95, sort: 'capacity', cell: (r) => fraction(r.capacity), style: (r) => capacityStyle(r.capacity) },
  { header: 'AVG', right: true, priority: 20, cell: (r) => fraction(r.capacityMean), style: (r) => capacityStyle(r.capacityMean) },
  { header: 'P99', right: true, priority: 80, sort: 'p99', cell: (r) => p99Text(r.p99Seconds, r.p99OverMax) },
  {
    header: 'BP',
    right: true,
    priority: 85,
    sort: 'backpressure',
    cell: (r) => percent(r.backpressure),
    style: (r) => (r.backpressure >= BACKPRESSURE_THRESHOLD ? 'yellow' : undefined),
  },
  { header: 'WAITS ON', right: false, priority: 15, cell: (r) => (r.backpressureOn && r.backpressure >= 0.01 ? r.backpressureOn : '-') },
  { header: 'ERRORS', right: true, priority: 70, sort: 'errors', cell: (r) => total(r.errors), style: (r) => (r.errorsPerSecond > 0 ? 'red' : undefined) },
  { header: 'ERR/S', right: true, priority: 30, cell: (r) => formatRate(r.errorsPerSecond), style: (r) => (r.errorsPerSecond > 0 ? 'red' : undefined) },
  { header: 'DROPS', right: true, priority: 60, sort: 'drops', cell: (r) => total(r.dropped), style: (r) => (r.droppedPerSecond > 0 ? 'yellow' : undefined) },
  { header: 'DROP/S', right: true, priority: 25, cell: (r) => formatRate(r.droppedPerSecond), style: (r) => (r.droppedPerSecond > 0 ? 'yellow' : undefined) },
  { header: 'PENDING', right: true, priority: 50, sort: 'pending', cell: (r) => (r.pending === null ? '-' : total(r.pending)) },
  { header: 'QUEUE', right: true, priority: 55, sort: 'queue', cell: (r) => total(r.queued) },
];

/** Longest component name shown in full. */
const NAME_MAX = 32;

function clip(text: string, width: number): string {
  return text.length <= width ? text : width <= 1 ? text.slice(0, width) : `${text.slice(0, width - 1)}…`;
}

/** The table lines (header first) that fit `width`, painted when `color`. */
function tableLines(rows: readonly ComponentRow[], bottleneck: string | undefined, opts: RenderOptions): string[] {
  const width = opts.width ?? Number.POSITIVE_INFINITY;
  const color = opts.color ?? false;
  const arrow = opts.reverse ? '↑' : '↓';
  const headerOf = (c: Column) => (c.sort === opts.sort ? `${c.header}${arrow}` : c.header);
  const nameOf = (r: ComponentRow) => clip(r.component, NAME_MAX) + (r.component === bottleneck ? ' *' : '');
  const cellOf = (c: Column, r: ComponentRow) => (c === COLUMNS[0] ? nameOf(r) : c.cell(r));
  let columns = [...COLUMNS];
  const widthOf = (c: Column) => Math.max(headerOf(c).length, ...rows.map((r) => cellOf(c, r).length));
  const totalWidth = () => columns.reduce((a, c) => a + widthOf(c), 0) + 2 * (columns.length - 1);
  while (columns.length > 1 && totalWidth() > width) {
    const least = columns.reduce((a, c) => (c.priority < a.priority ? c : a));
    columns = columns.filter((c) => c !== least);
  }
  const widths = columns.map(widthOf);
  const pad = (c: Column, text: string, w: number) => (c.right ? text.padStart(w) : text.padEnd(w));
  const line = (cells: string[]) => clip(cells.join('  ').trimEnd(), width);
  const header = line(columns.map((c, i) => pad(c, headerOf(c), widths[i]!)));
  const out = [paint(color ? header.padEnd(Math.min(width, 400)) : header, ['inverse'], color)];
  for (const r of rows) {
    const hot = r.component === bottleneck;
    const plain = columns.map((c, i) => pad(c, cellOf(c, r), widths[i]!));
    const text = line(plain);
    if (!color || text.length < plain.join('  ').trimEnd().length) {
      out.push(hot ? paint(text, ['bold'], color) : text);
      continue;
    }
    // Painted cell by cell; the whole line fits, so nothing is clipped.
    const cells = columns.map((c, i) => paint(plain[i]!, [hot ? 'bold' : undefined, c === COLUMNS[0] && hot ? 'red' : c.style?.(r)], true));
    out.push(cells.join('  ').replace(/\s+$/, ''));
  }
  return out;
}

/** The header: name, phase, uptime, workers, restarts, address, interval and sort. */
function headerLines(view: Pick<TopView, 'topology' | 'intervalSeconds' | 'time' | 'silentThreads'> | undefined, opts: RenderOptions): string[] {
  const width = opts.width ?? Number.POSITIVE_INFINITY;
  const color = opts.color ?? false;
  if (!view) return [clip(`qitian top  ${opts.url}`, width)];
  const t = view.topology;
  const phaseStyle: Style | undefined = t.phase === 'running' ? 'green' : 'yellow';
  const first = [
    paint(t.name, ['bold'], color),
    paint(t.phase, [phaseStyle], color),
    `up ${formatUptime(t.uptimeSeconds)}`,
    `${t.workers} worker${t.workers === 1 ? '' : 's'}`,
    `${t.restarts} restart${t.restarts === 1 ? '' : 's'}`,
    opts.url,
  ];
  const plainFirst = [t.name, t.phase, ...first.slice(2)].join('  ');
  const time = new Date(view.time).toTimeString().slice(0, 8);
  // A stuck thread's figure is the last it gave (13% while it spins at 100%): say stuck instead.
  const stuck = new Set(view.silentThreads.map((s) => s.worker));
  const busy = t.threadBusy?.some((b) => b !== null)
    ? `  threads busy ${t.threadBusy.map((b, i) => (stuck.has(i) ? 'stuck' : b === null ? '-' : percent(b))).join(' ')}`
    : '';
  const second = `${time}  rates over ${view.intervalSeconds.toFixed(1)}s  sorted by ${opts.sort}${opts.reverse ? ' (reversed)' : ''}${busy}`;
  return [plainFirst.length <= width ? first.join('  ') : clip(plainFirst, width), clip(second, width)];
}

/** A line per thread that stopped reporting: one of its components is stuck, and its figures are stale. */
export function silentLines(view: TopView): string[] {
  return view.silentThreads.map((t) => {
    const where = t.stuckIn ? `it is stuck in "${t.stuckIn.component}" task ${t.stuckIn.task}` : `one of its components (${t.components.join(', ')}) is stuck`;
    return `worker ${t.worker} has not answered for ${t.silentSeconds}s: ${where}, e.g. in a loop in execute or next; its figures are stale`;
  });
}

/** What the footer says about the bottleneck, or that there is none and why. */
export function bottleneckLine(view: TopView): string {
  const b = view.bottleneck;
  if (view.components.length === 0) return 'bottleneck: none (no tasks reported)';
  if (!b) {
    if (view.silentThreads.length > 0) return 'bottleneck: none named while a thread does not answer (below): its figures are stale';
    const busiest = [...view.components].sort((x, y) => y.capacity - x.capacity)[0]!;
    const held = view.heldSpouts[0];
    if (held && busiest.capacity < BUSY_THRESHOLD) {
      const others = view.heldSpouts.length > 1 ? ` (and ${view.heldSpouts.length - 1} more)` : '';
      const latency = held.p99Seconds === null ? '' : `, trees complete in p99 ${p99Text(held.p99Seconds, held.p99OverMax)}`;
      return (
        `bottleneck: none busy, but ${held.component}${others} waits at maxSpoutPending (${held.maxSpoutPending} a task${latency}): ` +
        'raise config.maxSpoutPending, or look for what holds tuples (async executes, a sink flushInterval)'
      );
    }
    if (busiest.capacity < BUSY_THRESHOLD) return `bottleneck: none (every component is below ${percent(BUSY_THRESHOLD)} capacity)`;
    const on = busiest.backpressureOn ? ` by ${busiest.backpressureOn}` : '';
    return `bottleneck: none clear (${busiest.component} is at capacity ${fraction(busiest.capacity)} but blocked ${percent(busiest.backpressure)} of the time${on})`;
  }
  if (b.stuck) {
    return (
      `bottleneck: ${b.component} (worker ${b.stuck.worker} has been stuck in its task ${b.stuck.task} for ${b.stuck.silentSeconds}s: ` +
      'every task on that thread waits, and so does what feeds them) -> look at its code or what it waits on; more parallelism will not help'
    );
  }
  if (b.waitedOnBy) {
    return (
      `bottleneck: ${b.component} (${b.waitedOnBy.component} waits on it ${percent(b.waitedOnBy.backpressure)} of the time, yet its capacity is ` +
      `${fraction(b.capacity)}: its executes wait on something, e.g. async calls, which capacity does not count) ` +
      `-> try parallelism ${b.suggestedParallelism}, or speed up what it waits on`
    );
  }
  const row = view.components.find((r) => r.component === b.component);
  const head = `bottleneck: ${b.component} (capacity ${fraction(b.capacity)}, parallelism ${b.parallelism})`;
  const advice =
    b.suggestedParallelism !== null
      ? ` -> try parallelism ${b.suggestedParallelism}`
      : `, within the ${percent(TARGET_CAPACITY)} target: no more parallelism needed`;
  const uneven =
    row && row.tasks > 1 && row.capacityMean < 0.6 * row.capacity
      ? `; its tasks are uneven (mean capacity ${fraction(row.capacityMean)}): check the grouping's keys`
      : '';
  return head + advice + uneven;
}

/** A full screen (or a snapshot for a pipe) of one view. */
export function renderView(view: TopView, opts: RenderOptions): string {
  const width = opts.width ?? Number.POSITIVE_INFINITY;
  const color = opts.color ?? false;
  const top = headerLines(view, opts);
  if (opts.status) top.push(paint(clip(opts.status, width), ['yellow'], color));
  const rows = sortRows(view.components, opts.sort, opts.reverse);
  const footer = ['', paint(clip(bottleneckLine(view), width), [view.bottleneck ? 'bold' : undefined], color)];
  for (const line of silentLines(view)) footer.push(paint(clip(line, width), ['red'], color));
  if (opts.keys) footer.push(paint(clip(KEY_HELP, width), ['dim'], color));
  let shown = rows;
  let more: string | undefined;
  if (opts.height !== undefined) {
    // header lines, a blank line, the table header, the rows, the footer
    const room = opts.height - top.length - 2 - footer.length;
    if (rows.length > room) {
      shown = rows.slice(0, Math.max(0, room - 1));
      const hidden = rows.length - shown.length;
      more = clip(`... ${hidden} more component${hidden === 1 ? '' : 's'} (a taller terminal shows them)`, width);
    }
  }
  const table = tableLines(shown, view.bottleneck?.component, opts);
  return [...top, '', ...table, ...(more ? [paint(more, ['dim'], color)] : []), ...footer].join('\n');
}

/** A screen with no figures yet: connecting, measuring the first interval, or waiting for the endpoint to come back. */
export function renderNotice(message: string, opts: RenderOptions & { readonly view?: TopView }): string {
  const width = opts.width ?? Number.POSITIVE_INFINITY;
  const lines = [...headerLines(opts.view, opts), '', paint(clip(message, width), ['yellow'], opts.color ?? false)];
  if (opts.keys) lines.push('', paint(clip(KEY_HELP, width), ['dim'], opts.color ?? false));
  return lines.join('\n');
}
