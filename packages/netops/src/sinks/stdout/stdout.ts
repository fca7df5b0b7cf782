import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Tuple } from '@qitian/api';
import { LineFormatter } from '../../internal/format.js';
import { LineSink } from '../../internal/line-sink.js';
import type { StdoutSinkConfig } from './spec.js';

const FLUSH_CHARS = 64 * 1024;

/** Lines to standard output (or any writable stream, for tests), with backpressure respected. */
export class StdoutSink extends LineSink<StdoutSinkConfig> {
  private readonly formatter: LineFormatter;
  private readonly text: boolean;
  private readonly onError = (err: unknown): void => {
    // Without a listener, an EPIPE on stdout would be thrown from the stream; writeChunk sees it too.
    this.context.logger.debug('stdout sink: output error', { error: String(err) });
  };

  private out!: Writable;
  /** A write failed: standard output is gone for good. */
  private failed = false;
  /** What cannot be written is dropped, not replayed: nothing to wait for. */
  protected override readonly backoffAfterFailure = false;

  constructor(
    config: StdoutSinkConfig,
    /** Where lines go instead of file descriptor 1 (tests). */
    private readonly given?: Writable,
  ) {
    super({ flushIntervalMs: config.flushInterval, flushChars: FLUSH_CHARS });
    this.formatter = new LineFormatter(config.fields);
    this.text = config.format === 'text';
  }

  protected async openOutput(): Promise<void> {
    // File descriptor 1 itself, not the worker thread's process.stdout: that one only forwards to
    // the main thread, so a reader that exits (qitian run ... | head) would never fail a write
    // here, and the EPIPE would surface in the main thread instead of being counted as drops.
    this.out = this.given ?? createWriteStream('', { fd: 1, autoClose: false });
    this.out.on('error', this.onError);
  }

  protected format(tuple: Tuple): string {
    return this.text ? this.formatter.text(tuple) : this.formatter.json(tuple);
  }

  protected override afterBatch(): void {
    this.formatter.reportUnrepresentable(this.context, 'stdout sink');
  }

  /** Resolves once the chunk is written and, when the stream asked for it, once it has drained. */
  protected writeChunk(data: string): Promise<void> {
    const out = this.out;
    return new Promise<void>((resolve, reject) => {
      // An errored stream (EPIPE) neither calls back nor drains for later writes: check first.
      if (out.destroyed || out.writableEnded || out.errored) {
        reject(out.errored ?? new Error('standard output is closed'));
        return;
      }
      let written = false;
      let drained = true;
      const done = (): void => {
        if (written && drained) resolve();
      };
      const ok = out.write(data, (err) => {
        if (err) {
          reject(err);
          return;
        }
        written = true;
        done();
      });
      if (!ok) {
        drained = false;
        // An error while waiting for 'drain' means no 'drain' will come.
        const onDrain = (): void => {
          out.off('error', onError);
          drained = true;
          done();
        };
        const onError = (err: unknown): void => {
          out.off('drain', onDrain);
          if (written) resolve();
          else reject(err);
        };
        out.once('drain', onDrain);
        out.once('error', onError);
      }
    });
  }

  /** A dead stdout will not come back: drop and count rather than replay forever. */
  protected override writeFailed(tuples: readonly Tuple[], error: unknown): void {
    this.context.count('dropped', tuples.length, 'stdout_error');
    // Once is enough: after that every chunk fails the same way, and the drops are counted.
    if (!this.failed) this.collector.reportError(new Error(`standard output failed, lines to it are dropped from now on: ${errorText(error)}`));
    this.failed = true;
    for (const t of tuples) this.collector.ack(t);
  }

  protected async closeOutput(): Promise<void> {
    this.out.off('error', this.onError);
  }
}

const READER_GONE = 'the reader went away (EPIPE: broken pipe)';
const NO_DETAILS = 'the reader most likely went away (broken pipe; the error gave no details)';

/**
 * Why a write to standard output failed, for the one error the sink reports. A closed pipe
 * (`qitian run ... | head`) gives EPIPE; in a worker thread it can also come as a SystemError
 * with nothing in it ("A system error occurred: undefined returned undefined (undefined)", code
 * ERR_SYSTEM_ERROR or none). A write to stdout that fails without a reason is, in practice, a
 * reader gone: said so, rather than repeating the empty message.
 */
export function errorText(error: unknown): string {
  if (typeof error !== 'object' || error === null) {
    const text = error === undefined || error === null ? '' : String(error).trim();
    return meaningful(text) ? text : NO_DETAILS;
  }
  const e = error as { code?: unknown; message?: unknown; info?: unknown };
  const info = typeof e.info === 'object' && e.info !== null ? (e.info as { code?: unknown }) : undefined;
  const code = systemCode(e.code) ?? systemCode(info?.code);
  if (code === 'EPIPE') return READER_GONE;
  const message = typeof e.message === 'string' ? e.message.trim() : '';
  if (meaningful(message)) return message;
  return code === undefined ? NO_DETAILS : `write failed (${code})`;
}

/** An errno name (EPIPE, EAGAIN...), not a Node code such as ERR_SYSTEM_ERROR. */
function systemCode(code: unknown): string | undefined {
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** A message that tells something: not empty, not a SystemError built from nothing. */
function meaningful(message: string): boolean {
  return message !== '' && !/\bundefined returned undefined\b/.test(message) && message !== 'A system error occurred';
}
