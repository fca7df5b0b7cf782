import type { FileHandle } from 'node:fs/promises';
import { stat } from 'node:fs/promises';

/** How often a writer looks whether its path still names the file it writes. */
export const IDENTITY_CHECK_MS = 1000;

/** What a check found: the path names another file or none (`moved`), and the size at the path. */
export interface IdentityCheck {
  readonly moved: boolean;
  readonly size: number;
}

/**
 * Notices that the path a writer opened no longer names the file it writes: log rotation
 * without copytruncate moved or deleted it, and a writer that kept its handle would go on
 * writing into the rotated file (or into a deleted one, filling the disk unseen). rsyslog needs
 * a HUP for this and nginx a USR1; here a writer looks at most once a second, before a write,
 * and reopens the path, as `tail -F` does when reading.
 *
 * Only regular files are checked: /dev/stdout, a pipe or a FIFO keep their handle.
 */
export class FileIdentity {
  private dev = -1;
  private ino = -1;
  private regular = false;
  private checkedAt = 0;

  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records which file a freshly opened handle writes; returns its size. */
  async opened(handle: FileHandle): Promise<number> {
    const s = await handle.stat();
    this.dev = s.dev;
    this.ino = s.ino;
    this.regular = s.isFile();
    this.checkedAt = this.now();
    return s.size;
  }

  /** Undefined when not due (or not a regular file); else what the path names now. */
  async check(): Promise<IdentityCheck | undefined> {
    if (!this.regular) return undefined;
    const now = this.now();
    if (now - this.checkedAt < IDENTITY_CHECK_MS) return undefined;
    this.checkedAt = now;
    try {
      const s = await stat(this.path);
      return { moved: s.dev !== this.dev || s.ino !== this.ino, size: s.size };
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return { moved: true, size: 0 };
      // Anything else (EACCES on a folder, say) is for the next open or write to report.
      return undefined;
    }
  }
}
