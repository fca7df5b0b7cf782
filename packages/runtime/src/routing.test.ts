/** Groupings, as one sending task sees them: buildRoutes over a plan, then chooseTask(s). */
import { type CustomGrouping, groupingKey, keyGroupOf, taskForKeyGroup } from '@qitian/api';
import { createPlan, DEFAULT_TOPOLOGY_CONFIG, type ExecutionPlan, type Grouping, type TopologySpec } from '@qitian/topology';
import { describe, expect, test } from 'vitest';
import { Emitter } from './emitter.js';
import { EdgeIds } from './ids.js';
import { buildRoutes, chooseTask, chooseTasks, type EdgeRoute, type StreamRoute } from './routing.js';
import type { Transfer } from './transfer.js';

const REF = { url: 'file:///nowhere.js', export: 'x' };

/**
 * One spout `src` (2 tasks) with a stream per grouping, each consumed by its own bolt. Over two
 * workers, createPlan puts src task 0 on worker 0 and task 1 on worker 1.
 */
function topology(groupings: Record<string, { parallelism: number; grouping: Omit<Grouping, 'stream'> }>, srcParallelism = 2): TopologySpec {
  const names = Object.keys(groupings);
  return {
    name: 'routing',
    file: 'routing.yaml',
    config: DEFAULT_TOPOLOGY_CONFIG,
    components: [
      {
        id: 'src',
        kind: 'spout',
        ref: REF,
        parallelism: srcParallelism,
        config: {},
        outputs: Object.fromEntries(names.map((n) => [n, ['a', 'b', 'n']])),
        autoAck: false,
      },
      ...names.map((n) => ({ id: n, kind: 'bolt' as const, ref: REF, parallelism: groupings[n]!.parallelism, config: {}, outputs: {}, autoAck: true })),
    ],
    streams: names.map((n) => ({ from: 'src', to: n, grouping: { ...groupings[n]!.grouping, stream: n } })),
  };
}

function routesOf(plan: ExecutionPlan, srcIndex: number, customs = new Map<string, CustomGrouping>()): Map<string, StreamRoute> {
  const task = plan.componentTasks.src![srcIndex]!;
  return buildRoutes(plan, task, plan.tasks[task]!.worker, customs);
}

function edge(routes: Map<string, StreamRoute>, stream: string): EdgeRoute {
  const r = routes.get(stream)!;
  expect(r.edges).toHaveLength(1);
  return r.edges[0]!;
}

function tally(tasks: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const t of tasks) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

describe('shuffle', () => {
  const plan = createPlan(topology({ sh: { parallelism: 4, grouping: { type: 'shuffle' } } }), 2);

  test('goes round-robin over every consumer task, evenly', () => {
    const e = edge(routesOf(plan, 0), 'sh');
    const picks = Array.from({ length: 400 }, (_, n) => chooseTask(e, ['x', 0, n]));
    const targets = plan.componentTasks.sh!;
    expect(new Set(picks)).toEqual(new Set(targets));
    for (const c of tally(picks).values()) expect(c).toBe(100);
    // Round-robin: every window of 4 consecutive picks names 4 different tasks.
    for (let i = 0; i + 4 <= picks.length; i++) expect(new Set(picks.slice(i, i + 4)).size).toBe(4);
  });

  test('is the single-target fast path', () => {
    expect(routesOf(plan, 0).get('sh')!.single).not.toBeNull();
  });

  test('senders start at different offsets', () => {
    const a = chooseTask(edge(routesOf(plan, 0), 'sh'), []);
    const b = chooseTask(edge(routesOf(plan, 1), 'sh'), []);
    expect(a).not.toBe(b);
  });
});

describe('local-or-shuffle', () => {
  const plan = createPlan(
    topology({
      los: { parallelism: 4, grouping: { type: 'local-or-shuffle' } },
      // One task: it lives on one worker only, so the sender on the other worker must fall back.
      one: { parallelism: 1, grouping: { type: 'local-or-shuffle' } },
    }),
    2,
  );

  test('prefers the consumer tasks in the sender’s own worker, round-robin', () => {
    for (const srcIndex of [0, 1]) {
      const worker = plan.tasks[plan.componentTasks.src![srcIndex]!]!.worker;
      const local = plan.componentTasks.los!.filter((t) => plan.tasks[t]!.worker === worker);
      expect(local.length).toBe(2);
      const e = edge(routesOf(plan, srcIndex), 'los');
      const picks = Array.from({ length: 100 }, () => chooseTask(e, []));
      expect(picks.every((t) => t !== undefined)).toBe(true);
      expect(new Set(picks)).toEqual(new Set(local));
      for (const c of tally(picks).values()) expect(c).toBe(50);
    }
  });

  test('falls back to all consumer tasks when none is local', () => {
    const [oneTask] = plan.componentTasks.one!;
    const oneWorker = plan.tasks[oneTask!]!.worker;
    const remoteSrc = plan.componentTasks.src!.findIndex((t) => plan.tasks[t]!.worker !== oneWorker);
    const e = edge(routesOf(plan, remoteSrc), 'one');
    expect(e.local).toEqual([]);
    expect(chooseTask(e, [])).toBe(oneTask);
  });
});

describe('fields', () => {
  const groupings = {
    f1: { parallelism: 4, grouping: { type: 'fields' as const, fields: ['a'] } },
    f2: { parallelism: 3, grouping: { type: 'fields' as const, fields: ['a', 'b'] } },
  };
  const plan = createPlan(topology(groupings), 2);
  const max = plan.spec.config.maxParallelism;

  test('the same key goes to the same task, from every sender, every time', () => {
    const e0 = edge(routesOf(plan, 0), 'f1');
    const e1 = edge(routesOf(plan, 1), 'f1');
    for (let i = 0; i < 500; i++) {
      const key = `host-${i}`;
      const t = chooseTask(e0, [key, 0, i]);
      expect(chooseTask(e0, [key, 1, i + 1])).toBe(t); // other fields do not matter
      expect(chooseTask(e1, [key, 2, i + 2])).toBe(t);
      // ...and it is the task that owns the key's key group.
      const idx = taskForKeyGroup(keyGroupOf(key, max), 4, max);
      expect(t).toBe(plan.componentTasks.f1![idx]);
    }
  });

  test('spreads keys over the tasks', () => {
    const e = edge(routesOf(plan, 0), 'f1');
    const picks = Array.from({ length: 4000 }, (_, i) => chooseTask(e, [`10.1.${i >> 8}.${i & 255}`, 0, i]));
    const t = tally(picks);
    expect(t.size).toBe(4);
    for (const c of t.values()) expect(c).toBeGreaterThan(700); // 1000 expected
  });

  test('multi-field keys hash every grouping field', () => {
    const e = edge(routesOf(plan, 0), 'f2');
    const seen = new Map<string, number>();
    for (let n = 0; n < 600; n++) {
      const a = `k${n % 5}`;
      const b = n % 3;
      const t = chooseTask(e, [a, b, n]);
      const key = `${a}/${b}`;
      if (seen.has(key)) expect(t).toBe(seen.get(key));
      seen.set(key, t);
      const idx = taskForKeyGroup(keyGroupOf(groupingKey([a, b], [0, 1]), max), 3, max);
      expect(t).toBe(plan.componentTasks.f2![idx]);
    }
    expect(seen.size).toBe(15);
    // Both fields count: some keys sharing `a` land on different tasks.
    const byA = new Map<string, Set<number>>();
    for (const [k, t] of seen) {
      const a = k.split('/')[0]!;
      if (!byA.has(a)) byA.set(a, new Set());
      byA.get(a)!.add(t);
    }
    expect([...byA.values()].some((s) => s.size > 1)).toBe(true);
  });

  test('stays stable past the memo limit', () => {
    const e = edge(routesOf(plan, 0), 'f1');
    const first = Array.from({ length: 70_000 }, (_, i) => chooseTask(e, [`k${i}`, 0, 0]));
    const second = Array.from({ length: 70_000 }, (_, i) => chooseTask(e, [`k${i}`, 0, 0]));
    expect(second).toEqual(first);
  });
});

describe('all, global, custom', () => {
  const plan = createPlan(
    topology({
      every: { parallelism: 3, grouping: { type: 'all' } },
      glob: { parallelism: 3, grouping: { type: 'global' } },
      cust: { parallelism: 3, grouping: { type: 'custom', custom: { ref: REF, args: {} } } },
    }),
    2,
  );

  test('all: every consumer task gets a copy', () => {
    const r = routesOf(plan, 0).get('every')!;
    expect(r.single).toBeNull();
    const out: number[] = [];
    expect(chooseTasks(r.edges[0]!, [], out, 0)).toBe(3);
    expect(out).toEqual(plan.componentTasks.every);
  });

  test('global: always the lowest task of the consumer', () => {
    const lowest = Math.min(...plan.componentTasks.glob!);
    expect(plan.tasks[lowest]!.taskIndex).toBe(0);
    for (const srcIndex of [0, 1]) {
      const e = edge(routesOf(plan, srcIndex), 'glob');
      for (let i = 0; i < 20; i++) expect(chooseTask(e, ['x', i, i])).toBe(lowest);
    }
  });

  test('custom: the tasks the grouping names, minus any that are not consumers', () => {
    const targets = plan.componentTasks.cust!;
    const grouping: CustomGrouping = {
      prepare() {},
      chooseTasks: (v) => (v[2] === 0 ? [targets[1]!, 9999] : v[2] === 1 ? [9999] : [targets[2]!, targets[0]!]),
    };
    const e = edge(routesOf(plan, 0, new Map([['src->cust:cust', grouping]])), 'cust');
    const out: number[] = [];
    expect(chooseTasks(e, ['x', 0, 0], out, 0)).toBe(1);
    expect(out[0]).toBe(targets[1]);
    expect(chooseTasks(e, ['x', 0, 1], out, 0)).toBe(0);
    expect(chooseTasks(e, ['x', 0, 2], out, 0)).toBe(2);
    expect(out.slice(0, 2)).toEqual([targets[2], targets[0]]);
  });
});

describe('direct', () => {
  const plan = createPlan(topology({ dir: { parallelism: 2, grouping: { type: 'direct' } } }), 2);

  function emitter(pushed: number[]): Emitter {
    const transfer = { push: (dst: number) => void pushed.push(dst) } as unknown as Transfer;
    return new Emitter(transfer, new EdgeIds());
  }

  test('emitDirect reaches the named consumer task', () => {
    const r = routesOf(plan, 0).get('dir')!;
    expect(r.edges).toEqual([]);
    expect([...r.direct].sort()).toEqual([...plan.componentTasks.dir!].sort());
    const pushed: number[] = [];
    const em = emitter(pushed);
    const target = plan.componentTasks.dir![1]!;
    expect(em.route(r, [1, 2, 3], [], target)).toBe(1);
    expect(pushed).toEqual([target]);
  });

  test('emitDirect to a task that does not consume the stream throws a clear error', () => {
    const r = routesOf(plan, 0).get('dir')!;
    const pushed: number[] = [];
    const self = plan.componentTasks.src![0]!;
    expect(() => emitter(pushed).route(r, [1, 2, 3], [], self)).toThrow(/task 0 does not consume stream "dir" of "src"/);
    expect(pushed).toEqual([]);
  });

  test('a plain emit on a stream consumed only with direct grouping is refused', () => {
    const r = routesOf(plan, 0).get('dir')!;
    expect(() => emitter([]).route(r, [1, 2, 3], [], -1)).toThrow(/direct/);
  });

  test('an emit whose values do not match the declared fields is refused, naming the stream, on every path', () => {
    const routes = routesOf(plan, 0);
    const dir = routes.get('dir')!;
    const pushed: number[] = [];
    expect(() => emitter(pushed).route(dir, [1], [], plan.componentTasks.dir![0]!)).toThrow(
      'stream "dir" of "src" declares 3 fields (a, b, n); the emit gave 1 value',
    );
    expect(() => emitter(pushed).route(dir, 'abc' as unknown as unknown[], [], -1)).toThrow(
      'emit takes an array of values, one per field: stream "dir" of "src" declares 3 fields (a, b, n); got a string',
    );
    for (const r of routes.values()) {
      const wide = [...r.fields.map((_, i) => i), 'extra'];
      expect(() => emitter(pushed).route(r, wide, [], -1)).toThrow(`the emit gave ${r.fields.length + 1} values`);
      // A string as long as the stream is wide is still not an array of values (the fast path too).
      const text = 'x'.repeat(r.fields.length) as unknown as unknown[];
      expect(() => emitter(pushed).route(r, text, [], -1)).toThrow('got a string');
      if (r.whole) {
        expect(() => emitter(pushed).routeWhole(r, wide)).toThrow(`declares ${r.fields.length}`);
        expect(() => emitter(pushed).routeWhole(r, text)).toThrow('got a string');
        expect(() => emitter(pushed).routeWhole(r, null as unknown as unknown[])).toThrow('got null');
      }
    }
    expect(pushed).toEqual([]);
  });
});

describe('onlyTask (the at-most-once fast path)', () => {
  const plan = createPlan(
    topology({
      lone: { parallelism: 2, grouping: { type: 'local-or-shuffle' } },
      pair: { parallelism: 4, grouping: { type: 'local-or-shuffle' } },
      one: { parallelism: 1, grouping: { type: 'fields', fields: ['a'] } },
      two: { parallelism: 2, grouping: { type: 'fields', fields: ['a'] } },
      solo: { parallelism: 1, grouping: { type: 'shuffle' } },
      glob: { parallelism: 3, grouping: { type: 'global' } },
      every: { parallelism: 1, grouping: { type: 'all' } },
    }),
    2,
  );
  const routes = routesOf(plan, 1);

  test('names the one task a stream can reach', () => {
    const local = plan.componentTasks.lone!.filter((t) => plan.tasks[t]!.worker === 1);
    expect(local).toHaveLength(1);
    expect(routes.get('lone')!.onlyTask).toBe(local[0]);
    expect(routes.get('one')!.onlyTask).toBe(plan.componentTasks.one![0]);
    expect(routes.get('solo')!.onlyTask).toBe(plan.componentTasks.solo![0]);
    expect(routes.get('glob')!.onlyTask).toBe(plan.componentTasks.glob![0]);
  });

  test('is -1 where a tuple could go to more than one task, or to none chosen by a grouping', () => {
    expect(routes.get('pair')!.onlyTask).toBe(-1);
    expect(routes.get('two')!.onlyTask).toBe(-1);
    expect(routes.get('every')!.onlyTask).toBe(-1);
  });

  test('is -1 when the consumer selects fields, since it must get a projection', () => {
    const spec = topology({ sel: { parallelism: 1, grouping: { type: 'shuffle' } } });
    spec.streams[0] = { ...spec.streams[0]!, select: ['b'] };
    const r = routesOf(createPlan(spec, 1), 0).get('sel')!;
    expect(r.single).not.toBeNull();
    expect(r.onlyTask).toBe(-1);
  });
});

describe('load-aware shuffle', () => {
  const groupings = {
    sh: { parallelism: 4, grouping: { type: 'shuffle' as const } },
    los: { parallelism: 4, grouping: { type: 'local-or-shuffle' as const } },
  };

  test('a shuffle with consumer tasks both here and in other threads is balanced by load', () => {
    const plan = createPlan(topology(groupings), 2);
    const e = edge(routesOf(plan, 0), 'sh');
    expect(e.balance).not.toBeNull();
    expect(e.balance!.local).toEqual(plan.componentTasks.sh!.filter((t) => plan.tasks[t]!.worker === 0));
    expect(e.balance!.remoteWorkers).toEqual([1]);
    // It starts even, as round-robin.
    const picks = Array.from({ length: 400 }, () => chooseTask(e, []));
    for (const c of tally(picks).values()) expect(c).toBe(100);
  });

  test('not local-or-shuffle, not with one thread, and not with loadAware off', () => {
    expect(edge(routesOf(createPlan(topology(groupings), 2), 0), 'los').balance).toBeNull();
    expect(edge(routesOf(createPlan(topology(groupings), 1), 0), 'sh').balance).toBeNull();
    const off = topology(groupings);
    const plan = createPlan({ ...off, config: { ...off.config, loadAware: false } }, 2);
    expect(edge(routesOf(plan, 0), 'sh').balance).toBeNull();
  });
});
