/** The spout side of the XOR acker, without threads: a fake emitter stands in for routing. */
import type { Spout, SpoutCollector } from '@qitian/api';
import { describe, expect, test } from 'vitest';
import type { TaskContext } from './context.js';
import type { Emitter } from './emitter.js';
import { rootTask } from './roots.js';
import type { StreamRoute } from './routing.js';
import { SpoutExecutor } from './spout-executor.js';
import { newStats } from './stats.js';
import { CallMarker } from './call-marker.js';

const TASK = 3;

/** A spout task whose every emit goes to one consumer with edge id (lo, hi) = (5, 7). */
function spoutTask(generation: number, maxRetries = -1, running = new Int32Array(1)) {
  const warnings: string[] = [];
  const markedInAck: number[] = [];
  const endedReports: boolean[] = [];
  const roots: number[] = [];
  const acked: unknown[] = [];
  const failed: unknown[] = [];
  const emitter = {
    xorLo: 5,
    xorHi: 7,
    dropped: 0,
    route(_r: StreamRoute, _v: unknown[], r: readonly number[]) {
      roots.push(...r);
      return 1;
    },
  } as unknown as Emitter;
  const spout: Spout = {
    next: () => 'idle',
    ack: (id) => {
      acked.push(id);
      markedInAck.push(running[0]!);
    },
    fail: (id) => void failed.push(id),
  };
  const route = { stream: 'default', edges: [], direct: new Set() } as unknown as StreamRoute;
  const stats = newStats(TASK, 'seq', 'spout');
  const ex = new SpoutExecutor(
    TASK,
    spout,
    { componentId: 'seq', logger: { warn: (m: string) => void warnings.push(m) } } as unknown as TaskContext,
    stats,
    new Map([['default', route]]),
    emitter,
    { reliable: true, maxPending: 100, timeoutMs: 30_000, batchSize: 10, generation, maxRetries, marker: new CallMarker(running, 0) },
    () => {},
    (ended) => void endedReports.push(ended),
    (err) => {
      throw err;
    },
  );
  const collector: SpoutCollector = ex;
  return { ex, collector, roots, acked, failed, stats, warnings, markedInAck, endedReports };
}

describe('spout executor', () => {
  test('a tree completes when the acks XOR to zero, and only then', () => {
    const s = spoutTask(0);
    s.collector.emit([1], 'm1');
    expect(s.roots).toHaveLength(1);
    expect(rootTask(s.roots[0]!)).toBe(TASK);
    s.ex.applyAcks([s.roots[0]!, 5, 0], null);
    expect(s.acked).toEqual([]);
    s.ex.applyAcks([s.roots[0]!, 0, 7], null);
    expect(s.acked).toEqual(['m1']);
    expect(s.stats.acked).toBe(1);
    expect(s.stats.pending).toBe(0);
  });

  test("while acks run the spout's code, its task is marked running (a stuck ack names it), and the mark before is put back", () => {
    const running = new Int32Array([42]);
    const s = spoutTask(0, -1, running);
    s.collector.emit([1], 'm1');
    s.ex.applyAcks([s.roots[0]!, 5, 7], null);
    expect(s.markedInAck).toEqual([TASK + 1]);
    expect(running[0]).toBe(42);
  });

  test('says nothing of its end before it is started (a replacement thread got late acks first, and the run ended by itself)', () => {
    const s = spoutTask(1);
    s.ex.applyAcks([123, 5, 7], null);
    s.ex.failAllPending();
    expect(s.endedReports).toEqual([]);
    s.ex.start(true);
    expect(s.endedReports).toEqual([]);
    s.ex.deactivate();
    expect(s.endedReports).toEqual([true]);
  });

  test('a fail replays (calls fail once) and a late ack for it is ignored', () => {
    const s = spoutTask(0);
    s.collector.emit([1], 'm1');
    s.ex.applyAcks(null, [s.roots[0]!]);
    s.ex.applyAcks([s.roots[0]!, 5, 7], [s.roots[0]!]);
    expect(s.failed).toEqual(['m1']);
    expect(s.acked).toEqual([]);
    expect(s.stats.failed).toBe(1);
  });

  test("a restarted task's root ids never collide with the dead thread's", () => {
    const old = spoutTask(0);
    const restarted = spoutTask(1);
    for (let i = 0; i < 3; i++) old.collector.emit([i], `old${i}`);
    for (let i = 0; i < 3; i++) restarted.collector.emit([i], `new${i}`);
    for (const r of [...old.roots, ...restarted.roots]) {
      expect(Number.isSafeInteger(r)).toBe(true);
      expect(rootTask(r)).toBe(TASK);
    }
    expect(new Set([...old.roots, ...restarted.roots]).size).toBe(6);
    // Late acks and fails for the old thread's trees reach the new task: they must not touch its trees.
    restarted.ex.applyAcks(
      old.roots.flatMap((r) => [r, 5, 7]),
      old.roots,
    );
    expect(restarted.acked).toEqual([]);
    expect(restarted.failed).toEqual([]);
    expect(restarted.stats.pending).toBe(3);
  });

  test('past maxRetries it gives up: acks the id to the spout and logs it, even an id JSON cannot write', () => {
    const s = spoutTask(0, 1);
    const cyclic: Record<string, unknown> = { line: 7 };
    cyclic.self = cyclic;
    s.collector.emit([1], cyclic);
    s.ex.applyAcks(null, [s.roots[0]!]);
    expect(s.failed).toEqual([cyclic]);
    s.collector.emit([1], cyclic);
    s.ex.applyAcks(null, [s.roots[1]!]);
    expect(s.failed).toEqual([cyclic]);
    expect(s.acked).toEqual([cyclic]);
    expect(s.stats.gaveUp).toBe(1);
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toMatch(/^gave up on message \[object Object\] after 2 failed attempts \(maxRetries 1, last one failed\)/);
  });

  test('root ids stay exact for the last generation', () => {
    const s = spoutTask(511);
    s.collector.emit([1], 'm');
    expect(Number.isSafeInteger(s.roots[0]!)).toBe(true);
    expect(rootTask(s.roots[0]!)).toBe(TASK);
  });
});
