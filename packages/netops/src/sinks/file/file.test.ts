import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bolt } from '@qitian/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileAccessError } from '../../errors.js';
import { configFor, FakeTopologyContext, prepareBolt, RecordingOutputCollector, TestTuple, tuples, until } from '../../testkit.js';
import { FileSink, type FileSinkConfig, fileSink } from './index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'qitian-file-sink-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const read = (p: string) => readFileSync(p, 'utf8');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('file sink', () => {
  it('is a sink that acks by itself, once lines are written', () => {
    expect(fileSink.kind).toBe('sink');
    expect(fileSink.autoAck).toBe(false);
  });

  it('writes each tuple as one exact JSON line and flushes on finish', async () => {
    const path = join(dir, 'out.jsonl');
    const h = await prepareBolt(fileSink, { path });
    const batch = tuples(['host', 'severity', 'msg'], ['r1', 3, 'link down'], ['r2', 6, 'say "hi"']);
    await h.bolt.executeBatch!(batch);
    expect(read(path)).toBe(''); // buffered
    expect(h.collector.acked).toEqual([]);
    await h.bolt.finish!();
    expect(read(path)).toBe('{"host":"r1","severity":3,"msg":"link down"}\n{"host":"r2","severity":6,"msg":"say \\"hi\\""}\n');
    expect(h.collector.acked).toEqual(batch);
    await h.bolt.cleanup!();
  });

  it('flushes on cleanup too, and execute works one tuple at a time', async () => {
    const path = join(dir, 'nested', 'deeper', 'out.jsonl');
    const h = await prepareBolt(fileSink, { path, fields: ['b'] });
    await h.bolt.execute(new TestTuple(['a', 'b'], [1, 2n]));
    await h.bolt.cleanup!();
    expect(read(path)).toBe('{"b":"2"}\n');
    expect(h.collector.acked).toHaveLength(1);
  });

  it('by default writes as soon as it is idle: lines and their acks do not wait for a timer', async () => {
    const path = join(dir, 'out.jsonl');
    const h = await prepareBolt(fileSink, { path });
    const first = tuples(['n'], [1], [2]);
    await h.bolt.executeBatch!(first);
    // A spout at maxSpoutPending waits for these acks: with a 1 s timer it ran at maxSpoutPending a second.
    await sleep(100);
    expect(h.collector.acked).toEqual(first);
    expect(read(path)).toBe('{"n":1}\n{"n":2}\n');
    const second = tuples(['n'], [3]);
    await h.bolt.executeBatch!(second);
    await sleep(100);
    expect(h.collector.acked).toEqual([...first, ...second]);
    expect(read(path)).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
    await h.bolt.cleanup!();
  });

  it('writes to a path that is not a regular file (/dev/null, a FIFO): nothing to empty, so no emptying', async () => {
    // ftruncate fails (EINVAL) on a device or a pipe: every chunk failed and was replayed forever.
    const h = await prepareBolt(fileSink, { path: '/dev/null' });
    const batch = tuples(['n'], [1], [2]);
    await h.bolt.executeBatch!(batch);
    await h.bolt.finish!();
    expect(h.collector.errors).toEqual([]);
    expect(h.collector.failed).toEqual([]);
    expect(h.collector.acked).toEqual(batch);
    await h.bolt.cleanup!();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // The reader first: opening a FIFO for writing waits for one.
    const reader = spawn('cat', [fifo]);
    let got = '';
    reader.stdout.on('data', (d: Buffer) => {
      got += d.toString();
    });
    const f = await prepareBolt(fileSink, { path: fifo });
    const lines = tuples(['n'], [3]);
    await f.bolt.executeBatch!(lines);
    await f.bolt.finish!();
    await f.bolt.cleanup!();
    await until('the line through the FIFO', () => got === '{"n":3}\n');
    expect(f.collector.errors).toEqual([]);
    expect(f.collector.acked).toEqual(lines);
  });

  it('truncates its file at start, but appends when the run resumes saved state (--state-dir)', async () => {
    const path = join(dir, 'out.jsonl');
    writeFileSync(path, '{"n":0}\n');
    const resumed = await prepareBolt(fileSink, { path }, { resumed: true });
    await resumed.bolt.executeBatch!(tuples(['n'], [1]));
    await resumed.bolt.cleanup!();
    expect(read(path)).toBe('{"n":0}\n{"n":1}\n');
    const fresh = await prepareBolt(fileSink, { path });
    await fresh.bolt.executeBatch!(tuples(['n'], [2]));
    await fresh.bolt.cleanup!();
    expect(read(path)).toBe('{"n":2}\n');
  });

  it("on a later attempt appends to what an earlier thread of the run wrote, but empties an earlier run's output it never wrote over", async () => {
    const path = join(dir, 'out.jsonl');
    writeFileSync(path, '{"n":"last run"}\n');
    const runStartedAt = Date.now();
    // The first thread died before its first write: the file is still the last run's.
    utimesSync(path, new Date(runStartedAt - 60_000), new Date(runStartedAt - 60_000));
    const second = await prepareBolt(fileSink, { path }, { attempt: 1, runStartedAt });
    await second.bolt.executeBatch!(tuples(['n'], [1]));
    await second.bolt.cleanup!();
    expect(read(path)).toBe('{"n":1}\n');
    // That thread wrote (the file changed since the run started): the next one adds to it.
    const third = await prepareBolt(fileSink, { path }, { attempt: 2, runStartedAt });
    await third.bolt.executeBatch!(tuples(['n'], [2]));
    await third.bolt.cleanup!();
    expect(read(path)).toBe('{"n":1}\n{"n":2}\n');
  });

  it('with flushInterval set, a partly filled buffer waits for it', async () => {
    const path = join(dir, 'out.jsonl');
    const h = await prepareBolt(fileSink, { path, flushInterval: '1h' });
    const batch = tuples(['n'], [1]);
    await h.bolt.executeBatch!(batch);
    await sleep(100);
    expect(read(path)).toBe('');
    expect(h.collector.acked).toEqual([]);
    await h.bolt.finish!();
    expect(h.collector.acked).toEqual(batch);
    await h.bolt.cleanup!();
  });

  it('once the run is ending (drain), writes what waits for flushInterval at once, and later lines too', async () => {
    const path = join(dir, 'draining.jsonl');
    const h = await prepareBolt(fileSink, { path, flushInterval: '1h' });
    const first = tuples(['n'], [1]);
    await h.bolt.executeBatch!(first);
    expect(h.collector.acked).toEqual([]);
    h.bolt.drain!();
    await until('the held line is written', () => h.collector.acked.length === 1);
    expect(read(path)).toBe('{"n":1}\n');
    await h.bolt.executeBatch!(tuples(['n'], [2]));
    await until('a later line is written', () => h.collector.acked.length === 2);
    expect(read(path)).toBe('{"n":1}\n{"n":2}\n');
    await h.bolt.cleanup!();
  });

  it('flushes a partial buffer after flushInterval', async () => {
    const path = join(dir, 'timed.jsonl');
    const h = await prepareBolt(fileSink, { path, flushInterval: '20ms' });
    await h.bolt.executeBatch!(tuples(['x'], [1]));
    await sleep(120);
    expect(read(path)).toBe('{"x":1}\n');
    expect(h.collector.acked).toHaveLength(1);
    await h.bolt.cleanup!();
  });

  it('writes big inputs in chunks, in order, and holds the executor while a chunk is written', async () => {
    const path = join(dir, 'big.jsonl');
    const h = await prepareBolt(fileSink, { path });
    let waited = 0;
    const expected: string[] = [];
    for (let b = 0; b < 50; b++) {
      const rows: unknown[][] = [];
      for (let i = 0; i < 500; i++) {
        const n = b * 500 + i;
        rows.push([n, `line ${n} ${'x'.repeat(n % 40)}`]);
        expected.push(JSON.stringify({ n, line: `line ${n} ${'x'.repeat(n % 40)}` }));
      }
      const r = h.bolt.executeBatch!(tuples(['n', 'line'], ...rows));
      if (r instanceof Promise) {
        waited++;
        await r;
      }
    }
    await h.bolt.finish!();
    await h.bolt.cleanup!();
    expect(waited).toBeGreaterThan(0);
    expect(read(path)).toBe(`${expected.join('\n')}\n`);
    expect(h.collector.acked).toHaveLength(25_000);
  });

  it('truncates by default and appends when asked', async () => {
    const path = join(dir, 'a.jsonl');
    writeFileSync(path, 'old\n');
    let h = await prepareBolt(fileSink, { path });
    await h.bolt.executeBatch!(tuples(['v'], [1]));
    await h.bolt.cleanup!();
    expect(read(path)).toBe('{"v":1}\n');
    h = await prepareBolt(fileSink, { path, append: true });
    await h.bolt.executeBatch!(tuples(['v'], [2]));
    await h.bolt.cleanup!();
    expect(read(path)).toBe('{"v":1}\n{"v":2}\n');
  });

  it('replaces {task} in the path with the task index', async () => {
    const config: FileSinkConfig = configFor(fileSink, { path: join(dir, 'part-{task}.jsonl') });
    const sink: Bolt<FileSinkConfig> = new FileSink(config);
    const ctx = new FakeTopologyContext({ config, taskIndex: 3, parallelism: 4 });
    await sink.prepare!(ctx, new RecordingOutputCollector());
    await sink.executeBatch!(tuples(['v'], [3]));
    await sink.cleanup!();
    expect(read(join(dir, 'part-3.jsonl'))).toBe('{"v":3}\n');
  });

  it('writes a value JSON cannot hold as a placeholder saying so, keeps the row, counts it and logs the first with its field', async () => {
    const path = join(dir, 'odd.jsonl');
    const h = await prepareBolt(fileSink, { path });
    const cyclic: Record<string, unknown> = {};
    cyclic.me = cyclic;
    await h.bolt.executeBatch!(tuples(['n', 'v'], [1, cyclic], [2, new Uint8Array([0, 255])]));
    await h.bolt.executeBatch!(tuples(['n', 'v'], [3, cyclic]));
    await h.bolt.cleanup!();
    expect(read(path)).toBe('{"n":1,"v":"[unserializable: cyclic object]"}\n{"n":2,"v":"AP8="}\n{"n":3,"v":"[unserializable: cyclic object]"}\n');
    expect(h.collector.acked).toHaveLength(3);
    expect(h.collector.failed).toEqual([]);
    expect(h.context.counted('errors', 'unserializable_value')).toBe(2);
    const warnings = h.context.logger.records.filter((r) => r.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('file sink: field "v" could not be written as JSON (cyclic object)');
  });

  it('fails tuples whose lines could not be written, and reports the error', async () => {
    const path = join(dir, 'fail.jsonl');
    const h = await prepareBolt(fileSink, { path });
    // Break the output under the sink.
    await (h.bolt as unknown as { handle: { close(): Promise<void> } }).handle.close();
    const batch = tuples(['v'], [1], [2]);
    await h.bolt.executeBatch!(batch);
    await h.bolt.finish!();
    expect(h.collector.failed).toEqual(batch);
    expect(h.collector.acked).toEqual([]);
    expect(h.collector.errors[0]?.error).toBeInstanceOf(FileAccessError);
    expect(h.context.counted('write_failures')).toBe(1);
    expect(h.context.counted('errors', 'write')).toBe(0);
  });

  it('throws a FileAccessError naming the path when the file cannot be opened', async () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    const path = join(blocker, 'out.jsonl');
    const err = await prepareBolt(fileSink, { path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileAccessError);
    expect((err as Error).message).toContain(path);
  });

  // Node 20.20's mkdir(..., { recursive: true }) never returns for /proc/nope: the timeout turns a hang into a failure.
  it('fails its prepare with an error naming the path when the folder cannot be made under /proc, instead of hanging', async () => {
    const path = '/proc/qitian-nope-xyz/out.jsonl';
    const err = await prepareBolt(fileSink, { path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileAccessError);
    expect((err as FileAccessError).code).toBe('ENOENT');
    expect((err as FileAccessError).path).toBe(path);
    expect((err as Error).message).toBe(`file sink: cannot open "${path}" for writing: no such file or directory (ENOENT)`);
  }, 2000);

  it('follows logrotate without copytruncate: a moved file keeps what it had, a new one starts at the path within a second, nothing is lost', async () => {
    const path = join(dir, 'out.jsonl');
    const h = await prepareBolt(fileSink, { path });
    await h.bolt.executeBatch!(tuples(['n'], [1], [2]));
    await sleep(50);
    renameSync(path, join(dir, 'out.jsonl.1'));
    // Within the second, lines still go to the file it has open (the moved one), as with any writer.
    await sleep(1100);
    await h.bolt.executeBatch!(tuples(['n'], [3]));
    await sleep(50);
    await h.bolt.executeBatch!(tuples(['n'], [4]));
    await h.bolt.finish!();
    await h.bolt.cleanup!();
    expect(read(join(dir, 'out.jsonl.1'))).toBe('{"n":1}\n{"n":2}\n');
    expect(read(path)).toBe('{"n":3}\n{"n":4}\n');
    expect(h.context.counted('reopened', 'moved')).toBe(1);
    expect(h.context.logger.records.find((r) => r.msg.includes('moved or deleted'))?.fields).toMatchObject({ path });
    expect(h.collector.acked).toHaveLength(4);
    expect(h.collector.failed).toHaveLength(0);
  });

  it('makes a deleted file again, and goes on at the new end of one truncated under it (copytruncate) with no hole', async () => {
    const path = join(dir, 'out.jsonl');
    const h = await prepareBolt(fileSink, { path });
    await h.bolt.executeBatch!(tuples(['n'], [1], [2]));
    await sleep(50);
    truncateSync(path, 0);
    await h.bolt.executeBatch!(tuples(['n'], [3]));
    await sleep(50);
    // Not from the old offset after NULs: the sink appends.
    expect(read(path)).toBe('{"n":3}\n');
    unlinkSync(path);
    await sleep(1100);
    await h.bolt.executeBatch!(tuples(['n'], [4]));
    await h.bolt.finish!();
    await h.bolt.cleanup!();
    expect(read(path)).toBe('{"n":4}\n');
    expect(h.context.counted('reopened', 'moved')).toBe(1);
  });

  it('empties the file at its first write, not when it opens: a run that fails to start leaves the last output; one that writes nothing leaves it empty', async () => {
    const path = join(dir, 'out.jsonl');
    writeFileSync(path, '{"n":"last run"}\n');
    const failed = await prepareBolt(fileSink, { path });
    await failed.bolt.cleanup!(); // as after a start called off: no finish
    expect(read(path)).toBe('{"n":"last run"}\n');
    const h = await prepareBolt(fileSink, { path });
    expect(read(path)).toBe('{"n":"last run"}\n');
    await h.bolt.executeBatch!(tuples(['n'], [1]));
    await h.bolt.finish!();
    await h.bolt.cleanup!();
    expect(read(path)).toBe('{"n":1}\n');
    const empty = await prepareBolt(fileSink, { path });
    await empty.bolt.finish!();
    await empty.bolt.cleanup!();
    expect(read(path)).toBe('');
  });

  it('takes back the part of a chunk a failed write got in (a disk that fills up), and waits longer after each failure', async () => {
    const path = join(dir, 'out.jsonl');
    const h = await prepareBolt(fileSink, { path });
    await h.bolt.executeBatch!(tuples(['n'], [1]));
    await sleep(50);
    const handle = (h.bolt as unknown as { handle: { write: (...a: unknown[]) => Promise<{ bytesWritten: number }> } }).handle;
    const realWrite = handle.write.bind(handle);
    const attempts: number[] = [];
    let failing = true;
    handle.write = async (buf: unknown, off: unknown, len: unknown) => {
      if (!failing) return realWrite(buf, off, len);
      attempts.push(performance.now());
      if ((off as number) === 0) return realWrite(buf, 0, Math.floor((len as number) / 2)); // half of the chunk, then ENOSPC
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    const batch = tuples(['n'], [2], [3], [4]);
    await h.bolt.executeBatch!(batch);
    await sleep(50);
    expect(read(path)).toBe('{"n":1}\n'); // nothing torn
    expect(h.collector.failed).toEqual(batch);
    await h.bolt.executeBatch!(tuples(['n'], [2], [3], [4])); // the replay
    await sleep(250);
    expect(attempts.length).toBeGreaterThanOrEqual(4);
    // The second chunk waited about 100 ms after the first failed.
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(90);
    failing = false;
    const replay = tuples(['n'], [2], [3], [4]);
    await h.bolt.executeBatch!(replay);
    await h.bolt.finish!();
    await h.bolt.cleanup!();
    expect(read(path)).toBe('{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}\n');
    expect(h.collector.acked.slice(-3)).toEqual(replay);
    expect(h.context.counted('write_failures')).toBe(2);
  });
});
