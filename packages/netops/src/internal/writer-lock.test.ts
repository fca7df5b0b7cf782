import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WriterLock, WriterLockHeldError } from './writer-lock.js';

const lockPath = () => join(mkdtempSync(join(tmpdir(), 'qitian-lock-')), '.syslog-lock');

describe('WriterLock', () => {
  it('refuses a second writer of this run, takes over from the thread a task replaces, and releases only its own', async () => {
    const path = lockPath();
    const a = await WriterLock.acquire(path, 'store[0]');
    const refused = await WriterLock.acquire(path, 'store[1]').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WriterLockHeldError);
    expect((refused as Error).message).toContain(`${path} is held by store[0] of this run`);
    // The same task again: the thread it replaces is gone.
    const again = await WriterLock.acquire(path, 'store[0]');
    await again.release();
    expect(existsSync(path)).toBe(false);
    // A release after another writer took over leaves the other's lock.
    const b = await WriterLock.acquire(path, 'store[1]');
    await a.release();
    expect(JSON.parse(readFileSync(path, 'utf8')).owner).toBe('store[1]');
    await b.release();
  });

  it('refuses while another process holds it, and takes over once that process is gone', async () => {
    const path = lockPath();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    await new Promise((r) => child.once('spawn', r));
    try {
      writeFileSync(path, JSON.stringify({ pid: child.pid, host: hostname(), owner: 'store[0]' }));
      const refused = await WriterLock.acquire(path, 'store[0]').catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WriterLockHeldError);
      expect((refused as Error).message).toContain(`is held by process ${child.pid} (store[0])`);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
    }
    const taken = await WriterLock.acquire(path, 'store[0]');
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    await taken.release();
    // A lock file that is not one (damaged, empty) is taken over too.
    writeFileSync(path, 'garbage');
    await (await WriterLock.acquire(path, 'x')).release();
  });
});
