import { describe, expect, test } from 'vitest';
import { type ComponentRow, findBottleneck, type TopView } from './model.js';
import { bottleneckLine, formatRate, formatSeconds, formatUptime, renderNotice, renderView, silentLines } from './render.js';

function row(component: string, over: Partial<ComponentRow> = {}): ComponentRow {
  return {
    component,
    kind: 'bolt',
    tasks: 1,
    parallelism: 1,
    inPerSecond: 1000,
    outPerSecond: 1000,
    capacity: 0.1,
    capacityMean: 0.1,
    p99Seconds: 0.0004,
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

function view(components: ComponentRow[]): TopView {
  return {
    time: Date.UTC(2026, 0, 1, 12, 0, 0),
    topology: { name: 'syslog', phase: 'running', uptimeSeconds: 3725, workers: 2, restarts: 1 },
    intervalSeconds: 1,
    components,
    bottleneck: findBottleneck(components),
    heldSpouts: [],
    silentThreads: [],
  };
}

const ROWS = [
  row('gen', { kind: 'spout', inPerSecond: null, outPerSecond: 52_340, pending: 1200, p99Seconds: 0.35, backpressure: 0.6, backpressureOn: 'parse' }),
  row('parse', { tasks: 2, parallelism: 2, capacity: 0.93, capacityMean: 0.9, errors: 12, errorsPerSecond: 3, queued: 40 }),
  row('out', { kind: 'sink', outPerSecond: null, p99Seconds: null }),
];

const OPTS = { url: 'http://127.0.0.1:9464', sort: 'topology' } as const;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI = /\x1b\[/;

describe('formatting', () => {
  test('rates, latencies and uptimes', () => {
    expect([0, 0.25, 7, 42, 999, 1000, 52_340, 999_700, 1_234_567, 3e9].map(formatRate)).toEqual([
      '0',
      '0.3',
      '7.0',
      '42',
      '999',
      '1.00k',
      '52.3k',
      '1.00M',
      '1.23M',
      '3.00G',
    ]);
    expect(formatRate(null)).toBe('-');
    expect([0.000_012, 0.000_85, 0.004_56, 0.0123, 0.35, 2.5].map(formatSeconds)).toEqual(['12us', '850us', '4.56ms', '12.3ms', '350ms', '2.50s']);
    expect(formatSeconds(null)).toBe('-');
    expect([5, 65, 3725, 90_000].map(formatUptime)).toEqual(['5s', '1m05s', '1h02m', '1d01h']);
  });
});

describe('renderView', () => {
  test('a plain snapshot: header, one row per component, the bottleneck with its suggestion', () => {
    const text = renderView(view(ROWS), OPTS);
    expect(text).not.toMatch(ANSI);
    const lines = text.split('\n');
    expect(lines[0]).toBe('syslog  running  up 1h02m  2 workers  1 restart  http://127.0.0.1:9464');
    expect(lines[1]).toContain('sorted by topology');
    const header = lines.find((l) => l.startsWith('COMPONENT'))!;
    for (const h of ['KIND', 'TASKS', 'IN/S', 'OUT/S', 'CAP', 'AVG', 'P99', 'BP', 'ERRORS', 'DROPS', 'PENDING', 'QUEUE']) expect(header).toContain(h);
    const parse = lines.find((l) => l.startsWith('parse'))!;
    expect(parse).toMatch(/^parse \*\s+bolt\s+2\s+1\.00k\s+1\.00k\s+0\.93\s+0\.90\s+400us/);
    expect(lines.find((l) => l.startsWith('gen'))).toMatch(/spout\s+1\s+-\s+52\.3k.*60%\s+parse/);
    expect(lines.at(-1)).toBe('bottleneck: parse (capacity 0.93, parallelism 2) -> try parallelism 3');
  });

  test("the second header line ends with each worker thread's busy fraction, when the engine reports it", () => {
    const v = view(ROWS);
    const busy = { ...v, topology: { ...v.topology, threadBusy: [0.994, 0.72, null] } };
    expect(renderView(busy, OPTS).split('\n')[1]).toMatch(/sorted by topology {2}threads busy 99% 72% -$/);
    expect(renderView(v, OPTS).split('\n')[1]).not.toContain('threads busy');
    // A thread that stopped reporting: its last figure is stale, so it is not shown as one.
    const stuck = { ...busy, silentThreads: [{ worker: 1, silentSeconds: 9, components: ['parse'], stuckIn: { component: 'parse', task: 0 } }] };
    expect(renderView(stuck, OPTS).split('\n')[1]).toMatch(/threads busy 99% stuck -$/);
  });

  test('fits the width by leaving out the least useful columns, and the height by summing up rows', () => {
    const many = [...ROWS, ...Array.from({ length: 30 }, (_, i) => row(`bolt-${i}`))];
    const text = renderView(view(many), { ...OPTS, width: 60, height: 20, keys: true, color: true });
    const lines = text.split('\n');
    expect(lines.length).toBeLessThanOrEqual(20);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes
    for (const l of lines) expect(l.replace(/\x1b\[[0-9;]*m/g, '').length).toBeLessThanOrEqual(60);
    const header = lines.find((l) => l.includes('COMPONENT'))!;
    expect(header).toContain('CAP');
    expect(header).toContain('IN/S');
    expect(header).not.toContain('AVG');
    expect(text).toMatch(/\.\.\. \d+ more components/);
    expect(text).toContain('q quit');
  });

  test('colour only when asked; the sorted column is marked', () => {
    expect(renderView(view(ROWS), { ...OPTS, color: true })).toMatch(ANSI);
    const sorted = renderView(view(ROWS), { ...OPTS, sort: 'capacity' }).split('\n');
    expect(sorted.find((l) => l.startsWith('COMPONENT'))).toContain('CAP↓');
    expect(sorted.findIndex((l) => l.startsWith('parse'))).toBeLessThan(sorted.findIndex((l) => l.startsWith('gen')));
    expect(renderView(view(ROWS), { ...OPTS, sort: 'capacity', reverse: true })).toContain('CAP↑');
  });

  test('a status line under the header; a notice screen before any figures', () => {
    expect(renderView(view(ROWS), { ...OPTS, status: 'the topology went away' }).split('\n')[2]).toBe('the topology went away');
    expect(renderNotice('cannot connect', OPTS)).toBe('qitian top  http://127.0.0.1:9464\n\ncannot connect');
  });
});

describe('silent threads', () => {
  test('a thread that stopped reporting is named under the bottleneck line, with its components', () => {
    const v = { ...view(ROWS), silentThreads: [{ worker: 1, silentSeconds: 12, components: ['parse', 'count'] }] };
    expect(silentLines(v)).toEqual([
      'worker 1 has not answered for 12s: one of its components (parse, count) is stuck, e.g. in a loop in execute or next; its figures are stale',
    ]);
    const lines = renderView(v, { url: 'http://127.0.0.1:9464', sort: 'topology' }).split('\n');
    expect(lines.at(-1)).toBe(silentLines(v)[0]);
    expect(lines.at(-2)).toMatch(/^bottleneck: /);
    expect(silentLines(view(ROWS))).toEqual([]);
  });

  test('the bottleneck line names the stuck component, not what waits on its thread', () => {
    const rows = [
      row('gen', { kind: 'spout', capacity: 0, backpressure: 0.66, backpressureOn: 'parse' }),
      row('parse', { capacity: 0.04, parallelism: 2, tasks: 2 }),
      row('slow', { kind: 'sink', capacity: 0.01 }),
    ];
    const silentThreads = [{ worker: 1, silentSeconds: 17, components: ['parse', 'slow'], stuckIn: { component: 'slow', task: 0 } }];
    const v = { ...view(rows), silentThreads, bottleneck: findBottleneck(rows, silentThreads) };
    expect(bottleneckLine(v)).toBe(
      'bottleneck: slow (worker 1 has been stuck in its task 0 for 17s: every task on that thread waits, and so does what feeds them) -> look at its code or what it waits on; more parallelism will not help',
    );
    const unknown = [{ worker: 1, silentSeconds: 17, components: ['parse', 'slow'], stuckIn: null }];
    expect(bottleneckLine({ ...view(rows), silentThreads: unknown, bottleneck: findBottleneck(rows, unknown) })).toBe(
      'bottleneck: none named while a thread does not answer (below): its figures are stale',
    );
  });

  test('names the task whose code holds the thread when the engine knows it', () => {
    const v = { ...view(ROWS), silentThreads: [{ worker: 0, silentSeconds: 7, components: ['parse', 'count'], stuckIn: { component: 'count', task: 1 } }] };
    expect(silentLines(v)).toEqual([
      'worker 0 has not answered for 7s: it is stuck in "count" task 1, e.g. in a loop in execute or next; its figures are stale',
    ]);
  });
});

describe('p99 beyond the last bucket', () => {
  test('shown as more than 10 s, in the table and in the held-spout line, not as 10.00s', () => {
    const gen = row('gen', { kind: 'spout', inPerSecond: null, pending: 5000, p99Seconds: 10, p99OverMax: true });
    const v = { ...view([gen, row('b', { capacity: 0.3 })]), heldSpouts: [{ component: 'gen', maxSpoutPending: 5000, p99Seconds: 10, p99OverMax: true }] };
    const text = renderView(v, OPTS);
    expect(text).toMatch(/^gen .* >10\.00s /m);
    expect(bottleneckLine(v)).toContain('trees complete in p99 >10.00s)');
  });
});

describe('bottleneckLine', () => {
  test('no clear bottleneck, and why', () => {
    expect(bottleneckLine(view([row('a'), row('b', { capacity: 0.3 })]))).toBe('bottleneck: none (every component is below 50% capacity)');
    // Nothing busy, but a spout waits for acks at maxSpoutPending: that is what slows it.
    const held = {
      ...view([row('gen', { kind: 'spout', pending: 5000 }), row('b', { capacity: 0.3 })]),
      heldSpouts: [{ component: 'gen', maxSpoutPending: 5000, p99Seconds: 2.5 }],
    };
    expect(bottleneckLine(held)).toBe(
      'bottleneck: none busy, but gen waits at maxSpoutPending (5000 a task, trees complete in p99 2.50s): raise config.maxSpoutPending, or look for what holds tuples (async executes, a sink flushInterval)',
    );
    // (What it waits on is not in view: another topology's tap, a component that stopped reporting.)
    expect(bottleneckLine(view([row('a', { capacity: 0.9, backpressure: 0.7, backpressureOn: 'b' }), row('c', { capacity: 0.2 })]))).toBe(
      'bottleneck: none clear (a is at capacity 0.90 but blocked 70% of the time by b)',
    );
    // What a component waits on is not busy: its executes wait (async), which capacity does not count.
    expect(
      bottleneckLine(view([row('gen', { kind: 'spout', capacity: 0, backpressure: 1, backpressureOn: 'db' }), row('db', { capacity: 0, parallelism: 2 })])),
    ).toBe(
      'bottleneck: db (gen waits on it 100% of the time, yet its capacity is 0.00: its executes wait on something, e.g. async calls, which capacity does not count) -> try parallelism 4, or speed up what it waits on',
    );
    expect(bottleneckLine(view([]))).toBe('bottleneck: none (no tasks reported)');
  });

  test('within the target, and uneven tasks', () => {
    expect(bottleneckLine(view([row('a', { capacity: 0.6, tasks: 2, parallelism: 2, capacityMean: 0.55 })]))).toBe(
      'bottleneck: a (capacity 0.60, parallelism 2), within the 70% target: no more parallelism needed',
    );
    expect(bottleneckLine(view([row('a', { capacity: 0.95, tasks: 4, parallelism: 4, capacityMean: 0.3 })]))).toBe(
      "bottleneck: a (capacity 0.95, parallelism 4) -> try parallelism 6; its tasks are uneven (mean capacity 0.30): check the grouping's keys",
    );
  });
});
