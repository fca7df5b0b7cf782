/** Tuples crossing threads: values that cannot be copied are dropped, counted and replayed. */
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { TopologyConfig } from '@qitian/topology';
import { counts, firstValues, run, spec, tempDir } from './kit.js';

const N = 20_000;

/** Seq -> flaky (every 10th id emitted once with a function in it) -> one sink task; the output file. */
function trapTopology(config: Partial<TopologyConfig> = {}): { s: ReturnType<typeof spec>; out: string } {
  const out = join(tempDir(), 'out');
  const s = spec(
    [
      { id: 'seq', export: 'seqSpout', parallelism: 2, config: { count: N } },
      { id: 'flaky', export: 'flakyBolt', parallelism: 2, config: { functionEvery: 10 } },
      { id: 'sink', export: 'collectSink', parallelism: 1, config: { path: out } },
    ],
    [
      // The replay of an id meets the task that saw it first, which then emits it plainly.
      { from: 'seq', to: 'flaky', grouping: { type: 'fields', fields: ['n'] } },
      // One sink task: the flaky task on the other thread sends every tuple across.
      { from: 'flaky', to: 'sink', grouping: { type: 'global' } },
    ],
    config,
  );
  return { s, out };
}

test('a tuple holding a function is dropped at the thread boundary, its tree fails and replays; the rest of its batch arrives', async () => {
  const { s, out } = trapTopology();
  const { summary, by, logs } = await run(s, 2);
  expect(summary.reason).toBe('completed');
  const got = firstValues(out);
  const c = counts(got);
  expect(c.size).toBe(N);
  expect(got.length).toBe(N);
  // Only the flaky task on the sink's thread got its trap tuples through (a local call copies nothing).
  const dropped = by.flaky!.dropped;
  expect(dropped).toBeGreaterThan(N / 10 / 4);
  expect(dropped).toBeLessThan(N / 10);
  expect(by.seq!.failed).toBe(dropped);
  expect(by.seq!.acked).toBe(N);
  expect(by.flaky!.errors).toBeGreaterThan(0);
  const message = logs.find((l) => l.level === 'error' && l.msg.includes('cannot be copied to another thread'));
  // The consumer named as logs and metrics name tasks: component and task index, not a global task id.
  expect(message?.msg).toMatch(/^transfer failed: \d+ tuple\(s\) on stream "default" to "sink" task 0 hold values that cannot be copied/);
  expect(message?.fields).toMatchObject({ component: 'flaky' });
});

test('without acking, such tuples are dropped and counted, and every other tuple arrives', async () => {
  const { s, out } = trapTopology({ acking: false });
  const { summary, by } = await run(s, 2);
  expect(summary.reason).toBe('completed');
  const got = firstValues(out);
  expect(new Set(got).size).toBe(got.length);
  expect(got.length + by.flaky!.dropped).toBe(N);
  expect(by.flaky!.dropped).toBeGreaterThan(0);
  // What was lost is only trap tuples.
  const missing = new Set(Array.from({ length: N }, (_, i) => i));
  for (const n of got) missing.delete(n);
  expect([...missing].every((n) => n % 10 === 0)).toBe(true);
});
