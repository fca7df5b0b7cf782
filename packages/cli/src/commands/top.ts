import { Command } from 'commander';
import { DEFAULT_URL, endpointBase } from '../endpoint-url.js';
import { UsageError } from '../errors.js';
import { type CommandIO, processIO } from '../io.js';
import { positiveNumber } from '../options.js';
import { EndpointError, fetchStats, fetchTopology, type RequestOptions } from '../top/client.js';
import { computeView, isSortColumn, SORT_COLUMNS, type SortColumn, type StatsSnapshot, type TopologyInfo, type TopView, viewJson } from '../top/model.js';
import { KEY_HELP, renderNotice, renderView, SORT_KEYS } from '../top/render.js';
import { openScreen, type Screen } from '../top/terminal.js';

export interface TopOptions {
  /** The endpoint as the user gave it (see endpointBase). */
  readonly url: string;
  readonly intervalSeconds: number;
  readonly sort: SortColumn;
  /** Two samples, one table (or JSON object), then return. */
  readonly once: boolean;
  readonly json: boolean;
  /** With `once`: attempts after a failed one before giving up. */
  readonly retries: number;
  /** Aborting ends the live view (SIGINT/SIGTERM in the CLI). */
  readonly signal: AbortSignal;
  readonly io: CommandIO;
  /** Redraw this terminal instead of printing snapshots. */
  readonly terminal?: { readonly stdout: NodeJS.WriteStream; readonly stdin: NodeJS.ReadStream; readonly color: boolean };
}

/** Sleeps `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

const every = (seconds: number) => `retrying every ${seconds}s`;

/** What to say about a failed request, with the retry interval. */
function troubleMessage(e: EndpointError, base: string, seconds: number, wasConnected: boolean): string {
  if (e.failure !== 'connect') return `${e.message}; ${every(seconds)}`;
  return wasConnected ? `the topology at ${base} went away (${e.reason}); ${every(seconds)}` : `cannot connect to ${base}: ${e.reason}; ${every(seconds)}`;
}

/** Runs `top` as configured until it is done (`once`) or stopped. */
export async function runTop(opts: TopOptions): Promise<void> {
  const base = endpointBase(opts.url);
  if (opts.once) {
    const view = await sampleOnce(base, opts);
    if (!view) return;
    if (opts.json) opts.io.out(JSON.stringify(viewJson(view, base), null, 2));
    else opts.io.out(renderView(view, { url: base, sort: opts.sort }));
    return;
  }
  await live(base, opts);
}

/**
 * Two snapshots of one run `intervalSeconds` apart, retrying requests that found nothing
 * listening `retries` times; undefined when stopped before that.
 */
async function sampleOnce(base: string, opts: TopOptions): Promise<TopView | undefined> {
  const req: RequestOptions = { signal: opts.signal };
  let said = '';
  const attempt = async <T>(get: () => Promise<T>): Promise<T> => {
    for (let n = 0; ; n++) {
      try {
        return await get();
      } catch (err) {
        if (opts.signal.aborted) throw err;
        if (!(err instanceof EndpointError) || !err.retryable) throw err;
        if (n >= opts.retries) {
          const tries = n + 1;
          throw new EndpointError(`${err.message} (gave up after ${tries} attempt${tries === 1 ? '' : 's'})`, err.url, err.failure, err.reason, err.status);
        }
        const message = troubleMessage(err, base, opts.intervalSeconds, false);
        if (message !== said) opts.io.err((said = message));
        await sleep(opts.intervalSeconds * 1000, opts.signal);
        if (opts.signal.aborted) throw err;
      }
    }
  };
  try {
    let topology = await attempt(() => fetchTopology(base, req));
    let first = await attempt(() => fetchStats(base, req));
    for (let restarts = 0; ; restarts++) {
      await sleep(opts.intervalSeconds * 1000, opts.signal);
      if (opts.signal.aborted) return undefined;
      const second = await attempt(() => fetchStats(base, req));
      if (second.startedAt === first.startedAt || restarts >= opts.retries) return computeView(first, second, topology);
      // Another run answers on the address now: measure that one.
      opts.io.err(`a new run of ${second.name} started at ${base}; measuring it`);
      topology = await attempt(() => fetchTopology(base, req));
      first = second;
    }
  } catch (err) {
    if (opts.signal.aborted) return undefined;
    throw err;
  }
}

/** Where the live loop's results go: a redrawn terminal, or snapshots down a pipe. */
interface Presenter {
  /** Figures for one interval. */
  view(view: TopView): void;
  /** Connected, first interval under way. */
  measuring(message: string): void;
  /** A request failed; the loop keeps trying. `kind` tells one trouble from another (reasons vary). */
  trouble(message: string, kind: string): void;
  close(): void;
}

/** Samples every interval until stopped; never gives up on the endpoint. */
async function live(base: string, opts: TopOptions): Promise<void> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  if (opts.signal.aborted) stop.abort();
  const presenter = opts.terminal && !opts.json ? screenPresenter(base, opts, stop) : pipePresenter(base, opts);
  const req: RequestOptions = { signal: stop.signal };
  const interval = opts.intervalSeconds * 1000;
  let topology: TopologyInfo | undefined;
  let previous: StatsSnapshot | undefined;
  let connected = false;
  try {
    while (!stop.signal.aborted) {
      const began = Date.now();
      try {
        topology ??= await fetchTopology(base, req);
        const snapshot = await fetchStats(base, req);
        if (previous && snapshot.startedAt !== previous.startedAt) {
          // A new run on the same address: its counters start again.
          topology = await fetchTopology(base, req);
          previous = undefined;
        }
        if (previous) presenter.view(computeView(previous, snapshot, topology));
        else presenter.measuring(`connected to ${snapshot.name} at ${base}; measuring over ${opts.intervalSeconds}s...`);
        previous = snapshot;
        connected = true;
      } catch (err) {
        if (stop.signal.aborted) break;
        if (!(err instanceof EndpointError)) throw err;
        presenter.trouble(troubleMessage(err, base, opts.intervalSeconds, connected), `${err.failure} ${err.status} ${connected}`);
        previous = undefined;
        topology = undefined;
      }
      await sleep(interval - (Date.now() - began), stop.signal);
    }
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
    presenter.close();
  }
}

/** Snapshots as plain text (or JSON lines) on stdout; trouble on stderr, once per kind of trouble. */
function pipePresenter(base: string, opts: TopOptions): Presenter {
  let said = '';
  return {
    view(view) {
      if (said) opts.io.err(`connected to ${base}`);
      said = '';
      opts.io.out(opts.json ? JSON.stringify(viewJson(view, base)) : `${renderView(view, { url: base, sort: opts.sort })}\n`);
    },
    measuring() {},
    trouble(message, kind) {
      if (kind === said) return;
      said = kind;
      opts.io.err(message);
    },
    close() {},
  };
}

/** The alternate screen, redrawn each interval and on every key; keys change the sort. */
function screenPresenter(base: string, opts: TopOptions, stop: AbortController): Presenter {
  const term = opts.terminal!;
  let sort = opts.sort;
  let reverse = false;
  let view: TopView | undefined;
  let notice: string | undefined = `connecting to ${base}...`;
  const draw = () => {
    const o = { url: base, sort, reverse, color: term.color, width: screen.columns, height: screen.rows, keys: true };
    screen.draw(view ? renderView(view, { ...o, status: notice }) : renderNotice(notice ?? '', { ...o, view }));
  };
  const onKey = (key: string) => {
    if (key === 'q' || key === 'Q' || key === '\x03' || key === '\x04') {
      stop.abort();
      return;
    }
    const column = SORT_KEYS[key.toLowerCase()];
    if (column) {
      // The same key again turns the order around.
      reverse = column === sort ? !reverse : false;
      sort = column;
    } else if (key === 'r' || key === 'R') reverse = !reverse;
    else if (key === '\x1b[C' || key === '\x1b[D' || key === '\t') {
      const i = SORT_COLUMNS.indexOf(sort);
      const step = key === '\x1b[D' ? -1 : 1;
      sort = SORT_COLUMNS[(i + step + SORT_COLUMNS.length) % SORT_COLUMNS.length]!;
      reverse = false;
    } else if (key !== '\x0c' && key !== ' ') return;
    draw();
  };
  const screen: Screen = openScreen(term.stdout, term.stdin, { onKey, onResize: () => draw() });
  draw();
  return {
    view(v) {
      view = v;
      notice = undefined;
      draw();
    },
    measuring(message) {
      // A new connection: what was shown belonged to the run before.
      view = undefined;
      notice = message;
      draw();
    },
    trouble(message) {
      notice = message;
      draw();
    },
    close() {
      screen.close();
    },
  };
}

const SORT_ALIASES: Readonly<Record<string, SortColumn>> = {
  order: 'topology',
  component: 'name',
  cap: 'capacity',
  latency: 'p99',
  error: 'errors',
  drop: 'drops',
  dropped: 'drops',
  bp: 'backpressure',
  queued: 'queue',
};

function sortColumn(value: string): SortColumn {
  const v = value.trim().toLowerCase();
  const column = isSortColumn(v) ? v : SORT_ALIASES[v];
  if (!column) throw new UsageError(`--sort: "${value}" is not a column; one of ${SORT_COLUMNS.join(', ')}`);
  return column;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--retries expects a whole number >= 0, got "${value}"`);
  return n;
}

function intervalSeconds(value: string): number {
  const n = positiveNumber('--interval')(value);
  if (n < 0.1) throw new UsageError(`--interval must be at least 0.1 seconds, got "${value}"`);
  return n;
}

/** A live view in this terminal when stdout is one and the command writes to the process's streams. */
function processTerminal(io: CommandIO): TopOptions['terminal'] {
  if (io !== processIO || !process.stdout.isTTY || process.env.TERM === 'dumb') return undefined;
  return { stdout: process.stdout, stdin: process.stdin, color: !process.env.NO_COLOR };
}

export function topCommand(io: CommandIO, signal: AbortSignal): Command {
  return new Command('top')
    .description(
      'live view of a running topology (qitian run --metrics-port): per component rates, capacity, p99 latency, errors, drops, backpressure, and the bottleneck with a parallelism to try',
    )
    .option('--url <url>', 'the endpoint: the address qitian run --metrics-port prints (with or without /metrics)', DEFAULT_URL)
    .option('-i, --interval <seconds>', 'seconds between samples; rates are over this interval', intervalSeconds, 1)
    .option('-s, --sort <column>', `sort by ${SORT_COLUMNS.join(', ')} (topology: the DAG's order)`, sortColumn, 'topology' as SortColumn)
    .option('--once', 'take two samples --interval apart, print one table and exit')
    .option('--json', 'print JSON: one object with --once, else one line per interval')
    .option('--retries <n>', 'with --once: attempts after a failed connection before giving up (exit 3)', nonNegativeInt, 3)
    .addHelpText(
      'after',
      [
        '',
        'In a terminal the view redraws in place; piped, it prints a snapshot per interval.',
        `Keys: ${KEY_HELP}`,
        '(the same sort key again, or r, reverses; left/right arrows step through the columns)',
      ].join('\n'),
    )
    .action(async (o: { url: string; interval: number; sort: SortColumn; once?: boolean; json?: boolean; retries: number }) => {
      await runTop({
        url: o.url,
        intervalSeconds: o.interval,
        sort: o.sort,
        once: o.once ?? false,
        json: o.json ?? false,
        retries: o.retries,
        signal,
        io,
        terminal: o.once ? undefined : processTerminal(io),
      });
    });
}
