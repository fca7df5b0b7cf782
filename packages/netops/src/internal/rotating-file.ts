import type { FileHandle } from 'node:fs/promises';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describeSystemError, FileAccessError } from '../errors.js';
import { ensureDir } from './ensure-dir.js';
import { FileIdentity } from './file-identity.js';
import { takeBack } from './take-back.js';

export interface RotatingFileOptions {
  readonly dir: string;
  /** File name without extension: `syslog-err`. */
  readonly base: string;
  /** Extension with its dot: `.jsonl`. */
  readonly ext: string;
  /** Rotate before a write would pass this many bytes; 0: no limit. */
  readonly maxBytes: number;
  /** Rotate at the first write this long after the file was opened; 0: never. */
  readonly rotateEveryMs: number;
  /** Rotated files kept: `<base>.1<ext>` (newest) ... `<base>.<keep><ext>`. */
  readonly keep: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/**
 * An append-only file rotated logrotate-style by size and age: `<base><ext>` is written;
 * rotation renames `<base>.<i><ext>` to `<base>.<i+1><ext>` (the one past `keep` is deleted) and
 * the file itself to `<base>.1<ext>`, then starts a new one. Files hold whole lines: a chunk
 * that would pass `maxBytes` is split at a newline. Not safe for concurrent writes: callers
 * write one chunk at a time (LineSink does).
 *
 * Rotated by something else, it follows: moved or deleted (logrotate without copytruncate), the
 * file is made again at its path within a second (`reopens`); truncated (copytruncate), its size
 * is read again. It is opened for appending, so a truncated file gets no hole.
 */
export class RotatingFile {
  readonly path: string;
  /** Bytes in the current file. */
  size = 0;
  /** Rotations done. */
  rotations = 0;
  /** Bytes written, over every file. */
  written = 0;
  /** Times the file was made again because something else moved or deleted it. */
  reopens = 0;
  private handle: FileHandle | undefined;
  private readonly identity: FileIdentity;
  private openedAt = 0;
  private readonly now: () => number;

  constructor(private readonly options: RotatingFileOptions) {
    this.path = join(options.dir, options.base + options.ext);
    this.now = options.now ?? Date.now;
    this.identity = new FileIdentity(this.path, this.now);
  }

  /** The path of rotated file `i` (1 = newest). */
  rotatedPath(i: number): string {
    return join(this.options.dir, `${this.options.base}.${i}${this.options.ext}`);
  }

  /** Opens (appending) or creates the file and its folder. */
  async open(): Promise<void> {
    try {
      await ensureDir(this.options.dir);
      const handle = await open(this.path, 'a');
      this.size = await this.identity.opened(handle);
      this.handle = handle;
      this.openedAt = this.now();
    } catch (err) {
      throw new FileAccessError(this.path, 'open', `cannot open "${this.path}" for writing: ${describeSystemError(err)}`, { cause: err });
    }
  }

  /** Writes whole lines, rotating before the write (or in its middle) when a limit is reached. */
  async write(data: Buffer): Promise<void> {
    const { maxBytes, rotateEveryMs } = this.options;
    if (this.handle === undefined)
      await this.open(); // a failed rotation left it closed
    else await this.follow();
    if (rotateEveryMs > 0 && this.size > 0 && this.now() - this.openedAt >= rotateEveryMs) await this.rotate();
    let off = 0;
    while (off < data.length) {
      let end = data.length;
      if (maxBytes > 0 && this.size + (end - off) > maxBytes) {
        // The longest run of whole lines that still fits.
        const room = maxBytes - this.size;
        let cut = room > 0 ? data.lastIndexOf(10, off + room - 1) : -1;
        if (cut < off) {
          if (this.size > 0) {
            await this.rotate();
            continue;
          }
          cut = data.indexOf(10, off); // one line longer than maxBytes: a file of its own
          if (cut < 0) cut = data.length - 1;
        }
        end = cut + 1;
      }
      await this.writeAll(data, off, end);
      off = end;
    }
  }

  private async writeAll(data: Buffer, from: number, to: number): Promise<void> {
    const handle = this.handle!;
    let off = from;
    try {
      while (off < to) {
        const { bytesWritten } = await handle.write(data, off, to - off);
        off += bytesWritten;
        this.size += bytesWritten;
        this.written += bytesWritten;
      }
    } catch (err) {
      const partial = off - from;
      if (partial > 0 && (await takeBack(handle, partial))) {
        this.size -= partial;
        this.written -= partial;
      }
      throw new FileAccessError(this.path, 'write', `writing "${this.path}" failed: ${describeSystemError(err)}`, { cause: err });
    }
  }

  /** Reopens the path when the file was moved or deleted; takes the size of a truncated one. */
  private async follow(): Promise<void> {
    const found = await this.identity.check();
    if (found === undefined) return;
    if (!found.moved) {
      this.size = found.size;
      return;
    }
    await this.closeHandle();
    this.reopens++;
    await this.open();
  }

  /** Closes the file, shifts the rotated ones, and starts a new file. */
  async rotate(): Promise<void> {
    await this.closeHandle();
    const keep = this.options.keep;
    try {
      if (keep === 0) {
        await unlinkIfPresent(this.path);
      } else {
        await unlinkIfPresent(this.rotatedPath(keep));
        for (let i = keep - 1; i >= 1; i--) await renameIfPresent(this.rotatedPath(i), this.rotatedPath(i + 1));
        // Gone already (moved away by logrotate, say): nothing to rotate, a new file starts.
        await renameIfPresent(this.path, this.rotatedPath(1));
      }
    } catch (err) {
      throw new FileAccessError(this.path, 'rotate', `rotating "${this.path}" failed: ${describeSystemError(err)}`, { cause: err });
    }
    this.rotations++;
    await this.open();
  }

  /** Syncs and closes the file. */
  async close(): Promise<void> {
    await this.closeHandle();
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return;
    await handle.datasync().catch(() => undefined);
    await handle.close();
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
  }
}

async function renameIfPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
  }
}
