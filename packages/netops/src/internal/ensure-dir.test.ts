import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureDir } from './ensure-dir.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'qitian-ensure-dir-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const isDir = (p: string) => statSync(p).isDirectory();

describe('ensureDir', () => {
  // mkdir(..., { recursive: true }) never returns here on Node 20.20: the timeout turns a regression into a failure.
  it('fails at once with ENOENT for a folder under /proc, instead of hanging', async () => {
    const err = await ensureDir('/proc/qitian-nope-xyz').catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
    const nested = await ensureDir('/proc/qitian-nope-xyz/a/b').catch((e: unknown) => e);
    expect((nested as NodeJS.ErrnoException).code).toBe('ENOENT');
  }, 2000);

  it('creates every missing level, and is a no-op when the folder exists', async () => {
    const path = join(dir, 'a', 'b', 'c');
    await ensureDir(path);
    expect(isDir(path)).toBe(true);
    await ensureDir(path);
    await ensureDir(dir);
    expect(isDir(path)).toBe(true);
  });

  it('lets concurrent callers create the same new folders, all succeeding', async () => {
    const path = join(dir, 'p', 'q', 'r', 's');
    const sibling = join(dir, 'p', 'q', 'other');
    await Promise.all([ensureDir(path), ensureDir(path), ensureDir(sibling), ensureDir(path)]);
    expect(isDir(path)).toBe(true);
    expect(isDir(sibling)).toBe(true);
  });

  it('fails with ENOTDIR when a file stands where a folder should be', async () => {
    const file = join(dir, 'file');
    writeFileSync(file, '');
    const below = await ensureDir(join(file, 'sub', 'deeper')).catch((e: unknown) => e);
    expect((below as NodeJS.ErrnoException).code).toBe('ENOTDIR');
    const itself = await ensureDir(file).catch((e: unknown) => e);
    expect((itself as NodeJS.ErrnoException).code).toBe('ENOTDIR');
    expect((itself as Error).message).toContain(file);
  });

  it('passes on the error of a level that cannot be made (EPERM under /sys, even as root)', async () => {
    const err = await ensureDir('/sys/qitian-ensure-dir-test/x').catch((e: unknown) => e);
    expect(['EPERM', 'EACCES', 'EROFS']).toContain((err as NodeJS.ErrnoException).code);
  });
});
