import { type Bolt, isTick, type OutputCollector, type TopologyContext, type Tuple } from '@qitian/api';
import { GroupCommit } from './group-commit.js';

/** The wait before writing again after a failed chunk, doubling per failure up to the maximum. */
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface LineSinkOptions {
  /**
   * 0: lines are written as soon as no write is in progress (what arrived during a write goes in
   * the next one). Above 0: a partly filled buffer waits up to this long for more lines.
   */
  readonly flushIntervalMs: number;
  /** The buffer is written once it holds this many characters. */
  readonly flushChars: number;
}

/**
 * A sink that turns each tuple into one line and writes lines in chunks. It acks a tuple only
 * once its line has been written (definitions using it set `autoAck: false`), so a crash loses
 * nothing that was acked. Writes happen one at a time, in order; when a chunk is full,
 * `executeBatch` returns the write's promise, which holds the executor (and, through credits,
 * the topology) back while the output is slower than the input.
 *
 * By default a chunk is written as soon as the previous write is done (GroupCommit): with a 1 s
 * timer, 5000 pending tuples made a file sink run at 5000 lines a second.
 */
export abstract class LineSink<C> implements Bolt<C> {
  protected context!: TopologyContext<C>;
  protected collector!: OutputCollector;
  private parts: string[] = [];
  private chars = 0;
  private held: Tuple[] = [];
  private chain: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  /** Chunks that failed in a row. */
  private failures = 0;
  /**
   * Wait before writing again after a failure (the default writeFailed fails the tuples, which
   * come back at once). False for a sink that drops what it cannot write instead.
   */
  protected readonly backoffAfterFailure: boolean = true;
  /** Writes as soon as none is running, while `immediate`. */
  private readonly commits: GroupCommit;
  /** Lines go as soon as no write runs: with flushIntervalMs 0, and once the run is ending (drain). */
  private immediate: boolean;
  private readonly flushNow = (): void => {
    void this.flush();
  };

  constructor(private readonly options: LineSinkOptions) {
    this.commits = new GroupCommit(this.flushNow);
    this.immediate = options.flushIntervalMs === 0;
  }

  /** Opens the output. */
  protected abstract openOutput(): Promise<void>;
  /** One tuple as one line, newline included. */
  protected abstract format(tuple: Tuple): string;
  /** Writes a chunk of whole lines; resolves once it is written. */
  protected abstract writeChunk(data: string): Promise<void>;
  /** Flushes to stable storage, where that means something, and closes the output. */
  protected abstract closeOutput(): Promise<void>;
  /** Lines could not be written: by default the tuples fail, so they are replayed. */
  protected writeFailed(tuples: readonly Tuple[], error: unknown): void {
    // The reported error is counted by the engine; this counts the chunks that failed.
    this.context.count('write_failures', 1);
    this.collector.reportError(error);
    for (const t of tuples) this.collector.fail(t);
  }
  /** Called after each batch is formatted, e.g. to count what formatting noticed. */
  protected afterBatch(): void {}

  async prepare(context: TopologyContext<C>, collector: OutputCollector): Promise<void> {
    this.context = context;
    this.collector = collector;
    await this.openOutput();
    if (this.options.flushIntervalMs > 0) {
      this.timer = setInterval(this.flushNow, this.options.flushIntervalMs);
      this.timer.unref?.();
    }
  }

  execute(tuple: Tuple): void | Promise<void> {
    return this.executeBatch([tuple]);
  }

  executeBatch(tuples: readonly Tuple[]): void | Promise<void> {
    const parts = this.parts;
    const held = this.held;
    let chars = this.chars;
    for (let i = 0; i < tuples.length; i++) {
      const t = tuples[i]!;
      if (isTick(t)) continue;
      const line = this.format(t);
      parts.push(line);
      chars += line.length;
      held.push(t);
    }
    this.chars = chars;
    this.afterBatch();
    if (chars >= this.options.flushChars) return this.flush();
    if (chars > 0 && this.immediate) this.commits.held();
  }

  /**
   * The run is ending: what waits for flushIntervalMs is written now, and later lines at once,
   * since their acks wait with them and the end of the run waits for the acks.
   */
  drain(): void {
    this.immediate = true;
    if (this.parts.length > 0) void this.flush();
  }

  /** Writes what is buffered; resolves when it (and every earlier chunk) is written. */
  flush(): Promise<void> {
    if (this.parts.length === 0 || this.closed) return this.chain;
    const data = this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
    const held = this.held;
    this.parts = [];
    this.held = [];
    this.chars = 0;
    this.commits.started();
    this.chain = this.chain.then(() => this.writeAndSettle(data, held));
    return this.chain;
  }

  /** Writes one chunk, then acks or fails its tuples. Never rejects, so the chain stays usable. */
  private async writeAndSettle(data: string, held: readonly Tuple[]): Promise<void> {
    // After failed writes (a full disk), wait before the next: replayed tuples would otherwise
    // fail again at once, hundreds of times a second. The wait holds the executor, and through
    // credits the spouts, as a slow output does.
    if (this.failures > 0 && this.backoffAfterFailure && !this.closed) await sleep(Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.failures - 1)));
    try {
      await this.writeChunk(data);
      this.failures = 0;
    } catch (err) {
      this.failures++;
      try {
        this.writeFailed(held, err);
      } catch (inner) {
        this.context.logger.error('sink: handling a write error failed', { error: String(inner) });
      }
      this.written();
      return;
    }
    try {
      for (let i = 0; i < held.length; i++) this.collector.ack(held[i]!);
    } catch (err) {
      this.context.logger.error('sink: acking written tuples failed', { error: String(err) });
    }
    this.written();
  }

  /** A chunk is written (or failed): what gathered meanwhile goes next. */
  private written(): void {
    this.commits.ended(this.parts.length > 0 && this.immediate);
  }

  async finish(): Promise<void> {
    await this.flush();
  }

  async cleanup(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    this.closed = true;
    await this.closeOutput();
  }
}
