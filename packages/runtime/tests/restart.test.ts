/**
 * A worker thread killed mid-stream is replaced: nothing is lost, duplicates stay within what
 * replays explain, and the run still ends by itself (or drains when stopped).
 */
import { join } from 'node:path';
import { type ExecutorStats, summarize, WorkerFailedError } from '@qitian/runtime';
import { createPlan } from '@qitian/topology';
import { describe, expect, test } from 'vitest';
import { byComponent, counts, firstValues, lines, spec, start, tempDir, waitFor } from './kit.js';

function pipeline(dir: string, N: number) {
  // seq (1 task) lands on worker 0; flaky and sink have a task on each worker.
  return spec(
    [
      { id: 'seq', export: 'seqSpout', config: { count: N, marker: join(dir, 'markers'), checkpointEvery: 16 } },
      { id: 'flaky', export: 'flakyBolt', parallelism: 2, config: { delayEvery: 400 } },
      { id: 'sink', export: 'collectSink', parallelism: 2, config: { path: join(dir, 'out') } },
    ],
    [
      { from: 'seq', to: 'flaky' },
      { from: 'flaky', to: 'sink' },
    ],
    { messageTimeoutMs: 2000 },
  );
}

const sinkExecuted = (stats: ExecutorStats[]) => stats.filter((t) => t.componentId === 'sink').reduce((a, t) => a + t.executed, 0);

describe('a killed worker thread', () => {
  for (const victim of [1, 0]) {
    const what = victim === 0 ? "the spout's own worker" : 'the worker without the spout';
    test(`${what}: nothing lost, duplicates counted, run completes`, async () => {
      const dir = tempDir();
      const N = 150_000;
      const s = pipeline(dir, N);
      const plan = createPlan(s, 2);
      expect(plan.tasks[plan.componentTasks.seq![0]!]!.worker).toBe(0);
      const { engine, logs } = await start(s, 2);
      await waitFor(async () => sinkExecuted(await engine.stats()) > N / 5, 20_000, 'a fifth of the stream');
      const before = summarize(await engine.stats()).find((c) => c.component === 'seq')!;
      await engine.killWorker(victim);
      const summary = await engine.finished;
      expect(summary.reason).toBe('completed');
      expect(summary.restarts).toBe(1);
      expect(logs.some((l) => l.level === 'warn' && /worker \d died/.test(l.msg))).toBe(true);

      const got = firstValues(join(dir, 'out'));
      const c = counts(got);
      for (let i = 0; i < N; i++) if (!c.has(i)) throw new Error(`id ${i} never reached the sink`);
      expect(c.size).toBe(N);
      const duplicates = got.length - N;
      expect(duplicates).toBe([...c.values()].reduce((a, k) => a + k - 1, 0));

      const seq = byComponent(summary).seq!;
      if (victim === 1) {
        // The spout survived: every duplicate comes from a tree it failed and replayed.
        expect(seq.failed).toBeGreaterThan(0);
        expect(duplicates).toBeLessThanOrEqual(seq.failed);
        expect(seq.emitted).toBe(N + seq.failed);
        expect(seq.timedOut).toBe(0);
        expect(lines(join(dir, 'markers'))).toEqual(['open seq 0', 'close seq 0']);
      } else {
        // The spout restarted from its last checkpoint: the lowest id not yet acked.
        const restored = lines(join(dir, 'markers')).find((l) => l.startsWith('open-restored:'));
        expect(restored).toBeDefined();
        const from = Number(restored!.split(' ')[0]!.split(':')[1]);
        expect(from).toBeGreaterThan(0);
        expect(duplicates).toBeLessThanOrEqual(N - from);
        // The new spout task's trees all completed; none was disturbed by acks of the old one's.
        expect(seq.timedOut).toBe(0);
        // The summary keeps what the dead thread had counted (as of its last report) and adds the
        // replacement's: at least the emits seen before the kill plus the re-read from the checkpoint.
        expect(seq.emitted).toBeGreaterThanOrEqual(before.emitted + N - from);
        expect(seq.acked).toBeGreaterThanOrEqual(before.acked + N - from);
      }
    });
  }

  for (const victim of [1, 0]) {
    test(`killed while draining (worker ${victim}): the replacement finishes and cleans up too, without waiting for the drain timeout`, async () => {
      const dir = tempDir();
      const markers = join(dir, 'markers');
      const ackLog = join(dir, 'acked');
      const s = spec(
        [
          { id: 'seq', export: 'seqSpout', config: { count: 0, ackLog, marker: markers } },
          { id: 'flaky', export: 'flakyBolt', parallelism: 2, config: { marker: markers, delayEvery: 400 } },
          { id: 'sink', export: 'collectSink', parallelism: 2, config: { path: join(dir, 'out'), marker: markers } },
        ],
        [
          { from: 'seq', to: 'flaky' },
          { from: 'flaky', to: 'sink' },
        ],
        { messageTimeoutMs: 2000, drainTimeoutMs: 20_000 },
      );
      const { engine } = await start(s, 2);
      await waitFor(async () => sinkExecuted(await engine.stats()) > 5000, 20_000, 'some output');
      const t0 = Date.now();
      const killed = engine.killWorker(victim);
      const summary = await engine.stop();
      await killed;
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(summary.reason).toBe('stopped');
      expect(summary.restarts).toBe(1);
      expect(summary.abandoned).toBe(0);
      const m = lines(markers).sort();
      for (const c of ['flaky', 'sink']) {
        for (const t of [0, 1]) {
          expect(m).toContain(`finish ${c} ${t}`);
          expect(m).toContain(`cleanup ${c} ${t}`);
        }
      }
      expect(m).toContain('close seq 0');
      const got = new Set(firstValues(join(dir, 'out')));
      for (const id of lines(ackLog).map(Number)) if (!got.has(id)) throw new Error(`acked id ${id} never reached the sink`);
    });
  }

  test('a crash in a timer of a component of its own names that component', async () => {
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 0 } },
        { id: 'boom', export: 'flakyBolt' },
      ],
      [{ from: 'seq', to: 'boom' }],
    );
    // The bolt's code comes from its own module: the fixtures module is shared by all of them.
    const boom = s.components.find((c) => c.id === 'boom')!;
    Object.assign(boom, { ref: { url: new URL('./fixtures/timer-crash.ts', import.meta.url).href, export: 'timerCrashBolt' }, config: {} });
    const { engine, logs } = await start(s, 1, { maxRestarts: 0 });
    const summary = await engine.finished;
    expect(summary.reason).toBe('failed');
    const where = /in component "boom" \(at .*timer-crash\.ts:\d+:\d+, in a timer or promise of its own\)/;
    expect(logs.find((l) => l.msg.startsWith('worker 0 crashed'))?.msg).toMatch(where);
    expect(summary.error!.message).toMatch(/worker 0 died 1 times within 60s, the last time in component "boom"/);
  });

  test('beyond maxRestarts the run fails with WorkerFailedError', async () => {
    const dir = tempDir();
    const { engine } = await start(pipeline(dir, 1_000_000), 2, { maxRestarts: 0 });
    await waitFor(async () => sinkExecuted(await engine.stats()) > 1000, 20_000, 'some output');
    await engine.killWorker(1);
    const summary = await engine.finished;
    expect(summary.reason).toBe('failed');
    expect(summary.error).toBeInstanceOf(WorkerFailedError);
    expect(summary.error!.message).toMatch(/worker 1 died 1 times/);
    expect(summary.restarts).toBe(0);
  });
});
