/**
 * A lock file that keeps two writers off one set of rotated files. Two runs of a topology (or two
 * tasks of a sink, without `{task}` in their paths) writing and rotating the same files rename
 * each other's files away and break the size limit; the second one is refused instead, saying who
 * holds the files. A lock left by a writer that is gone (its process ended, or it was the thread
 * this task replaces) is taken over.
 */
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';

interface Holder {
  readonly pid: number;
  readonly host: string;
  /** Which writer of its process: a component and task. */
  readonly owner: string;
}

/** The lock is held by another writer that is still there. */
export class WriterLockHeldError extends Error {
  override readonly name = 'WriterLockHeldError';
}

export class WriterLock {
  private constructor(
    readonly path: string,
    private readonly me: Holder,
  ) {}

  /** Takes the lock at `path` for `owner` (e.g. `store[0]`); throws WriterLockHeldError when another writer holds it. */
  static async acquire(path: string, owner: string): Promise<WriterLock> {
    const me: Holder = { pid: process.pid, host: hostname(), owner };
    const text = `${JSON.stringify(me)}\n`;
    try {
      await writeFile(path, text, { flag: 'wx' });
      return new WriterLock(path, me);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const held = await readHolder(path);
    if (held !== undefined && isAlive(held, me)) {
      const who =
        held.pid === me.pid && held.host === me.host
          ? `${held.owner} of this run`
          : `process ${held.pid}${held.host === me.host ? '' : ` on ${held.host}`} (${held.owner})`;
      throw new WriterLockHeldError(
        `${path} is held by ${who}: two writers would rotate each other's files; give each its own dir or prefix ({task} for the tasks of one sink), or delete the lock if that writer is gone`,
      );
    }
    await writeFile(path, text);
    return new WriterLock(path, me);
  }

  /** Gives the lock up, if it is still this writer's. */
  async release(): Promise<void> {
    const held = await readHolder(this.path);
    if (held === undefined || held.pid !== this.me.pid || held.host !== this.me.host || held.owner !== this.me.owner) return;
    await unlink(this.path).catch(() => undefined);
  }
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const h = JSON.parse(await readFile(path, 'utf8')) as Partial<Holder>;
    if (typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.owner === 'string') return h as Holder;
  } catch {
    // unreadable or not ours: taken over
  }
  return undefined;
}

/**
 * Whether the holder is still writing. Same process, same writer: the thread this task replaces
 * (dead). Same process, another writer: alive. Another process here: alive while it runs. On
 * another host it cannot be known: taken as alive.
 */
function isAlive(held: Holder, me: Holder): boolean {
  if (held.host !== me.host) return true;
  if (held.pid === me.pid) return held.owner !== me.owner;
  try {
    process.kill(held.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
