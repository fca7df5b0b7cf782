import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
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
