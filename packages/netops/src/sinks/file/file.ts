import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Tuple } from '@qitian/api';
import { describeSystemError, FileAccessError } from '../../errors.js';
import { ensureDir } from '../../internal/ensure-dir.js';
import { FileIdentity } from '../../internal/file-identity.js';
import { LineFormatter } from '../../internal/format.js';
import { LineSink } from '../../internal/line-sink.js';
import { takeBack } from '../../internal/take-back.js';
import type { FileSinkConfig } from './spec.js';

const FLUSH_CHARS = 256 * 1024;
/**
 * Appending every write, also when the file is to be emptied: a file truncated under it
 * (logrotate's copytruncate) is written from its new end, not from the old offset after a hole
 * of NULs. Emptying waits for the first write (or the end of a run that wrote nothing), so a run
 * that fails to start leaves the last run's output as it was.
 */
const APPEND = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND;

/**
 * Whether the file was changed since `time` (epoch ms): a thread that died before its first write
 * never emptied it, so what it holds is an earlier run's output, not this run's.
 */
async function writtenSince(path: string, time: number): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  return st !== undefined && st.mtimeMs >= time;
}

/** The path a task writes: `{task}` replaced by its index. */
export function taskPath(path: string, taskIndex: number): string {
  return path.replaceAll('{task}', String(taskIndex));
}

/**
 * JSON Lines to a file, written in large chunks. A file moved or deleted under it (log rotation)
 * is made again at its path within a second (FileIdentity).
 */
export class FileSink extends LineSink<FileSinkConfig> {
  private handle: FileHandle | undefined;
  private identity: FileIdentity | undefined;
  /** Without append: the file is emptied before the first write, not when the sink opens. */
  private emptyFirst = false;
  /** A chunk was given to write (even one that failed). */
  private writing = false;
  private readonly formatter: LineFormatter;
  /** The path this task writes, known once prepared. */
  path = '';

  constructor(private readonly config: FileSinkConfig) {
    super({ flushIntervalMs: config.flushInterval, flushChars: FLUSH_CHARS });
    this.formatter = new LineFormatter(config.fields);
  }

  protected async openOutput(): Promise<void> {
    const ctx = this.context;
    const path = taskPath(this.config.path, ctx.taskIndex);
    this.path = path;
    // A run resumed from --state-dir goes on from where the last one stopped: its output too,
    // rather than truncating what that run wrote. So does a thread started in place of one that
    // died: emptying the file would lose lines already written and acked.
    const append = this.config.append || ctx.resumed || (ctx.attempt > 0 && (await writtenSince(path, ctx.runStartedAt)));
    if (ctx.resumed && !this.config.append && ctx.taskIndex === 0)
      ctx.logger.info('file sink: the run resumes saved state, so it appends to its output', { path });
    if (ctx.parallelism > 1 && !this.config.path.includes('{task}') && !append) {
      ctx.logger.warn('file sink: several tasks truncate and write the same file; put {task} in the path or set append: true', { path });
    }
    try {
      await ensureDir(dirname(path));
      await this.openAt(path, APPEND);
      // A device or a pipe (/dev/null, /dev/stdout, a FIFO) holds nothing to empty, and cannot
      // be truncated (EINVAL): each chunk would fail and be replayed forever.
      this.emptyFirst = !append && (await this.handle!.stat()).isFile();
    } catch (err) {
      throw new FileAccessError(path, 'open', `file sink: cannot open "${path}" for writing: ${describeSystemError(err)}`, { cause: err });
    }
  }

  private async openAt(path: string, flags: string | number): Promise<void> {
    const handle = await open(path, flags);
    this.identity = new FileIdentity(path);
    await this.identity.opened(handle).catch(async (err) => {
      await handle.close();
      throw err;
    });
    this.handle = handle;
  }

  /** Makes the file again at its path when it was moved or deleted (log rotation). */
  private async follow(): Promise<void> {
    const found = await this.identity?.check();
    if (found === undefined || !found.moved) return;
    const old = this.handle;
    this.handle = undefined;
    await old?.datasync().catch(() => undefined);
    await old?.close().catch(() => undefined);
    try {
      await ensureDir(dirname(this.path));
      await this.openAt(this.path, 'a');
    } catch (err) {
      throw new FileAccessError(this.path, 'open', `file sink: cannot open "${this.path}" again after it was moved: ${describeSystemError(err)}`, {
        cause: err,
      });
    }
    this.context.count('reopened', 1, 'moved');
    this.context.logger.info('file sink: the file was moved or deleted (log rotation?); writing a new one at its path', { path: this.path });
  }

  protected format(tuple: Tuple): string {
    return this.formatter.json(tuple);
  }

  protected override afterBatch(): void {
    this.formatter.reportUnrepresentable(this.context, 'file sink');
  }

  protected async writeChunk(data: string): Promise<void> {
    await this.follow();
    const handle = this.handle;
    if (!handle) throw new FileAccessError(this.path, 'write', `file sink: "${this.path}" is closed`);
    this.writing = true;
    await this.emptyOnce(handle);
    const buf = Buffer.from(data, 'utf8');
    let off = 0;
    try {
      while (off < buf.length) {
        const { bytesWritten } = await handle.write(buf, off, buf.length - off);
        off += bytesWritten;
      }
    } catch (err) {
      // The chunk's tuples fail and are written again: what part of it got in (a disk that filled
      // up mid-chunk) is taken back, so that the file holds no torn line and no line twice.
      if (off > 0) await takeBack(handle, off);
      throw new FileAccessError(this.path, 'write', `file sink: writing "${this.path}" failed: ${describeSystemError(err)}`, { cause: err });
    }
  }

  /** Empties the file once, before the first write of a run that does not append. */
  private async emptyOnce(handle: FileHandle): Promise<void> {
    if (!this.emptyFirst) return;
    try {
      await handle.truncate(0);
    } catch (err) {
      throw new FileAccessError(this.path, 'write', `file sink: emptying "${this.path}" failed: ${describeSystemError(err)}`, { cause: err });
    }
    this.emptyFirst = false;
  }

  /** A run that wrote nothing still leaves an empty file, not the last run's lines. */
  override async finish(): Promise<void> {
    await super.finish();
    // (Not after failed writes: their error was reported, and their tuples replay into the file.)
    if (this.handle && this.emptyFirst && !this.writing) await this.emptyOnce(this.handle);
  }

  protected async closeOutput(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return;
    // Not every path can be synced (/dev/stdout, a pipe): that is no reason to fail the run.
    await handle.datasync().catch(() => undefined);
    await handle.close();
  }
}
