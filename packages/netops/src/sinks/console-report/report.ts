import type { Bolt, OutputCollector, TopologyContext, Tuple } from '@qitian/api';
import type { ConsoleReportConfig } from './spec.js';

interface RankingEntry {
  key: unknown;
  count: number;
  error?: number;
}

interface WindowBlock {
  start: number;
  end: number;
  /** Time up to which the window holds data: `end` unless the input ended inside it (topn's `until`). */
  until: number;
  dimensions: Map<string, { ranking: RankingEntry[]; total: number; exact: unknown }>;
  lastArrival: number;
}

const ALERT_COLORS: Record<string, string> = { critical: '\x1b[1;31m', major: '\x1b[31m', minor: '\x1b[33m', warning: '\x1b[33m', info: '\x1b[36m' };
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

/** One line per alert, one block per window of rankings. */
export class ConsoleReport implements Bolt<ConsoleReportConfig> {
  private collector!: OutputCollector;
  private readonly windows = new Map<number, WindowBlock>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly color: boolean;
  /** The last block printed; `speed`: event-time seconds per wall-clock second up to it, once known. */
  private lastPrinted: { at: number; end: number; speed: number | undefined } | undefined;
  /** The UTC date of the last window header printed. */
  private lastDay = '';

  constructor(
    private readonly config: ConsoleReportConfig,
    private readonly write: (text: string) => void = (t) => process.stdout.write(t),
    isTty = process.stdout.isTTY === true,
    /** A terminal's width: a ranking line shows the entries that fit in it (a wrapped one is hard to read). */
    private readonly columns: number | undefined = isTty ? process.stdout.columns : undefined,
  ) {
    this.color = config.color === 'always' || (config.color === 'auto' && isTty && !process.env.NO_COLOR);
  }

  prepare(_ctx: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
    this.timer = setInterval(() => this.printSettled(Date.now()), Math.max(50, this.config.settle / 2));
    this.timer.unref?.();
  }

  execute(t: Tuple): void {
    const fields = t.fields;
    if (fields.includes('ranking') && fields.includes('dimension')) this.addRanking(t);
    else if (fields.includes('strategy') && fields.includes('summary')) this.printAlert(t);
    else this.write(`${JSON.stringify(Object.fromEntries(t.fields.map((f, i) => [f, t.values[i]])))}\n`);
    this.collector.ack(t);
  }

  finish(): void {
    this.printSettled(Number.POSITIVE_INFINITY);
  }

  cleanup(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private addRanking(t: Tuple): void {
    const start = Number(t.get('windowStart'));
    const end = Number(t.get('windowEnd'));
    let w = this.windows.get(end);
    if (!w) this.windows.set(end, (w = { start, end, until: end, dimensions: new Map(), lastArrival: 0 }));
    w.lastArrival = Date.now();
    // A topn without these fields knows only complete windows.
    const until = t.fieldIndex('until') >= 0 && t.get('complete') === false ? Number(t.get('until')) : end;
    if (Number.isFinite(until) && until < w.until) w.until = Math.max(start, until);
    const ranking = Array.isArray(t.get('ranking')) ? (t.get('ranking') as RankingEntry[]) : [];
    w.dimensions.set(String(t.get('dimension')), { ranking, total: Number(t.get('total') ?? 0), exact: t.fieldIndex('exact') >= 0 ? t.get('exact') : true });
  }

  /** Prints, oldest first, every window that has been quiet for `settle` (all of them at the end). */
  private printSettled(now: number): void {
    const ready = [...this.windows.values()].filter((w) => now - w.lastArrival >= this.config.settle).sort((a, b) => a.end - b.end);
    for (const w of ready) {
      this.windows.delete(w.end);
      this.write(this.formatWindow(w, Date.now()));
    }
  }

  formatWindow(w: WindowBlock, wallNow: number): string {
    const first = w.dimensions.values().next().value;
    const events = first?.total ?? 0;
    const last = this.lastPrinted;
    let rate: string;
    let speed = last?.speed;
    if (w.until < w.end) {
      // Cut short by the end of the input: the rate over the time it covers, when that is a second
      // or more (a lone event over no time is no rate at all). The wall clock since the previous block does not match
      // that time (the previous block waited for the watermark, which trails by the lateness, and for
      // `settle`), so the wall-clock rate goes by the speed measured between the last complete blocks.
      const spanS = (w.until - w.start) / 1000;
      rate = `incomplete window: input ended at ${clock(w.until)}`;
      if (spanS >= 1) {
        rate += `; ${fmt(events / spanS)}/s event time`;
        if (speed !== undefined) rate += `, ${fmt((events / spanS) * speed)}/s wall clock`;
      }
    } else {
      const spanS = Math.max(0.001, (w.end - w.start) / 1000);
      rate = `${fmt(events / spanS)}/s event time`;
      if (last && w.end > last.end) {
        const wallS = (wallNow - last.at) / 1000;
        if (wallS > 0) {
          speed = (w.end - last.end) / 1000 / wallS;
          rate += `, ${fmt((events * ((w.end - last.end) / 1000 / spanS)) / wallS)}/s wall clock`;
        }
      }
    }
    this.lastPrinted = { at: wallNow, end: w.end, speed };
    // The date once, and again when it changes: a replay of old logs, or windows days apart, read apart.
    const day = new Date(w.start).toISOString().slice(0, 10);
    const date = day === this.lastDay ? '' : `${day} `;
    this.lastDay = day;
    const head = `window ${date}${clock(w.start)}-${clock(w.end)}  ${fmt(events)} events  (${rate})`;
    const lines = [`\n${this.paint(BOLD, `── ${head}`)}`];
    const width = Math.max(...[...w.dimensions.keys()].map((k) => k.length), 8);
    for (const [dimension, d] of w.dimensions) {
      const entries = d.ranking.slice(0, this.config.show).map((e) => `${showKey(e.key)} ${fmt(e.count)}${e.error ? `±${fmt(e.error)}` : ''}`);
      const prefix = `  ${dimension.padEnd(width)}  `;
      const suffix = d.exact === false ? '  (approximate)' : '';
      const top = this.columns === undefined ? entries.join(SEP) : fitEntries(entries, this.columns - prefix.length - suffix.length);
      lines.push(`${prefix}${top || '-'}${suffix}`);
    }
    return `${lines.join('\n')}\n`;
  }

  private printAlert(t: Tuple): void {
    const severity = String(t.get('severity'));
    const time = Number(t.get('time'));
    const label = `ALERT ${severity.toUpperCase()}`;
    const key = String(t.get('key') ?? '');
    const summary = String(t.get('summary'));
    // The key says where (a device, a source address); shown unless the summary already names it.
    const where = key && !summary.includes(key) ? `${key}: ` : '';
    const line = `${Number.isFinite(time) ? `${clock(time)} ` : ''}${this.paint(ALERT_COLORS[severity] ?? BOLD, label)} [${t.get('strategy')}] ${where}${summary}`;
    this.write(`${line}\n`);
  }

  private paint(code: string, text: string): string {
    return this.color ? `${code}${text}${RESET}` : text;
  }
}

const SEP = '  ·  ';

/** The entries that fit in `room` characters, with `…` when some were left out; the first always. */
export function fitEntries(entries: readonly string[], room: number): string {
  let line = '';
  for (let i = 0; i < entries.length; i++) {
    const next = i === 0 ? entries[0]! : `${line}${SEP}${entries[i]}`;
    // Room kept for the mark, unless this is the last entry.
    if (i > 0 && next.length + (i < entries.length - 1 ? 3 : 0) > room) return `${line}  …`;
    line = next;
  }
  return line;
}

function showKey(key: unknown): string {
  if (Array.isArray(key)) return key.map((k) => (k === null || k === undefined || k === '' ? '-' : String(k))).join(' | ');
  return String(key).replaceAll('\u001f', ' | ');
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** hh:mm:ss in UTC (event times of simulated devices are UTC). */
function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}
