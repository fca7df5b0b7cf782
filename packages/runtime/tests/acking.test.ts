/** The XOR acker: failures replay and a failed execute leaks no emits; at-most-once emits as it goes. */
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { counts, firstValues, lines, run, spec, tempDir } from './kit.js';

test('a bolt failing every 7th tuple: every id arrives exactly once, failures replay', async () => {
  const dir = tempDir();
  const N = 60_000;
  const out = join(dir, 'out');
  const failLog = join(dir, 'failed');
  const s = spec(
    [
      { id: 'seq', export: 'seqSpout', parallelism: 2, config: { count: N, failLog } },
      { id: 'flaky', export: 'flakyBolt', parallelism: 2, config: { failEvery: 7 } },
      { id: 'sink', export: 'collectSink', parallelism: 2, config: { path: out } },
    ],
    [
      // Fields grouping: a replayed id meets the task that failed it, and passes the second time.
      { from: 'seq', to: 'flaky', grouping: { type: 'fields', fields: ['n'] } },
      { from: 'flaky', to: 'sink' },
    ],
    { messageTimeoutMs: 30_000 },
  );
  const { summary, by } = await run(s, 2);
  expect(summary.reason).toBe('completed');
  expect(summary.restarts).toBe(0);
  expect(summary.abandoned).toBe(0);

  const planned = Math.floor((N - 1) / 7) + 1;
  // The sink sees every id, and each exactly once: the failed executes' emits were discarded.
  const got = firstValues(out);
  expect(got.length).toBe(N);
  const c = counts(got);
  expect(c.size).toBe(N);
  for (let i = 0; i < N; i++) expect(c.get(i)).toBe(1);

  expect(by.seq!.acked).toBe(N);
  expect(by.seq!.failed).toBe(planned);
  expect(by.seq!.timedOut).toBe(0);
  expect(summary.tasks.filter((t) => t.kind === 'spout').map((t) => t.pending)).toEqual([0, 0]);
  // Each failed id was emitted again: a replay.
  expect(by.seq!.emitted).toBe(N + planned);
  const failed = lines(failLog).map(Number);
  expect(failed.length).toBe(planned);
  expect(new Set(failed).size).toBe(planned);
  expect(failed.every((n) => n % 7 === 0)).toBe(true);

  expect(by.flaky!.failed).toBe(planned);
  expect(by.flaky!.errors).toBe(planned);
  expect(by.flaky!.executed).toBe(N + planned);
  expect(by.flaky!.acked).toBe(N);
  expect(by.sink!.executed).toBe(N);
  expect(by.sink!.acked).toBe(N);
});

test('a manual-ack bolt that emits then acks inside execute: downstream failures still reach the spout', async () => {
  const dir = tempDir();
  const N = 2000;
  const out = join(dir, 'out');
  const s = spec(
    [
      { id: 'seq', export: 'seqSpout', parallelism: 1, config: { count: N } },
      { id: 'relay', export: 'manualAckBolt', parallelism: 1, autoAck: false },
      // Fails every id the first time it sees it.
      { id: 'flaky', export: 'flakyBolt', parallelism: 1, config: { failEvery: 1 } },
      { id: 'sink', export: 'collectSink', parallelism: 1, config: { path: out } },
    ],
    [
      { from: 'seq', to: 'relay' },
      { from: 'relay', to: 'flaky' },
      { from: 'flaky', to: 'sink' },
    ],
    { messageTimeoutMs: 30_000 },
  );
  const { summary, by } = await run(s, 2);
  expect(summary.reason).toBe('completed');
  // Had the relay's ack completed the trees before its emits joined them, the spout would see no failure.
  expect(by.seq!.failed).toBe(N);
  expect(by.seq!.acked).toBe(N);
  expect(counts(firstValues(out)).size).toBe(N);
});

test('at-most-once (acking off): emits go out as they are made, so a throwing execute keeps what it emitted before', async () => {
  const dir = tempDir();
  const N = 700;
  const out = join(dir, 'out');
  const s = spec(
    [
      { id: 'seq', export: 'seqSpout', parallelism: 1, config: { count: N } },
      // Emits n, then throws, for multiples of 7 (once each): nothing replays them.
      { id: 'flaky', export: 'flakyBolt', parallelism: 1, config: { failEvery: 7 } },
      { id: 'sink', export: 'collectSink', parallelism: 1, config: { path: out } },
    ],
    [
      { from: 'seq', to: 'flaky' },
      { from: 'flaky', to: 'sink' },
    ],
    { acking: false },
  );
  const { summary, by } = await run(s, 1);
  expect(summary.reason).toBe('completed');
  const c = counts(firstValues(out));
  expect(c.size).toBe(N);
  for (let i = 0; i < N; i++) expect(c.get(i)).toBe(1);
  expect(by.flaky!.errors).toBe(N / 7);
  expect(by.flaky!.failed).toBe(N / 7);
  expect(by.seq!.emitted).toBe(N);
});

test('maxRetries: a tuple that fails every time is given up after that many replays, acked to its spout, counted and logged', async () => {
  const dir = tempDir();
  const N = 700;
  const out = join(dir, 'out');
  const s = spec(
    [
      { id: 'seq', export: 'seqSpout', parallelism: 1, config: { count: N } },
      // Throws on every multiple of 7, every time: a poison tuple.
      { id: 'poison', export: 'flakyBolt', parallelism: 2, config: { throwEvery: 7 } },
      { id: 'sink', export: 'collectSink', parallelism: 1, config: { path: out } },
    ],
    [
      { from: 'seq', to: 'poison' },
      { from: 'poison', to: 'sink' },
    ],
    { maxRetries: 2, messageTimeoutMs: 30_000 },
  );
  const { summary, by, logs } = await run(s, 2);
  expect(summary.reason).toBe('completed');
  const poisoned = N / 7;
  // Each poison id ran once and was replayed twice, then given up.
  expect(by.poison!.errors).toBe(3 * poisoned);
  expect(by.seq!.failed).toBe(3 * poisoned);
  expect(by.seq!.gaveUp).toBe(poisoned);
  expect(summary.tasks.find((t) => t.componentId === 'seq')!.replayed).toBe(2 * poisoned);
  expect(by.seq!.acked).toBe(N - poisoned);
  const c = counts(firstValues(out));
  expect(c.size).toBe(N - poisoned);
  for (let i = 0; i < N; i++) expect(c.get(i)).toBe(i % 7 === 0 ? undefined : 1);
  const warnings = logs.filter((l) => l.level === 'warn' && l.msg.includes('gave up on message'));
  expect(warnings.length).toBe(10); // the first ten, then one in a thousand
  expect(warnings[0]!.msg).toMatch(/gave up on message \d+ after 3 failed attempts \(maxRetries 2, last one failed\)/);
});
