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

  constructor(
    config: StdoutSinkConfig,
    private readonly out: Writable = process.stdout,
  ) {
    super({ flushIntervalMs: config.flushInterval, flushChars: FLUSH_CHARS });
    this.formatter = new LineFormatter(config.fields);
    this.text = config.format === 'text';
  }

  protected async openOutput(): Promise<void> {
    this.out.on('error', this.onError);
  }

  protected format(tuple: Tuple): string {
    return this.text ? this.formatter.text(tuple) : this.formatter.json(tuple);
  }

  protected override afterBatch(): void {
    if (this.formatter.unrepresentable > 0) {
      this.context.count('errors', this.formatter.unrepresentable, 'unserializable_value');
      this.formatter.unrepresentable = 0;
    }
  }

  /** Resolves once the chunk is written and, when the stream asked for it, once it has drained. */
  protected writeChunk(data: string): Promise<void> {
    const out = this.out;
    return new Promise<void>((resolve, reject) => {
      if (out.destroyed || out.writableEnded) {
        reject(new Error('standard output is closed'));
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
        out.once('drain', () => {
          drained = true;
          done();
        });
      }
    });
  }

  /** A dead stdout will not come back: drop and count rather than replay forever. */
  protected override writeFailed(tuples: readonly Tuple[], error: unknown): void {
    this.context.count('dropped', tuples.length, 'stdout_error');
    this.collector.reportError(error);
    for (const t of tuples) this.collector.ack(t);
  }

  protected async closeOutput(): Promise<void> {
    this.out.off('error', this.onError);
  }
}
