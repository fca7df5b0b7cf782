/**
 * Load-aware shuffle: a thread that runs a costly spout hands more of the shuffled work to the
 * other thread, which has time to spare; with `loadAware: false` the spread is exactly even.
 */
import { expect, test } from 'vitest';
import { run, spec } from './kit.js';

const N = 60_000;

/**
 * One seq task (worker 0) spinning about 33 us a tuple -> shuffle -> flaky with 2 tasks (one per
 * worker), spinning as much: worker 0 carries the spout and half the bolt work, worker 1 only
 * the other half, so worker 1 idles unless it gets more.
 */
function topology(loadAware: boolean) {
  return spec(
    [
      { id: 'seq', export: 'seqSpout', parallelism: 1, config: { count: N, delayEvery: 30 } },
      { id: 'work', export: 'flakyBolt', parallelism: 2, config: { delayEvery: 30 } },
    ],
    [{ from: 'seq', to: 'work', grouping: { type: 'shuffle' } }],
    { acking: false, loadAware },
  );
}

function executedByTask(summary: Awaited<ReturnType<typeof run>>['summary']): number[] {
  return summary.tasks
    .filter((t) => t.componentId === 'work')
    .sort((a, b) => a.taskIndex - b.taskIndex)
    .map((t) => t.executed);
}

test('a saturated thread sends most of its shuffled tuples to the thread with time to spare', async () => {
  const { summary } = await run(topology(true), 2);
  expect(summary.reason).toBe('completed');
  const [local, remote] = executedByTask(summary);
  expect(local! + remote!).toBe(N);
  // Even would be N/2 each; the share moves 0.02 every 100 ms towards worker 1.
  expect(remote!).toBeGreaterThan(local! * 1.5);
}, 30_000);

test('with loadAware off, shuffle is plain round-robin', async () => {
  const { summary } = await run(topology(false), 2);
  expect(summary.reason).toBe('completed');
  const [local, remote] = executedByTask(summary);
  expect(Math.abs(local! - remote!)).toBeLessThanOrEqual(1);
}, 30_000);
