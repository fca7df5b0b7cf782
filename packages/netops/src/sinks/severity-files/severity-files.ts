import { join } from 'node:path';
import type { Bolt, OutputCollector, TopologyContext, Tuple } from '@qitian/api';
import { isTick } from '@qitian/api';
import { LineFormatter } from '../../internal/format.js';
import { LineSink } from '../../internal/line-sink.js';
import { RotatingFile } from '../../internal/rotating-file.js';
import { SeverityReader } from '../../internal/severity.js';
import { WriterLock } from '../../internal/writer-lock.js';
import { SEVERITY_NAMES } from '../../syslog/event.js';
import { taskPath } from '../file/file.js';
import type { SeverityFilesConfig } from './spec.js';

const FLUSH_CHARS = 256 * 1024;

/** The lines of one severity: buffered, written in chunks to a rotating file, acked once written. */
class SeverityFile extends LineSink<SeverityFilesConfig> {
  constructor(
    readonly file: RotatingFile,
    private readonly formatter: LineFormatter,
    private readonly severityName: string,
    flushIntervalMs: number,
    flushChars: number,
  ) {
    super({ flushIntervalMs, flushChars });
  }

  protected openOutput(): Promise<void> {
    return this.file.open();
  }

  protected format(tuple: Tuple): string {
    return this.formatter.json(tuple);
  }

  protected async writeChunk(data: string): Promise<void> {
    const file = this.file;
    const rotations = file.rotations;
    const written = file.written;
    const reopens = file.reopens;
    try {
      await file.write(Buffer.from(data, 'utf8'));
    } finally {
      if (file.written > written) this.context.count('bytes', file.written - written, this.severityName);
      if (file.rotations !== rotations) this.context.count('rotations', file.rotations - rotations, this.severityName);
      if (file.reopens !== reopens) {
        this.context.count('reopened', file.reopens - reopens, this.severityName);
        this.context.logger.info('severity-files: the file was moved or deleted (log rotation?); writing a new one at its path', { path: file.path });
      }
    }
  }

  protected closeOutput(): Promise<void> {
    return this.file.close();
  }
}

/**
 * One rotated JSON Lines file per severity. Each severity has its own LineSink (buffer, timer,
 * write chain), so that a slow or failing file holds back only its own tuples.
 */
export class SeverityFilesSink implements Bolt<SeverityFilesConfig> {
  private context!: TopologyContext<SeverityFilesConfig>;
  private collector!: OutputCollector;
  private readonly formatter = new LineFormatter(undefined);
  private readonly severity = new SeverityReader();
  private files: SeverityFile[] = [];
  /** Tuples of the batch being executed, by severity (reused). */
  private readonly buckets: Tuple[][] = SEVERITY_NAMES.map(() => []);
  private warnedNoSeverity = false;
  /** Keeps another run (or task) off these files while this one writes them. */
  private lock: WriterLock | undefined;

  constructor(private readonly config: SeverityFilesConfig) {}

  /** The current file of each severity, by severity number; known once prepared. */
  get paths(): string[] {
    return this.files.map((f) => f.file.path);
  }

  async prepare(context: TopologyContext<SeverityFilesConfig>, collector: OutputCollector): Promise<void> {
    this.context = context;
    this.collector = collector;
    const c = this.config;
    const dir = taskPath(c.dir, context.taskIndex);
    const prefix = taskPath(c.prefix, context.taskIndex);
    if (context.parallelism > 1 && !c.dir.includes('{task}') && !c.prefix.includes('{task}')) {
      context.logger.warn('severity-files: several tasks write and rotate the same files; put {task} in dir or prefix', { dir });
    }
    const flushChars = c.maxBytes > 0 ? Math.min(FLUSH_CHARS, c.maxBytes) : FLUSH_CHARS;
    this.files = SEVERITY_NAMES.map(
      (name) =>
        new SeverityFile(
          new RotatingFile({ dir, base: prefix + name, ext: '.jsonl', maxBytes: c.maxBytes, rotateEveryMs: c.rotateEvery ?? 0, keep: c.keep }),
          this.formatter,
          name,
          c.flushInterval,
          flushChars,
        ),
    );
    try {
      for (const f of this.files) await f.prepare(context, collector);
      this.lock = await WriterLock.acquire(join(dir, `.${prefix}lock`), `${context.componentId}[${context.taskIndex}]`);
    } catch (err) {
      await this.cleanup().catch(() => undefined);
      throw err;
    }
  }

  execute(tuple: Tuple): void | Promise<void> {
    return this.executeBatch([tuple]);
  }

  executeBatch(tuples: readonly Tuple[]): void | Promise<void> {
    const buckets = this.buckets;
    const reader = this.severity;
    let dropped = 0;
    for (let i = 0; i < tuples.length; i++) {
      const t = tuples[i]!;
      if (isTick(t)) continue;
      const s = reader.of(t);
      if (s < 0) {
        dropped++;
        this.collector.ack(t);
        continue;
      }
      buckets[s]!.push(t);
    }
    let pending: Promise<void>[] | undefined;
    for (let s = 0; s < 8; s++) {
      const bucket = buckets[s]!;
      if (bucket.length === 0) continue;
      const r = this.files[s]!.executeBatch(bucket);
      bucket.length = 0;
      if (r !== undefined) (pending ??= []).push(r);
    }
    this.formatter.reportUnrepresentable(this.context, 'severity-files');
    if (dropped > 0) this.noSeverity(dropped);
    if (pending !== undefined) return pending.length === 1 ? pending[0] : Promise.all(pending).then(noop);
  }

  private noSeverity(n: number): void {
    this.context.count('errors', n, 'no_severity');
    if (!this.warnedNoSeverity) {
      this.warnedNoSeverity = true;
      this.context.logger.warn(
        this.severity.fieldMissing
          ? 'severity-files: the input stream has no "severity" field; its tuples are not written'
          : 'severity-files: tuples without a severity 0..7 are not written (counted in errors{reason="no_severity"})',
      );
    }
  }

  drain(): void {
    for (const f of this.files) f.drain();
  }

  async finish(): Promise<void> {
    await Promise.all(this.files.map((f) => f.finish()));
  }

  async cleanup(): Promise<void> {
    const results = await Promise.allSettled(this.files.map((f) => f.cleanup()));
    await this.lock?.release();
    this.lock = undefined;
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }
}

function noop(): void {}
