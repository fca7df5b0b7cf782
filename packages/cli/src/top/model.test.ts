import { type ExecutorStats, type Histogram, LATENCY_BUCKETS, newStats, quantile } from '@qitian/runtime';
import { describe, expect, test } from 'vitest';
import {
  type ComponentRow,
  componentRows,
  computeView,
  findBottleneck,
  type StatsSnapshot,
  sortRows,
  suggestParallelism,
  type TopologyInfo,
  viewJson,
} from './model.js';

/** A histogram holding `n` observations of `seconds` for each [seconds, n]. */
function hist(...obs: [number, number][]): Histogram {
  const counts = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  let sum = 0;
  let count = 0;
  for (const [s, n] of obs) {
    const i = LATENCY_BUCKETS.findIndex((b) => s <= b);
    counts[i < 0 ? LATENCY_BUCKETS.length : i]! += n;
    sum += s * n;
    count += n;
  }
  return { counts, sum, count };
}

function task(taskId: number, componentId: string, kind: ExecutorStats['kind'], figures: Partial<ExecutorStats> = {}): ExecutorStats {
  return { ...newStats(taskId, componentId, kind), ...figures };
}

function snap(time: number, tasks: ExecutorStats[]): StatsSnapshot {
  return { time, name: 't', workers: 2, restarts: 0, uptimeSeconds: time / 1000, startedAt: 0, phase: 'running', tasks };
}

const TOPOLOGY: TopologyInfo = {
  name: 't',
  components: [
    { id: 'gen', kind: 'spout', parallelism: 1 },
    { id: 'parse', kind: 'bolt', parallelism: 2 },
    { id: 'out', kind: 'sink', parallelism: 1 },
  ],
};

/** A row with every figure zero, changed by `over`. */
function row(component: string, over: Partial<ComponentRow> = {}): ComponentRow {
  return {
    component,
    kind: 'bolt',
    tasks: 1,
    parallelism: 1,
    inPerSecond: 0,
    outPerSecond: 0,
    capacity: 0,
    capacityMean: 0,
    p99Seconds: null,
    errors: 0,
    errorsPerSecond: 0,
    dropped: 0,
    droppedPerSecond: 0,
    backpressure: 0,
    backpressureOn: null,
    pending: null,
    queued: 0,
    ...over,
  };
}

describe('componentRows', () => {
  test("errors and drops add the component's own `errors` and `dropped` counters, all reasons, to the engine's", () => {
    const earlier = snap(10_000, [
      task(1, 'parse', 'bolt', { errors: 1, dropped: 2, custom: { 'errors{reason="bad_pri"}': 10, unparsed: 7 } }),
      task(2, 'parse', 'bolt', { custom: { errors: 5, 'dropped{reason="queue_full"}': 3, 'errors_seen{reason="x"}': 100 } }),
    ]);
    const later = snap(12_000, [
      task(1, 'parse', 'bolt', { errors: 2, dropped: 2, custom: { 'errors{reason="bad_pri"}': 20, 'errors{reason="no_message"}': 4, unparsed: 70 } }),
      task(2, 'parse', 'bolt', { custom: { errors: 5, 'dropped{reason="queue_full"}': 9, 'errors_seen{reason="x"}': 500 } }),
    ]);
    const parse = componentRows(earlier, later, TOPOLOGY).find((r) => r.component === 'parse');
    // Engine 2 + own 20 + 4 + 5; `unparsed` and a counter merely starting with "errors" are not errors.
    expect(parse!.errors).toBe(31);
    expect(parse!.errorsPerSecond).toBe((1 + 14 + 0) / 2);
    expect(parse!.dropped).toBe(2 + 9);
    expect(parse!.droppedPerSecond).toBe(6 / 2);
  });

  test('rates are counter deltas over the interval, summed over tasks; in for bolts and sinks, out for spouts and bolts', () => {
    const earlier = snap(10_000, [
      task(0, 'gen', 'spout', { emitted: 1000 }),
      task(1, 'parse', 'bolt', { executed: 100, emitted: 100 }),
      task(2, 'parse', 'bolt', { executed: 50, emitted: 40 }),
      task(3, 'out', 'sink', { executed: 20 }),
    ]);
    const later = snap(12_000, [
      task(0, 'gen', 'spout', { emitted: 3000, pending: 17 }),
      task(1, 'parse', 'bolt', { executed: 300, emitted: 300, queued: 2 }),
      task(2, 'parse', 'bolt', { executed: 250, emitted: 240, queued: 3 }),
      task(3, 'out', 'sink', { executed: 420 }),
    ]);
    const rows = componentRows(earlier, later, TOPOLOGY);
    expect(rows.map((r) => [r.component, r.kind, r.tasks, r.parallelism])).toEqual([
      ['gen', 'spout', 1, 1],
      ['parse', 'bolt', 2, 2],
      ['out', 'sink', 1, 1],
    ]);
    const [gen, parse, out] = rows as [ComponentRow, ComponentRow, ComponentRow];
    expect(gen.inPerSecond).toBeNull();
    expect(gen.outPerSecond).toBe(1000);
    expect(gen.pending).toBe(17);
    expect(parse.inPerSecond).toBe(200);
    expect(parse.outPerSecond).toBe(200);
    expect(parse.pending).toBeNull();
    expect(parse.queued).toBe(5);
    expect(out.inPerSecond).toBe(200);
    expect(out.outPerSecond).toBeNull();
  });

  test('errors and drops: totals since the start and per second over the interval', () => {
    const rows = componentRows(
      snap(0, [task(1, 'parse', 'bolt', { errors: 10, dropped: 4 }), task(2, 'parse', 'bolt', { errors: 0, dropped: 0 })]),
      snap(4000, [task(1, 'parse', 'bolt', { errors: 30, dropped: 4 }), task(2, 'parse', 'bolt', { errors: 4, dropped: 8 })]),
    );
    expect(rows[0]).toMatchObject({ errors: 34, errorsPerSecond: 6, dropped: 12, droppedPerSecond: 2 });
  });

  test('capacity is the busiest task and the mean of the engine gauge', () => {
    const later = snap(1000, [task(1, 'parse', 'bolt', { capacity: 0.9 }), task(2, 'parse', 'bolt', { capacity: 0.5 })]);
    const [parse] = componentRows(snap(0, []), later);
    expect(parse!.capacity).toBeCloseTo(0.9);
    expect(parse!.capacityMean).toBeCloseTo(0.7);
  });

  test('p99 comes from the histogram deltas of the interval, not from everything since the start', () => {
    // Before the interval: a thousand slow executes. During it: a hundred fast ones.
    const before = hist([0.8, 1000]);
    const during = hist([0.004, 100]);
    const after = hist([0.8, 1000], [0.004, 100]);
    const [parse] = componentRows(
      snap(0, [task(1, 'parse', 'bolt', { executeLatency: before })]),
      snap(1000, [task(1, 'parse', 'bolt', { executeLatency: after })]),
    );
    expect(parse!.p99Seconds).toBeCloseTo(quantile(during, 0.99), 9);
    expect(parse!.p99Seconds).toBeGreaterThan(0.0025);
    expect(parse!.p99Seconds).toBeLessThanOrEqual(0.005);
  });

  test('a p99 beyond the last bucket (10 s) is flagged: the figure says 10, the latency is more', () => {
    // A spout held at maxSpoutPending behind a slow sink: its trees took 12.5 s.
    const [gen] = componentRows(snap(0, [task(0, 'gen', 'spout')]), snap(1000, [task(0, 'gen', 'spout', { completeLatency: hist([12.5, 100]) })]));
    expect(gen!.p99Seconds).toBe(10);
    expect(gen!.p99OverMax).toBe(true);
    const [fast] = componentRows(snap(0, [task(0, 'gen', 'spout')]), snap(1000, [task(0, 'gen', 'spout', { completeLatency: hist([8, 100], [12.5, 1]) })]));
    expect(fast!.p99OverMax).toBe(false);
  });

  test('p99 merges the tasks of a component; spouts use complete latency; no observations is null', () => {
    const earlier = snap(0, [task(0, 'gen', 'spout'), task(1, 'parse', 'bolt'), task(2, 'parse', 'bolt')]);
    const later = snap(1000, [
      task(0, 'gen', 'spout', { completeLatency: hist([0.2, 50]), executeLatency: hist([5, 50]) }),
      task(1, 'parse', 'bolt', { executeLatency: hist([0.00002, 98]) }),
      task(2, 'parse', 'bolt', { executeLatency: hist([0.3, 2]) }),
    ]);
    const [gen, parse] = componentRows(earlier, later);
    expect(gen!.p99Seconds).toBeGreaterThan(0.1);
    expect(gen!.p99Seconds).toBeLessThanOrEqual(0.25);
    // The slow task's two in a hundred are the top percent.
    expect(parse!.p99Seconds).toBeGreaterThan(0.25);
    const [idle] = componentRows(snap(0, [task(1, 'parse', 'bolt')]), snap(1000, [task(1, 'parse', 'bolt')]));
    expect(idle!.p99Seconds).toBeNull();
  });

  test('backpressure is the blocked fraction of the interval per task, with the consumer that blocked it most', () => {
    const earlier = snap(0, [
      task(0, 'gen', 'spout', { backpressureMs: 500, backpressureMsByTarget: { parse: 500 } }),
      task(1, 'gen', 'spout', { backpressureMs: 0 }),
    ]);
    const later = snap(2000, [
      task(0, 'gen', 'spout', { backpressureMs: 1500, backpressureMsByTarget: { parse: 1300, out: 200 } }),
      task(1, 'gen', 'spout', { backpressureMs: 600, backpressureMsByTarget: { out: 600 } }),
    ]);
    const [gen] = componentRows(earlier, later);
    // (1000 + 600) ms blocked out of 2 tasks x 2000 ms
    expect(gen!.backpressure).toBeCloseTo(0.4);
    expect(gen!.backpressureOn).toBe('parse');
    const [free] = componentRows(snap(0, [task(1, 'parse', 'bolt')]), snap(1000, [task(1, 'parse', 'bolt')]));
    expect(free!.backpressure).toBe(0);
    expect(free!.backpressureOn).toBeNull();
  });

  test('a task whose counters went down (its thread was replaced) counts from zero', () => {
    const [parse] = componentRows(
      snap(0, [task(1, 'parse', 'bolt', { executed: 5000, executeLatency: hist([1, 500]) })]),
      snap(1000, [task(1, 'parse', 'bolt', { executed: 300, executeLatency: hist([0.001, 30]) })]),
    );
    expect(parse!.inPerSecond).toBe(300);
    expect(parse!.p99Seconds).toBeLessThanOrEqual(0.001);
  });

  test('a component of the topology with no task reporting still has a row', () => {
    const rows = componentRows(snap(0, []), snap(1000, [task(0, 'gen', 'spout')]), TOPOLOGY);
    expect(rows.map((r) => [r.component, r.tasks, r.parallelism])).toEqual([
      ['gen', 1, 1],
      ['parse', 0, 2],
      ['out', 0, 1],
    ]);
  });
});

describe('findBottleneck', () => {
  test('the busiest component that is not backpressured, not a busier one that is', () => {
    const rows = [
      row('gen', { kind: 'spout', capacity: 0.97, backpressure: 0.6, backpressureOn: 'parse' }),
      row('parse', { capacity: 0.93, parallelism: 2, tasks: 2 }),
      row('out', { kind: 'sink', capacity: 0.4 }),
    ];
    expect(findBottleneck(rows)).toEqual({ component: 'parse', capacity: 0.93, parallelism: 2, suggestedParallelism: 3 });
  });

  test('none when every component is under half busy, or every busy one is backpressured', () => {
    expect(findBottleneck([row('a', { capacity: 0.45 }), row('b', { capacity: 0.1 })])).toBeNull();
    expect(findBottleneck([row('a', { capacity: 0.9, backpressure: 0.5 }), row('b', { capacity: 0.2 })])).toBeNull();
    expect(findBottleneck([])).toBeNull();
  });

  test('none busy, but one holds another back (async executes): named, with who waits on it, as in --json', () => {
    const rows = [row('gen', { kind: 'spout', capacity: 0, backpressure: 1, backpressureOn: 'db' }), row('db', { capacity: 0.01, parallelism: 2, tasks: 2 })];
    expect(findBottleneck(rows)).toEqual({
      component: 'db',
      capacity: 0.01,
      parallelism: 2,
      suggestedParallelism: 4,
      waitedOnBy: { component: 'gen', backpressure: 1 },
    });
  });

  test('a thread stuck in a component: that component, not what waits on the stale tasks of its thread', () => {
    // gen waits on the parse task that shares the thread stuck in the sink; parse's figures are stale.
    const rows = [
      row('gen', { kind: 'spout', capacity: 0, backpressure: 0.66, backpressureOn: 'parse' }),
      row('parse', { capacity: 0.04, parallelism: 2, tasks: 2 }),
      row('slow', { kind: 'sink', capacity: 0.01 }),
    ];
    const silent = [{ worker: 1, silentSeconds: 17, components: ['parse', 'slow'], stuckIn: { component: 'slow', task: 0 } }];
    expect(findBottleneck(rows, silent)).toEqual({
      component: 'slow',
      capacity: 0.01,
      parallelism: 1,
      suggestedParallelism: null,
      stuck: { worker: 1, task: 0, silentSeconds: 17 },
    });
    // Silent in no component's code: nothing on it is named from its stale figures.
    expect(findBottleneck(rows, [{ worker: 1, silentSeconds: 17, components: ['parse', 'slow'], stuckIn: null }])).toBeNull();
    expect(findBottleneck(rows)).toMatchObject({ component: 'parse', waitedOnBy: { component: 'gen' } });
  });

  test('none busy: the end of a chain of waits, not a component that itself waits on its consumer', () => {
    // Seen live: gen -> parse -> a file sink; parse was named, "its executes wait on something".
    const rows = [
      row('gen', { kind: 'spout', capacity: 0.03, backpressure: 0.72, backpressureOn: 'parse' }),
      row('parse', { capacity: 0.12, backpressure: 0.9, backpressureOn: 'out' }),
      row('out', { kind: 'sink', capacity: 0.36 }),
    ];
    expect(findBottleneck(rows)).toEqual({
      component: 'out',
      capacity: 0.36,
      parallelism: 1,
      suggestedParallelism: 2,
      waitedOnBy: { component: 'parse', backpressure: 0.9 },
    });
    // A cycle of waits (two streams between a pair) ends the walk.
    const cycle = [
      row('gen', { kind: 'spout', capacity: 0, backpressure: 1, backpressureOn: 'a' }),
      row('a', { capacity: 0.1, backpressure: 0.5, backpressureOn: 'b' }),
      row('b', { capacity: 0.1, backpressure: 0.5, backpressureOn: 'a' }),
    ];
    expect(findBottleneck(cycle)).toMatchObject({ component: 'a', waitedOnBy: { component: 'b' } });
  });

  test('busy but under the 70% target: named, with no parallelism to add', () => {
    expect(findBottleneck([row('a', { capacity: 0.6, parallelism: 2, tasks: 2 })])).toEqual({
      component: 'a',
      capacity: 0.6,
      parallelism: 2,
      suggestedParallelism: null,
    });
  });

  test('the suggestion is ceil(parallelism * capacity / 0.7), only when more than the parallelism', () => {
    expect(suggestParallelism(2, 0.93)).toBe(3);
    expect(suggestParallelism(1, 1)).toBe(2);
    expect(suggestParallelism(4, 1)).toBe(6);
    expect(suggestParallelism(2, 0.7)).toBeNull();
    expect(suggestParallelism(1, 0.7)).toBeNull();
    expect(suggestParallelism(3, 0.71)).toBe(4);
  });
});

describe('sortRows', () => {
  const rows = [
    row('gen', { kind: 'spout', inPerSecond: null, outPerSecond: 900, capacity: 0.1, errors: 5, errorsPerSecond: 0 }),
    row('parse', { inPerSecond: 900, outPerSecond: 800, capacity: 0.9, errors: 1, errorsPerSecond: 1, p99Seconds: 0.002 }),
    row('count', { inPerSecond: 800, outPerSecond: 0, capacity: 0.9, capacityMean: 0.5, p99Seconds: 0.0001 }),
    row('out', { kind: 'sink', inPerSecond: 10, outPerSecond: null, capacity: 0.3, backpressure: 0.5 }),
  ];
  const names = (rs: ComponentRow[]) => rs.map((r) => r.component);

  test('topology order, names A to Z, figures largest first with ties in topology order', () => {
    expect(names(sortRows(rows, 'topology'))).toEqual(['gen', 'parse', 'count', 'out']);
    expect(names(sortRows(rows, 'name'))).toEqual(['count', 'gen', 'out', 'parse']);
    expect(names(sortRows(rows, 'capacity'))).toEqual(['count', 'parse', 'out', 'gen']);
    expect(names(sortRows(rows, 'backpressure'))).toEqual(['out', 'gen', 'parse', 'count']);
    expect(names(sortRows(rows, 'errors'))).toEqual(['parse', 'gen', 'count', 'out']);
  });

  test('rows without the figure (null) come last, also reversed', () => {
    expect(names(sortRows(rows, 'in'))).toEqual(['parse', 'count', 'out', 'gen']);
    expect(names(sortRows(rows, 'in', true))).toEqual(['out', 'count', 'parse', 'gen']);
    expect(names(sortRows(rows, 'p99'))).toEqual(['parse', 'count', 'gen', 'out']);
    expect(names(sortRows(rows, 'topology', true))).toEqual(['out', 'count', 'parse', 'gen']);
    expect(names(sortRows(rows, 'name', true))).toEqual(['parse', 'out', 'gen', 'count']);
  });
});

describe('heldSpouts', () => {
  const topology = (acking: boolean): TopologyInfo => ({
    name: 't',
    components: [{ id: 'gen', kind: 'spout', parallelism: 2 }],
    config: { acking, maxSpoutPending: 1000 },
  });
  const at = (pending: [number, number]) =>
    [
      snap(1000, [task(1, 'gen', 'spout', { pending: pending[0] }), task(2, 'gen', 'spout', { pending: pending[1] })]),
      snap(2000, [task(1, 'gen', 'spout', { pending: pending[0] }), task(2, 'gen', 'spout', { pending: pending[1] })]),
    ] as const;

  test('a spout whose tasks hold about maxSpoutPending each is held; below 90% of it, or with acking off, it is not', () => {
    const [e1, l1] = at([1000, 950]);
    expect(computeView(e1, l1, topology(true)).heldSpouts).toEqual([{ component: 'gen', maxSpoutPending: 1000, p99Seconds: null, p99OverMax: false }]);
    const [e2, l2] = at([1000, 700]);
    expect(computeView(e2, l2, topology(true)).heldSpouts).toEqual([]);
    expect(computeView(e1, l1, topology(false)).heldSpouts).toEqual([]);
    // An endpoint that does not say its config: nothing is claimed.
    expect(computeView(e1, l1, { name: 't', components: topology(true).components }).heldSpouts).toEqual([]);
  });
});

describe('computeView and viewJson', () => {
  test('header figures from the later snapshot, the interval, rounded JSON', () => {
    const earlier = snap(1000, [task(1, 'parse', 'bolt', { executed: 0 })]);
    const later = { ...snap(2500, [task(1, 'parse', 'bolt', { executed: 1000, capacity: 0.99 })]), restarts: 1, phase: 'ending' };
    const view = computeView(earlier, later, { name: 't', components: [{ id: 'parse', kind: 'bolt', parallelism: 1 }] });
    expect(view.intervalSeconds).toBe(1.5);
    expect(view.topology).toEqual({ name: 't', phase: 'ending', uptimeSeconds: 2.5, workers: 2, restarts: 1 });
    // Each thread's busy fraction passes through when the engine reports it.
    expect(computeView(earlier, { ...later, threadBusy: [0.9, null] }).topology.threadBusy).toEqual([0.9, null]);
    expect(view.bottleneck).toEqual({ component: 'parse', capacity: 0.99, parallelism: 1, suggestedParallelism: 2 });
    const json = viewJson(view, 'http://127.0.0.1:9464') as { url: string; components: Record<string, unknown>[] };
    expect(json.url).toBe('http://127.0.0.1:9464');
    expect(json.components[0]).toMatchObject({ component: 'parse', inPerSecond: 666.67, p99Seconds: null, pending: null });
    expect(Object.keys(json.components[0]!)).toEqual([
      'component',
      'kind',
      'tasks',
      'parallelism',
      'inPerSecond',
      'outPerSecond',
      'capacity',
      'capacityMean',
      'p99Seconds',
      'p99OverMax',
      'errors',
      'errorsPerSecond',
      'dropped',
      'droppedPerSecond',
      'backpressure',
      'backpressureOn',
      'pending',
      'queued',
    ]);
  });
});
