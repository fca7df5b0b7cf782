import { Command } from 'commander';
import { DEFAULT_URL, endpointBase } from '../endpoint-url.js';
import { CommandFailed, EXIT, UsageError } from '../errors.js';
import { type HttpAnswer, httpGet } from '../http-get.js';
import type { CommandIO } from '../io.js';
import { connectReason } from '../top/client.js';

export interface TapOptions {
  readonly url: string;
  readonly component: string;
  readonly stream: string;
  readonly limit: number;
  readonly sample: number;
  readonly signal: AbortSignal;
  /** Each tuple line as it arrives. */
  readonly onLine: (line: string) => void;
  readonly io: CommandIO;
  /** Silence, not even a heartbeat, after which the stream counts as broken (default 60 s). */
  readonly idleTimeoutMs?: number;
}

/** Four of the endpoint's 15 s heartbeats: a live endpoint sends something well within it. */
const IDLE_TIMEOUT_MS = 60_000;
/** The endpoint answers a tap at once (then streams): as long as `qitian top` waits for an answer. */
const ANSWER_TIMEOUT_MS = 5000;

/**
 * Streams the tuples `component` emits on `stream` until `limit` arrived, the topology ends or
 * `signal` aborts. Returns how many tuples were printed.
 */
export async function tap(opts: TapOptions): Promise<number> {
  // The endpoint sends a heartbeat on an idle stream, so a long silence means it is gone (host
  // down, process frozen, network cut) rather than that the stream is rare.
  const idleMs = opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  const answerMs = Math.min(idleMs, ANSWER_TIMEOUT_MS);
  const silent = new AbortController();
  // Until the endpoint answers, the shorter wait: something that accepts connections and never
  // answers is not a QiTian endpoint (or a frozen one). Then the stream's own silence limit.
  let answered = false;
  let watchdog = setTimeout(() => silent.abort(), answerMs);
  const onAnswer = (): void => {
    answered = true;
    clearTimeout(watchdog);
    watchdog = setTimeout(() => silent.abort(), idleMs);
  };
  try {
    return await read(opts, AbortSignal.any([opts.signal, silent.signal]), onAnswer, () => watchdog.refresh());
  } catch (err) {
    if (opts.signal.aborted || !silent.signal.aborted) throw err;
    if (!answered) {
      throw new CommandFailed(
        `${endpointBase(opts.url)}: no answer within ${answerMs / 1000}s (is this the address qitian run --metrics-port printed?)`,
        EXIT.RUNTIME,
      );
    }
    throw new CommandFailed(
      `the tap stream from ${endpointBase(opts.url)} broke: nothing received for ${idleMs / 1000} s, not even a heartbeat (is the topology still running?)`,
      EXIT.RUNTIME,
    );
  } finally {
    clearTimeout(watchdog);
  }
}

/**
 * The request and the stream; `answered` is called once the endpoint answers, `alive` on every
 * chunk. Aborts of `signal` reject, except the caller's.
 */
async function read(opts: TapOptions, signal: AbortSignal, answered: () => void, alive: () => void): Promise<number> {
  const q = new URLSearchParams({ component: opts.component, stream: opts.stream, sample: String(opts.sample), limit: String(opts.limit) });
  const url = `${endpointBase(opts.url)}/api/v1/tap?${q}`;
  let res: HttpAnswer;
  try {
    res = await httpGet(url, { signal });
  } catch (err) {
    if (opts.signal.aborted) return 0;
    if (signal.aborted) throw err;
    throw new CommandFailed(`cannot connect to ${endpointBase(opts.url)}: ${connectReason(err)} (is the topology running with --metrics-port?)`, EXIT.RUNTIME);
  }
  answered();
  if (!res.ok) {
    const r = await refusal(res, opts);
    // The endpoint refused what was asked (no such component or stream): the command line is
    // wrong. Anything else that is not a QiTian answer is an endpoint problem, as for top.
    throw new CommandFailed(r.message, r.qitian && (res.status === 404 || res.status === 400) ? EXIT.USAGE : EXIT.RUNTIME);
  }
  let n = 0;
  let rest = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body) {
      alive();
      rest += decoder.decode(chunk, { stream: true });
      let nl = rest.indexOf('\n');
      while (nl >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        nl = rest.indexOf('\n');
        if (line.startsWith('{"skipped":')) {
          const skipped = (JSON.parse(line) as { skipped: number }).skipped;
          opts.io.err(`tap: ${skipped} sampled tuple${skipped === 1 ? '' : 's'} not shown: this reader fell behind (use --sample to take fewer)`);
          continue;
        }
        // An empty line is the endpoint's heartbeat.
        if (line) {
          opts.onLine(line);
          n++;
        }
      }
      // Read no more than stdout's reader takes: the endpoint then skips what this reader misses,
      // rather than this process (or the run's) holding the stream in memory. Not reading is not
      // the endpoint's silence, so the watchdog is kept quiet meanwhile.
      const drained = opts.io.outDrained?.(signal);
      if (drained) {
        const keep = setInterval(alive, 1000);
        try {
          await drained;
        } finally {
          clearInterval(keep);
        }
      }
    }
  } catch (err) {
    if (opts.signal.aborted) return n;
    if (signal.aborted) throw err;
    throw new CommandFailed(`the tap stream from ${endpointBase(opts.url)} broke: ${connectReason(err)}`, EXIT.RUNTIME);
  }
  return n;
}

/** The endpoint's refusal as a message that says what to do; `qitian`: it came from a QiTian endpoint. */
async function refusal(res: HttpAnswer, opts: TapOptions): Promise<{ message: string; qitian: boolean }> {
  const text = await res.text();
  let body: { error?: string; components?: string[]; streams?: string[]; feeders?: string[] } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return {
      message: `${endpointBase(opts.url)} answered HTTP ${res.status}: ${text.slice(0, 200)} (is this the address qitian run --metrics-port printed?)`,
      qitian: false,
    };
  }
  const lines = [`tap: ${body.error ?? `HTTP ${res.status}`}`];
  if (body.feeders?.length) lines.push(`  it is fed by: ${body.feeders.join(', ')}`);
  else if (body.streams) lines.push(`  streams of "${opts.component}": ${body.streams.join(', ')}`);
  else if (body.components) lines.push(`  components: ${body.components.join(', ')}`);
  return { message: lines.join('\n'), qitian: typeof body.error === 'string' };
}

function sampleRate(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) throw new UsageError(`--sample expects a fraction in (0, 1], e.g. 0.01 for 1%, got "${value}"`);
  return n;
}

function limitCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--limit expects a whole number (0: no limit), got "${value}"`);
  return n;
}

export function tapCommand(io: CommandIO, signal: AbortSignal): Command {
  return new Command('tap')
    .description('print the tuples a component emits on a stream, live, as JSON lines (from a topology run with --metrics-port)')
    .argument('<component[:stream]>', 'component id, optionally with a stream (default: the "default" stream)')
    .option('--url <url>', `the topology's endpoint, as printed by qitian run --metrics-port`, DEFAULT_URL)
    .option('-n, --limit <n>', 'stop after this many tuples (0: until interrupted or the topology ends)', limitCount, 0)
    .option('--sample <rate>', 'copy only this fraction of the tuples, e.g. 0.01', sampleRate, 1)
    .action(async (target: string, o: { url: string; limit: number; sample: number }) => {
      const colon = target.indexOf(':');
      const component = colon < 0 ? target : target.slice(0, colon);
      const stream = colon < 0 ? 'default' : target.slice(colon + 1);
      if (!component || !stream) throw new UsageError(`expected COMPONENT or COMPONENT:STREAM, got "${target}"`);
      const n = await tap({ url: o.url, component, stream, limit: o.limit, sample: o.sample, signal, io, onLine: (line) => io.out(line) });
      // Not --limit, not the user: the endpoint ended the stream, which it does when the topology closes.
      if (!signal.aborted && (o.limit === 0 || n < o.limit)) io.err(`tap: the stream ended after ${n} tuple${n === 1 ? '' : 's'}: the topology stopped`);
    });
}
