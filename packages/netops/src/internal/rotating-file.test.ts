import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { RotatingFile } from './rotating-file.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('rotates on after its file was moved away (logrotate without a signal): a new file starts, nothing to rename', async () => {
  dir = mkdtempSync(join(tmpdir(), 'qitian-rotating-'));
  const f = new RotatingFile({ dir, base: 'syslog-info', ext: '.jsonl', maxBytes: 40, rotateEveryMs: 0, keep: 3 });
  await f.open();
  await f.write(Buffer.from('{"n":1}\n{"n":2}\n'));
  renameSync(join(dir, 'syslog-info.jsonl'), join(dir, 'moved.jsonl'));
  // Still writing into the moved file (its handle), until its own rotation: which must not fail.
  await f.write(Buffer.from('{"n":3}\n{"n":4}\n{"n":5}\n{"n":6}\n'));
  await f.close();
  expect(f.rotations).toBe(1);
  expect(existsSync(join(dir, 'syslog-info.jsonl'))).toBe(true);
  const all = readdirSync(dir)
    .map((n) => readFileSync(join(dir, n), 'utf8'))
    .join('');
  expect(all.trim().split('\n').sort()).toEqual(['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}', '{"n":5}', '{"n":6}']);
});

it('makes its file again within a second of logrotate moving or deleting it, and reads the size of one truncated under it', async () => {
  dir = mkdtempSync(join(tmpdir(), 'qitian-rotating-'));
  let clock = 0;
  const f = new RotatingFile({ dir, base: 'syslog-err', ext: '.jsonl', maxBytes: 24, rotateEveryMs: 0, keep: 2, now: () => clock });
  const path = join(dir, 'syslog-err.jsonl');
  await f.open();
  await f.write(Buffer.from('{"n":1}\n'));
  renameSync(path, join(dir, 'syslog-err.jsonl-20261203'));
  clock += 999;
  await f.write(Buffer.from('{"n":2}\n')); // not looked at yet: still the moved file
  clock += 1;
  await f.write(Buffer.from('{"n":3}\n'));
  expect(f.reopens).toBe(1);
  expect(readFileSync(join(dir, 'syslog-err.jsonl-20261203'), 'utf8')).toBe('{"n":1}\n{"n":2}\n');
  expect(readFileSync(path, 'utf8')).toBe('{"n":3}\n');
  expect(f.size).toBe(8);
  unlinkSync(path);
  clock += 1000;
  await f.write(Buffer.from('{"n":4}\n'));
  expect(f.reopens).toBe(2);
  expect(readFileSync(path, 'utf8')).toBe('{"n":4}\n');
  // copytruncate: the size is read again, so maxBytes (24) counts from the new start, not from 16.
  await f.write(Buffer.from('{"n":5}\n'));
  truncateSync(path, 0);
  clock += 1000;
  await f.write(Buffer.from('{"n":6}\n{"n":7}\n'));
  await f.close();
  expect(f.reopens).toBe(2);
  expect(f.rotations).toBe(0);
  expect(readFileSync(path, 'utf8')).toBe('{"n":6}\n{"n":7}\n');
});
