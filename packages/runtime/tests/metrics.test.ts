/** What the metrics say about a topology with a known slow bolt: latency, capacity, backpressure. */
import { join } from 'node:path';
import { quantile } from '@qitian/runtime';
import { expect, test } from 'vitest';
import { byComponent, spec, start, tempDir, waitFor } from './kit.js';

test('a bolt that spins 1 ms a tuple: its latency, its capacity, and the backpressure it causes upstream', async () => {
  const N = 1500;
  const s = spec(
    [
      { id: 'seq', export: 'seqSpout', config: { count: N } },
      { id: 'slow', export: 'flakyBolt', config: { delayEvery: 1 } },
      { id: 'sink', export: 'collectSink', config: { path: join(tempDir(), 'out') } },
    ],
    [
      { from: 'seq', to: 'slow' },
      { from: 'slow', to: 'sink' },
    ],
    // Every execute timed; small batches and few credits so that the slow bolt backs up into the spout.
    { latencySampling: 1, batchSize: 10, credits: 2, maxSpoutPending: 100_000 },
  );
  const { engine } = await start(s, 2);
  // Mid-run: the slow bolt is the busy one.
  let capacity = 0;
  await waitFor(
    async () => {
      const stats = await engine.stats();
      capacity = Math.max(capacity, ...stats.filter((t) => t.componentId === 'slow').map((t) => t.capacity));
      return capacity > 0.6;
    },
    10_000,
    'the slow bolt to report a capacity above 0.6',
  );
  const summary = await engine.finished;
  expect(summary.reason).toBe('completed');
  const slow = summary.tasks.find((t) => t.componentId === 'slow')!;
  const seq = summary.tasks.find((t) => t.componentId === 'seq')!;
  expect(slow.executed).toBe(N);
  expect(slow.executeLatency.count).toBe(N);
  const p50 = quantile(slow.executeLatency, 0.5);
  expect(p50).toBeGreaterThanOrEqual(0.001);
  expect(p50).toBeLessThan(0.005);
  // Process latency includes the wait in the input queue: never less than execute.
  expect(slow.processLatency.count).toBe(N);
  expect(quantile(slow.processLatency, 0.5)).toBeGreaterThanOrEqual(p50);
  // Busy time is at least the spinning.
  expect(slow.busyMs).toBeGreaterThanOrEqual(N * 1);
  // The spout waited for credit from the slow bolt, and knows whom it waited for.
  expect(seq.backpressureMsByTarget.slow ?? 0).toBeGreaterThan(100);
  expect(Object.keys(seq.backpressureMsByTarget)).toEqual(['slow']);
  // Every acked tree has a complete latency, each at least one execute of the slow bolt.
  expect(seq.completeLatency.count).toBe(seq.acked);
  expect(quantile(seq.completeLatency, 0.5)).toBeGreaterThan(0.001);
  expect(byComponent(summary).sink!.executed).toBe(N);
});

test('a replay is counted as one', async () => {
  const N = 700;
  const s = spec(
    [
      { id: 'seq', export: 'seqSpout', parallelism: 2, config: { count: N } },
      { id: 'flaky', export: 'flakyBolt', parallelism: 2, config: { failEvery: 7 } },
      { id: 'sink', export: 'collectSink', config: { path: join(tempDir(), 'out') } },
    ],
    [
      { from: 'seq', to: 'flaky', grouping: { type: 'fields', fields: ['n'] } },
      { from: 'flaky', to: 'sink' },
    ],
  );
  const { engine } = await start(s, 2);
  const summary = await engine.finished;
  const seq = byComponent(summary).seq!;
  const failures = Math.floor((N - 1) / 7) + 1;
  expect(seq.failed).toBe(failures);
  const replayed = summary.tasks.filter((t) => t.componentId === 'seq').reduce((a, t) => a + t.replayed, 0);
  expect(replayed).toBe(failures);
});

test('process latency of a manual-ack bolt that acks inside execute, acking off: every timed tuple is recorded', async () => {
  const N = 3000;
  const s = spec(
    [
      { id: 'seq', export: 'seqSpout', config: { count: N } },
      { id: 'relay', export: 'manualAckBolt' },
      { id: 'sink', export: 'collectSink', config: { path: join(tempDir(), 'out') } },
    ],
    [
      { from: 'seq', to: 'relay' },
      { from: 'relay', to: 'sink' },
    ],
    // Every execute timed. With acking off the ack lands before execute returns: such a tuple was
    // parked among the unacked samples for good, and once 1024 were parked nothing was recorded.
    { acking: false, latencySampling: 1 },
  );
  const { engine } = await start(s, 2);
  const summary = await engine.finished;
  expect(summary.reason).toBe('completed');
  const relay = summary.tasks.find((t) => t.componentId === 'relay')!;
  expect(relay.executed).toBe(N);
  expect(relay.acked).toBe(N);
  expect(relay.executeLatency.count).toBe(N);
  expect(relay.processLatency.count).toBe(N);
});
