import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

function notADirectory(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), { code: 'ENOTDIR', syscall: 'mkdir', path });
}

/**
 * Creates the folder `dir` and any missing parents, like `mkdir -p`, failing with the real error
 * (ENOENT, ENOTDIR, EACCES...) when one level cannot be made.
 *
 * Not `mkdir(dir, { recursive: true })`: in Node 20.20 that never returns for a path under /proc
 * (`/proc/nope`): libuv retries mkdir("/proc/nope") = ENOENT, mkdir("/proc") = EEXIST forever,
 * spinning a CPU. Here the nearest existing ancestor is found with stat, then each missing level
 * is made in order with a plain mkdir; EEXIST from a concurrent creator counts as success.
 */
export async function ensureDir(dir: string): Promise<void> {
  const missing: string[] = [];
  let current = resolve(dir);
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(current)).isDirectory();
    } catch (err) {
      const parent = dirname(current);
      if (codeOf(err) !== 'ENOENT' || parent === current) throw err;
      missing.push(current);
      current = parent;
      continue;
    }
    // An existing file where a folder should be: making the level below it would fail with
    // ENOTDIR, and when it is `dir` itself there is no level below to try.
    if (!isDirectory) throw notADirectory(current);
    break;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    const path = missing[i]!;
    try {
      await mkdir(path);
    } catch (err) {
      if (codeOf(err) !== 'EEXIST') throw err;
      // Made meanwhile by someone else: fine if it is a folder.
      if (!(await stat(path)).isDirectory()) throw notADirectory(path);
    }
  }
}
