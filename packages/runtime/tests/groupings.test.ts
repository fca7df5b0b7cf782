/** Every grouping end to end, through worker threads, and key placement by key group. */
import { join } from 'node:path';
import { keyGroupOf, keyGroupRange, taskForKeyGroup } from '@qitian/api';
import { createPlan } from '@qitian/topology';
import { describe, expect, test } from 'vitest';
import { counts, GROUPING, jsonLines, run, spec, start, tempDir } from './kit.js';

describe('groupings end to end', () => {
  test('fields, all, global, local-or-shuffle, custom and direct deliver where they should', async () => {
    const dir = tempDir();
    const N = 6000;
    const out = (name: string) => join(dir, name);
    const sink = (id: string, parallelism: number) => ({
      id,
      export: 'collectSink' as const,
      parallelism,
      config: { path: out(id), withTask: true },
    });
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', parallelism: 2, config: { count: N } },
        { id: 'router', export: 'directBolt', parallelism: 2, config: { to: 'dsink' } },
        sink('fsink', 3),
        sink('asink', 2),
        sink('gsink', 2),
        sink('lsink', 2),
        sink('csink', 3),
        sink('dsink', 2),
      ],
      [
        { from: 'seq', to: 'fsink', grouping: { type: 'fields', fields: ['n'] } },
        { from: 'seq', to: 'asink', grouping: { type: 'all' } },
        { from: 'seq', to: 'gsink', grouping: { type: 'global' } },
        { from: 'seq', to: 'lsink', grouping: { type: 'local-or-shuffle' } },
        { from: 'seq', to: 'csink', grouping: { type: 'custom', custom: { ref: { url: GROUPING, export: 'default' }, args: { dropEvery: 10 } } } },
        { from: 'seq', to: 'router' },
        { from: 'router', to: 'dsink', grouping: { type: 'direct' } },
      ],
    );
    const plan = createPlan(s, 2);
    const { summary, by } = await run(s, 2);
    expect(summary.reason).toBe('completed');
    expect(summary.restarts).toBe(0);
    expect(by.seq!.acked).toBe(N);
    expect(by.seq!.failed).toBe(0);
    type Line = [n: number, taskIndex: number, sourceTask: number];
    const read = (id: string) => jsonLines<Line>(out(id));
    const all = Array.from({ length: N }, (_, i) => i);

    // fields: each n once, on the task that owns its key group.
    const max = s.config.maxParallelism;
    const f = read('fsink');
    expect(f.map((l) => l[0]).sort((a, b) => a - b)).toEqual(all);
    for (const [n, task] of f) {
      const kg = keyGroupOf(String(n), max);
      expect(task).toBe(taskForKeyGroup(kg, 3, max));
      const range = keyGroupRange(task, 3, max);
      expect(kg >= range.start && kg < range.end).toBe(true);
    }
    expect(new Set(f.map((l) => l[1])).size).toBe(3);

    // all: every n on both tasks.
    const a = read('asink');
    expect(a.length).toBe(2 * N);
    for (const task of [0, 1]) {
      expect(
        a
          .filter((l) => l[1] === task)
          .map((l) => l[0])
          .sort((x, y) => x - y),
      ).toEqual(all);
    }

    // global: all on task index 0.
    const g = read('gsink');
    expect(g.length).toBe(N);
    expect(g.every((l) => l[1] === 0)).toBe(true);

    // local-or-shuffle: each n once, on a sink task in the sending spout task's worker.
    const l = read('lsink');
    expect(l.map((x) => x[0]).sort((x, y) => x - y)).toEqual(all);
    for (const [, task, source] of l) {
      const sinkTask = plan.componentTasks.lsink![task]!;
      expect(plan.tasks[sinkTask]!.worker).toBe(plan.tasks[source]!.worker);
    }

    // custom: n goes to task n mod 3, multiples of 10 go nowhere and are counted as dropped.
    const c = read('csink');
    expect(c.length).toBe(N - N / 10);
    for (const [n, task] of c) {
      expect(n % 10).not.toBe(0);
      expect(task).toBe(n % 3);
    }
    expect(by.seq!.dropped).toBe(N / 10);

    // direct: the router sends n to dsink task n mod 2.
    const d = read('dsink');
    expect(d.map((x) => x[0]).sort((x, y) => x - y)).toEqual(all);
    for (const [n, task] of d) expect(task).toBe(n % 2);
  });

  test('emitDirect to a task that does not consume the stream fails that execute with a clear error', async () => {
    const dir = tempDir();
    const N = 300;
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: N } },
        // Task 0 is the spout: it does not consume the router's stream.
        { id: 'router', export: 'directBolt', parallelism: 2, config: { to: 'dsink', badEvery: 10, badTask: 0 } },
        { id: 'dsink', export: 'collectSink', parallelism: 2, config: { path: join(dir, 'd') } },
      ],
      [
        { from: 'seq', to: 'router' },
        { from: 'router', to: 'dsink', grouping: { type: 'direct' } },
      ],
      { acking: false },
    );
    const { summary, by, logs } = await run(s, 2);
    expect(summary.reason).toBe('completed');
    expect(summary.restarts).toBe(0);
    expect(by.router!.errors).toBe(N / 10);
    expect(by.router!.failed).toBe(N / 10);
    expect(by.dsink!.executed).toBe(N - N / 10);
    const msg = logs.find((l) => l.level === 'error' && /does not consume/.test(l.msg));
    expect(msg?.msg).toMatch(/task 0 does not consume stream "default" of "router" with direct grouping/);
    expect(msg?.fields?.component).toBe('router');
    expect(counts(jsonLines<number[]>(join(dir, 'd')).map((v) => v[0]!)).size).toBe(N - N / 10);
  });

  test('emitDirect to a task that is no task id (an index off the end of componentTasks) fails the execute, saying so', async () => {
    const dir = tempDir();
    const N = 200;
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: N } },
        { id: 'router', export: 'directBolt', config: { to: 'dsink', offEndEvery: 10 } },
        { id: 'dsink', export: 'collectSink', config: { path: join(dir, 'd') } },
        // A plain consumer too: the router only emits direct, so an undefined task must not become a plain emit to it.
        { id: 'all', export: 'collectSink', config: { path: join(dir, 'all') } },
      ],
      [
        { from: 'seq', to: 'router' },
        { from: 'router', to: 'dsink', grouping: { type: 'direct' } },
        { from: 'router', to: 'all' },
      ],
      { acking: false },
    );
    const { by, logs } = await run(s, 1);
    expect(by.router!.errors).toBe(N / 10);
    expect(by.all!.executed).toBe(0);
    expect(by.dsink!.executed).toBe(N - N / 10);
    const msg = logs.find((l) => l.level === 'error' && /emitDirect with task/.test(l.msg));
    expect(msg?.msg).toMatch(/"router" called emitDirect with task undefined: it takes a task id of the consumer/);
  });

  test('a custom grouping that throws loses that copy (counted, the edge logged) and fails its tree: the spout replays it, up to maxRetries', async () => {
    const dir = tempDir();
    const N = 1000;
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', parallelism: 2, config: { count: N } },
        { id: 'csink', export: 'collectSink', parallelism: 3, config: { path: join(dir, 'c') } },
      ],
      [{ from: 'seq', to: 'csink', grouping: { type: 'custom', custom: { ref: { url: GROUPING, export: 'default' }, args: { throwEvery: 10 } } } }],
      { maxRetries: 2 },
    );
    const { summary, by, logs } = await run(s, 2);
    expect(summary.reason).toBe('completed');
    // Each multiple of 10 throws every time: tried 3 times (the first and 2 replays), then given up.
    expect(by.seq!.errors).toBe((3 * N) / 10);
    expect(by.seq!.dropped).toBe((3 * N) / 10);
    expect(by.seq!.failed).toBe((3 * N) / 10);
    expect(by.seq!.gaveUp).toBe(N / 10);
    expect(by.seq!.acked).toBe(N - N / 10);
    expect(by.csink!.executed).toBe(N - N / 10);
    const msg = logs.find((l) => l.level === 'error' && l.msg.includes('grouping refuses'));
    expect(msg?.msg).toContain('custom grouping of stream "default" seq -> csink');
    expect(msg?.msg).not.toContain('next failed');
  });

  test('a custom grouping whose prepare throws fails the start, naming the edge', async () => {
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 10 } },
        { id: 'csink', export: 'collectSink', config: { path: join(tempDir(), 'c') } },
      ],
      [{ from: 'seq', to: 'csink', grouping: { type: 'custom', custom: { ref: { url: GROUPING, export: 'default' }, args: { needField: 'host' } } } }],
    );
    await expect(start(s, 2)).rejects.toThrow('custom grouping of stream "default" seq -> csink failed: no field "host"');
  });

  test('an emit of a string instead of an array is refused on the fast path too, and not counted as emitted', async () => {
    for (const acking of [false, true]) {
      const dir = tempDir();
      const N = 100;
      const s = spec(
        [
          { id: 'seq', export: 'seqSpout', config: { count: N } },
          { id: 'bad', export: 'stringEmitBolt', config: { every: 5 } },
          { id: 'csink', export: 'collectSink', config: { path: join(dir, 'c') } },
        ],
        [
          { from: 'seq', to: 'bad' },
          { from: 'bad', to: 'csink' },
        ],
        { acking, maxRetries: 0 },
      );
      const { summary, by, logs } = await run(s, 1);
      expect(summary.reason).toBe('completed');
      expect(by.bad!.errors, `acking ${acking}`).toBe(N / 5);
      expect(by.bad!.emitted, `acking ${acking}`).toBe(N - N / 5);
      expect(jsonLines<number[]>(join(dir, 'c')).every((v) => v[0] === v[1])).toBe(true);
      expect(by.csink!.executed).toBe(N - N / 5);
      expect(logs.some((l) => l.msg.includes('emit takes an array of values') && l.msg.includes('got a string'))).toBe(true);
    }
  });

  test('a null message id is no message id, as in Storm: untracked, and the spout gets no ack or fail for it', async () => {
    const dir = tempDir();
    const s = spec(
      [
        { id: 'nulls', export: 'nullIdSpout', config: { count: 50 } },
        { id: 'csink', export: 'collectSink', config: { path: join(dir, 'c') } },
      ],
      [{ from: 'nulls', to: 'csink' }],
    );
    const { summary, by } = await run(s, 1);
    expect(summary.reason).toBe('completed');
    expect(by.nulls!.emitted).toBe(50);
    expect(by.nulls!.acked).toBe(0);
    expect(by.nulls!.custom.acks ?? 0).toBe(0);
    expect(by.csink!.executed).toBe(50);
  });

  test('a custom grouping that throws once on a tuple: the replay gets through, every tuple arrives', async () => {
    const dir = tempDir();
    const N = 600;
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: N } },
        { id: 'pass', export: 'flakyBolt', parallelism: 2 },
        { id: 'csink', export: 'collectSink', parallelism: 2, config: { path: join(dir, 'c') } },
      ],
      [
        // By n, so that a replay meets the same task's grouping, which has thrown for it already.
        { from: 'seq', to: 'pass', grouping: { type: 'fields', fields: ['n'] } },
        {
          from: 'pass',
          to: 'csink',
          grouping: { type: 'custom', custom: { ref: { url: GROUPING, export: 'default' }, args: { throwEvery: 7, throwOnce: true } } },
        },
      ],
    );
    const { summary, by } = await run(s, 2);
    expect(summary.reason).toBe('completed');
    expect(by.pass!.errors).toBe(Math.floor(N / 7) + 1); // 0, 7, 14, ... 595
    expect(by.seq!.failed).toBe(Math.floor(N / 7) + 1);
    expect(by.seq!.acked).toBe(N);
    const got = counts(jsonLines<number[]>(join(dir, 'c')).map((v) => v[0]!));
    expect(got.size).toBe(N);
  });
});
