/** Keyed state is copied to the main thread and given back to a replacement thread. */
import { summarize } from '@qitian/runtime';
import { createPlan } from '@qitian/topology';
import { expect, test } from 'vitest';
import { spec, start, waitFor } from './kit.js';

test('a killed thread comes back with its keyed state as of the last copy, not empty', async () => {
  const N = 40_000;
  const s = spec(
    [
      { id: 'seq', export: 'seqSpout', config: { count: N } },
      { id: 'counter', export: 'keyedCountSink', config: { delayEvery: 20 } },
    ],
    [{ from: 'seq', to: 'counter', grouping: { type: 'fields', fields: ['n'] } }],
    { stateSnapshotIntervalMs: 50, messageTimeoutMs: 2000 },
  );
  const plan = createPlan(s, 2);
  expect(plan.tasks[plan.componentTasks.counter![0]!]!.worker).toBe(1);
  const { engine, logs } = await start(s, 2);
  const executed = async () => (await engine.stats()).filter((t) => t.componentId === 'counter').reduce((a, t) => a + t.executed, 0);
  await waitFor(async () => (await executed()) > N / 2, 20_000, 'half of the stream counted');
  await engine.killWorker(1);
  const summary = await engine.finished;
  expect(summary.reason).toBe('completed');
  expect(summary.restarts).toBe(1);
  expect(logs.some((l) => l.msg.includes('keyed state restored from its last copy'))).toBe(true);
  const total = summarize(summary.tasks).find((c) => c.component === 'counter')!.custom.stateTotal ?? 0;
  // Without the copy, the replacement would start from nothing and count about half. With it,
  // the total is N, give or take what changed between the last copy and the kill (lost) and what
  // was counted but not yet acked (replayed, counted again).
  expect(total).toBeGreaterThan(N * 0.9);
  expect(total).toBeLessThan(N * 1.1);
});
