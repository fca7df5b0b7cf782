import { Command } from 'commander';
import { CommandFailed, EXIT, UsageError } from '../errors.js';
import { DEFAULT_URL, endpointBase } from '../endpoint-url.js';
import type { CommandIO } from '../io.js';

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
}

/**
 * Streams the tuples `component` emits on `stream` until `limit` arrived, the topology ends or
 * `signal` aborts. Returns how many tuples were printed.
 */
export async function tap(opts: TapOptions): Promise<number> {
  const q = new URLSearchParams({ component: opts.component, stream: opts.stream, sample: String(opts.sample), limit: String(opts.limit) });
  const url = `${endpointBase(opts.url)}/api/v1/tap?${q}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: opts.signal });
  } catch (err) {
    if (opts.signal.aborted) return 0;
    const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new CommandFailed(`cannot connect to ${endpointBase(opts.url)}: ${cause} (is the topology running with --metrics-port?)`, EXIT.RUNTIME);
  }
  if (!res.ok) throw new CommandFailed(await refusal(res, opts), res.status === 404 || res.status === 400 ? EXIT.USAGE : EXIT.RUNTIME);
  let n = 0;
  let rest = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      rest += decoder.decode(chunk, { stream: true });
      let nl = rest.indexOf('\n');
      while (nl >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        nl = rest.indexOf('\n');
        if (line.startsWith('{"skipped":')) {
          const skipped = (JSON.parse(line) as { skipped: number }).skipped;
          opts.io.err(`tap: ${skipped} sampled tuples not shown: this reader fell behind (use --sample to take fewer)`);
          continue;
        }
        if (line) {
          opts.onLine(line);
          n++;
        }
      }
    }
  } catch (err) {
    if (!opts.signal.aborted) throw new CommandFailed(`the tap stream from ${endpointBase(opts.url)} broke: ${(err as Error).message}`, EXIT.RUNTIME);
  }
  return n;
}

/** The endpoint's refusal as a message that says what to do. */
async function refusal(res: Response, opts: TapOptions): Promise<string> {
  const text = await res.text();
  let body: { error?: string; components?: string[]; streams?: string[]; feeders?: string[] } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return `${endpointBase(opts.url)} answered ${res.status}: ${text.slice(0, 200)}`;
  }
  const lines = [`tap: ${body.error ?? `HTTP ${res.status}`}`];
  if (body.feeders?.length) lines.push(`  it is fed by: ${body.feeders.join(', ')}`);
  else if (body.streams) lines.push(`  streams of "${opts.component}": ${body.streams.join(', ')}`);
  else if (body.components) lines.push(`  components: ${body.components.join(', ')}`);
  return lines.join('\n');
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
      await tap({ url: o.url, component, stream, limit: o.limit, sample: o.sample, signal, io, onLine: (line) => io.out(line) });
    });
}
