import { type Bolt, type KeyGroupSnapshot, keyGroupRange, TICK_STREAM, type Tuple, validateConfig } from '@qitian/api';
import { describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { EVENT, EVENT_FIELDS } from '../../syslog/event.js';
import { configFor, FakeTopologyContext, RecordingOutputCollector, TestTuple } from '../../testkit.js';
import {
  DEFAULT_DIMENSIONS,
  END_OF_INPUT,
  type RankEntry,
  TOPN_FIELDS,
  TOPN_PARTIAL_FIELDS,
  TopNBolt,
  type TopNConfig,
  TopNMergeBolt,
  TOPN_STATE,
  type CountWindowData,
  type TopNStateEntry,
  topnBolt,
} from './index.js';
import { bruteForce, eventValues, randomEvents, rng, shuffle, type TruthEntry } from './test-support.js';

interface Out {
  dimension: string;
  windowStart: number;
  windowEnd: number;
  ranking: RankEntry[];
  total: number;
  distinct: number;
  late: number;
  exact: boolean;
  guaranteed: boolean;
  complete: boolean;
  until: number;
}

function asOut(values: readonly unknown[]): Out {
  return Object.fromEntries(TOPN_FIELDS.map((f, i) => [f, values[i]])) as unknown as Out;
}

class Ctx extends FakeTopologyContext<TopNConfig> {
  partialTasks: number[] = [];
  override componentTasks(): readonly number[] {
    return this.partialTasks;
  }
}

interface Harness {
  bolt: Bolt<TopNConfig>;
  context: Ctx;
  collector: RecordingOutputCollector;
  /** Outputs not yet taken. */
  take(): unknown[][];
}

interface HarnessOptions {
  now?: () => number;
  taskIndex?: number;
  parallelism?: number;
  /** Keyed state to start from, as snapshotStates() gave it (a restart). */
  restoredStates?: Record<string, KeyGroupSnapshot<unknown>>;
  /** Keyed state outlives the run (--state-dir); true unless said otherwise, as the restart tests need. */
  stateKept?: boolean;
}

function harness(raw: Record<string, unknown>, opts: HarnessOptions = {}): Harness {
  const config = configFor(topnBolt, raw);
  const options = opts.now ? { now: opts.now } : {};
  const bolt = config.stage === 'merge' ? new TopNMergeBolt(config, options) : new TopNBolt(config, options);
  const context = new Ctx({
    config,
    taskIndex: opts.taskIndex ?? 0,
    parallelism: opts.parallelism ?? 1,
    outputs: topnBolt.outputs!(config),
    stateKept: opts.stateKept ?? true,
    ...(opts.restoredStates ? { restoredStates: opts.restoredStates } : {}),
  });
  const collector = new RecordingOutputCollector();
  bolt.prepare?.(context, collector);
  let taken = 0;
  return {
    bolt,
    context,
    collector,
    take() {
      const out = collector.emits.slice(taken).map((e) => e.values);
      taken = collector.emits.length;
      return out;
    },
  };
}

const events = (...rows: unknown[][]): Tuple[] => rows.map((r) => new TestTuple(EVENT_FIELDS, r));
const tick = (): Tuple => new TestTuple([], [], TICK_STREAM, '__system', -1);

function runSingle(raw: Record<string, unknown>, rows: unknown[][], batch = 100): Out[] {
  const h = harness(raw);
  const tuples = events(...rows);
  for (let i = 0; i < tuples.length; i += batch) h.bolt.executeBatch!(tuples.slice(i, i + batch));
  h.bolt.finish!();
  return h.take().map(asOut);
}

const ranked = (o: Out | undefined): [string, number][] => (o?.ranking ?? []).map((e) => [e.key, e.count]);

describe('topn spec', () => {
  it('every example is a valid entry with a consistent config', () => {
    for (const ex of topnBolt.spec.examples ?? []) {
      const entry = parse(ex.yaml) as { type: string; config: unknown };
      expect(entry.type).toBe('topn');
      const { value, issues } = validateConfig(topnBolt.spec.fields, entry.config);
      expect(issues).toEqual([]);
      expect(() => topnBolt.outputs!(value)).not.toThrow();
    }
  });

  it('limits parallelism: a merge to 1, a single stage to 1 unless it has one dimension; partial is free', () => {
    const limit = (config: Record<string, unknown>) => topnBolt.parallelismLimit!(configFor(topnBolt, config));
    expect(limit({ stage: 'merge' })?.max).toBe(1);
    // The default dimensions are five: each task would rank only its share of four of them.
    expect(limit({})?.max).toBe(1);
    expect(limit({})?.why).toMatch(/stage: partial/);
    expect(
      limit({
        dimensions: [
          { name: 'src', fields: ['srcIp'] },
          { name: 'sev', fields: ['severity'] },
        ],
      })?.max,
    ).toBe(1);
    expect(limit({ dimensions: [{ name: 'src', fields: ['srcIp'] }] })).toBeUndefined();
    expect(limit({ stage: 'partial' })).toBeUndefined();
  });

  it('declares the final fields for single and merge, the partial fields for partial', () => {
    expect(topnBolt.outputs!(configFor(topnBolt, {}))).toEqual({ default: [...TOPN_FIELDS] });
    expect(topnBolt.outputs!(configFor(topnBolt, { stage: 'merge' }))).toEqual({ default: [...TOPN_FIELDS] });
    expect(topnBolt.outputs!(configFor(topnBolt, { stage: 'partial' }))).toEqual({ default: [...TOPN_PARTIAL_FIELDS] });
  });

  it('rejects malformed dimensions and a slide longer than the window, naming the place', () => {
    const bad = (raw: unknown) => () => topnBolt.outputs!(configFor(topnBolt, raw));
    expect(bad({ dimensions: [{ name: 'x' }] })).toThrow(/dimensions\[0\]\.fields: expected a non-empty list/);
    expect(bad({ dimensions: [{ name: 'x', fields: ['a'], top: 3 }] })).toThrow(/dimensions\[0\]\.top: unknown key/);
    expect(
      bad({
        dimensions: [
          { name: 'x', fields: ['a'] },
          { name: 'x', fields: ['b'] },
        ],
      }),
    ).toThrow(/named twice/);
    expect(bad({ dimensions: [{ name: 'x', fields: 'a', n: 0 }] })).toThrow(/dimensions\[0\]\.n: expected an integer >= 1/);
    expect(bad({ window: '1m', slide: '2m' })).toThrow(/slide: must not exceed window/);
  });

  it('asks for ticks in processing time, in event time while idleTimeout is on, and in both stages of a two-stage count', () => {
    expect(topnBolt.tickMs!(configFor(topnBolt, { timeMode: 'processing', window: '10s', slide: '500ms' }))).toBe(500);
    expect(topnBolt.tickMs!(configFor(topnBolt, { timeMode: 'processing', window: '1m' }))).toBe(1000);
    expect(topnBolt.tickMs!(configFor(topnBolt, { window: '1m' }))).toBe(1000);
    expect(topnBolt.tickMs!(configFor(topnBolt, { window: '1m', idleTimeout: 0 }))).toBeUndefined();
    expect(topnBolt.tickMs!(configFor(topnBolt, { stage: 'partial', window: '1m' }))).toBe(1000);
    expect(topnBolt.tickMs!(configFor(topnBolt, { stage: 'merge', timeMode: 'processing' }))).toBe(1000);
  });
});

describe('topn single stage', () => {
  it('the five default dimensions on hand-made events', () => {
    const rows = [
      eventValues({ time: 1000, host: 'r1', severity: 3, eventType: 'LINK-UPDOWN', srcIp: '10.0.0.1', dstIp: '10.0.0.9', dstPort: 22 }),
      eventValues({ time: 2000, host: 'r1', severity: 3, eventType: 'LINK-UPDOWN', srcIp: '10.0.0.1', dstIp: '10.0.0.9', dstPort: 22 }),
      eventValues({ time: 3000, host: 'r2', severity: 6, eventType: 'SEC-LOGIN', srcIp: '10.0.0.2', dstIp: '10.0.0.9', dstPort: 443 }),
      // no addresses: counted in severity, and in event with '-' for them (port is null: not counted)
      eventValues({ time: 4000, host: 'r2', severity: 6, eventType: 'SYS-RESTART' }),
      eventValues({ time: 5000, host: 'r3', severity: 0, eventType: null, srcIp: '10.0.0.2', dstIp: '10.0.0.8', dstPort: 22 }),
    ];
    const out = runSingle({ window: '1m' }, rows);
    expect(out.map((o) => o.dimension)).toEqual(DEFAULT_DIMENSIONS.map((d) => d.name));
    const by = Object.fromEntries(out.map((o) => [o.dimension, o]));
    for (const o of out) expect(o).toMatchObject({ windowStart: 0, windowEnd: 60_000, late: 0, exact: true, guaranteed: true });
    expect(ranked(by.severity)).toEqual([
      ['3', 2],
      ['6', 2],
      ['0', 1],
    ]);
    expect(by.severity).toMatchObject({ total: 5, distinct: 3 });
    expect(ranked(by.event)).toEqual([
      ['r1 | 10.0.0.1 | 10.0.0.9 | LINK-UPDOWN', 2],
      ['r2 | - | - | SYS-RESTART', 1],
      ['r2 | 10.0.0.2 | 10.0.0.9 | SEC-LOGIN', 1],
      ['r3 | 10.0.0.2 | 10.0.0.8 | -', 1],
    ]);
    expect(by.event).toMatchObject({ total: 5, distinct: 4 });
    expect(ranked(by.source)).toEqual([
      ['10.0.0.1', 2],
      ['10.0.0.2', 2],
    ]);
    expect(ranked(by.destination)).toEqual([
      ['10.0.0.9', 3],
      ['10.0.0.8', 1],
    ]);
    expect(ranked(by.port)).toEqual([
      ['22', 3],
      ['443', 1],
    ]);
    expect(by.port!.ranking.every((e) => e.error === 0)).toBe(true);
  });

  it('tumbling windows: [start, end), emitted once the watermark reaches the end, oldest first', () => {
    const h = harness({ window: '5m', dimensions: [{ name: 'sev', fields: ['severity'] }] });
    h.bolt.executeBatch!(events(eventValues({ time: 0 }), eventValues({ time: 299_999 })));
    expect(h.take()).toEqual([]);
    h.bolt.executeBatch!(events(eventValues({ time: 300_000 })));
    const first = h.take().map(asOut);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ windowStart: 0, windowEnd: 300_000, total: 2 });
    // a jump over empty windows: only windows with tuples are emitted
    h.bolt.executeBatch!(events(eventValues({ time: 1_500_000 })));
    expect(h.take().map(asOut)).toMatchObject([{ windowStart: 300_000, windowEnd: 600_000, total: 1 }]);
    h.bolt.finish!();
    expect(h.take().map(asOut)).toMatchObject([{ windowStart: 1_500_000, windowEnd: 1_800_000, total: 1 }]);
  });

  it('sliding windows: each tuple in window/slide windows, boundaries included at the start', () => {
    const dims = [{ name: 'src', fields: ['srcIp'] }];
    const rows = [0, 4999, 5000, 7000, 9999, 10_000, 14_999].map((time, i) => eventValues({ time, srcIp: `a${i % 2}` }));
    const out = runSingle({ window: '10s', slide: '5s', dimensions: dims }, rows);
    expect(out.map((o) => [o.windowStart, o.windowEnd, o.total])).toEqual([
      [-5000, 5000, 2],
      [0, 10_000, 5],
      [5000, 15_000, 5],
      [10_000, 20_000, 2],
    ]);
    const truth = bruteForce(rows, dims, 10_000, 5000);
    for (const o of out) expect(ranked(o)).toEqual(truth.get(`${o.windowStart}/src`)!.map((e) => [e.key, e.count]));
  });

  it('event time: the watermark trails by allowedLateness; late tuples are dropped and counted', () => {
    const h = harness({ window: '5s', allowedLateness: '1s', dimensions: [{ name: 'sev', fields: ['severity'] }] });
    h.bolt.executeBatch!(events(eventValues({ time: 1000 }), eventValues({ time: 5500 })));
    expect(h.take()).toEqual([]); // watermark 4500 < 5000
    h.bolt.executeBatch!(events(eventValues({ time: 4000 }))); // within the lateness: counted in [0, 5000)
    h.bolt.executeBatch!(events(eventValues({ time: 6000 }))); // watermark 5000: [0, 5000) closes
    expect(h.take().map(asOut)).toMatchObject([{ windowStart: 0, windowEnd: 5000, total: 2, late: 0 }]);
    h.bolt.executeBatch!(events(eventValues({ time: 4999 }), eventValues({ time: 5001 }), eventValues({ time: Number.NaN })));
    expect(h.context.counted('late')).toBe(1);
    expect(h.context.counted('dropped', 'bad_time')).toBe(1);
    h.bolt.finish!();
    expect(h.take().map(asOut)).toMatchObject([{ windowStart: 5000, windowEnd: 10_000, total: 3, late: 1 }]);
  });

  it('event time: an event far ahead of the clock (a device set to 2099) is dropped and counted, and closes nothing', () => {
    const h = harness({ window: '5s', allowedLateness: '1s', dimensions: [{ name: 'sev', fields: ['severity'] }] });
    h.bolt.executeBatch!(events(eventValues({ time: 1000 }), eventValues({ time: Date.UTC(2099, 0, 1) }), eventValues({ time: 2000 })));
    expect(h.take()).toEqual([]);
    expect(h.context.counted('dropped', 'future_time')).toBe(1);
    expect(h.context.logger.records.filter((r) => r.msg.includes('ahead of this machine'))).toHaveLength(1);
    h.bolt.executeBatch!(events(eventValues({ time: 3000 })));
    expect(h.context.counted('late')).toBe(0);
    h.bolt.finish!();
    expect(h.take().map(asOut)).toMatchObject([{ windowStart: 0, windowEnd: 5000, total: 3 }]);
  });

  it('event time over two upstream tasks: the one behind holds the watermark, so its events are not late', () => {
    const h = harness({ window: '5s', allowedLateness: '1s', dimensions: [{ name: 'sev', fields: ['severity'] }] }, { now: () => 0 });
    h.context.partialTasks = [1, 2];
    const from = (task: number, ...times: number[]) => times.map((time) => new TestTuple(EVENT_FIELDS, eventValues({ time }), 'default', 'parse', task));
    // Task 1 runs 20 s of event time ahead of task 2 (two parsers drifting apart under load).
    h.bolt.executeBatch!(from(1, 1000, 8000, 16_000, 21_000));
    expect(h.take()).toEqual([]); // task 2 has sent nothing: no window closes on task 1's word
    h.bolt.executeBatch!(from(2, 500, 2000, 4900));
    expect(h.take()).toEqual([]); // watermark 3900
    h.bolt.executeBatch!(from(2, 6100));
    expect(h.take().map(asOut)).toMatchObject([{ windowStart: 0, windowEnd: 5000, total: 4, late: 0 }]);
    h.bolt.executeBatch!(from(2, 9000, 17_000, 20_000));
    h.bolt.finish!();
    expect(h.context.counted('late')).toBe(0);
    expect(
      h
        .take()
        .map(asOut)
        .map((o) => [o.windowStart, o.total]),
    ).toEqual([
      [5000, 3],
      [15_000, 2],
      [20_000, 2],
    ]);
  });

  it('event time: an upstream task silent for idleTimeout stops holding the watermark back', () => {
    let now = 0;
    const h = harness({ window: '5s', idleTimeout: '10s', dimensions: [{ name: 'sev', fields: ['severity'] }] }, { now: () => now });
    h.context.partialTasks = [1, 2];
    const from = (task: number, ...times: number[]) => times.map((time) => new TestTuple(EVENT_FIELDS, eventValues({ time }), 'default', 'parse', task));
    h.bolt.executeBatch!(from(1, 1000, 6000));
    expect(h.take()).toEqual([]); // task 2 might still send window [0, 5000)
    now = 9_999;
    h.bolt.executeBatch!(from(1, 7000));
    expect(h.take()).toEqual([]);
    now = 10_000;
    h.bolt.executeBatch!(from(1, 8000)); // task 2 has been silent for 10 s: left out
    expect(h.take().map(asOut)).toMatchObject([{ windowStart: 0, windowEnd: 5000, total: 1 }]);
  });

  it('event time: when the whole input goes quiet, ticks emit its last window idleTimeout after the window end', () => {
    let now = 0;
    const h = harness({ window: '5s', idleTimeout: '10s', dimensions: [{ name: 'sev', fields: ['severity'] }] }, { now: () => now });
    h.bolt.executeBatch!(events(eventValues({ time: 1000 }), eventValues({ time: 3000 })));
    for (now = 1000; now < 12_000; now += 1000) h.bolt.executeBatch!([tick()]);
    expect(h.take()).toEqual([]); // 3 s of event time + 10 s quiet - 10 s: the watermark is at 4 s
    now = 12_000;
    h.bolt.executeBatch!([tick()]);
    expect(h.take().map(asOut)).toMatchObject([{ windowStart: 0, windowEnd: 5000, total: 2, complete: true }]);
    // The feed comes back, its clock where it was: its events are on time.
    now = 20_000;
    h.bolt.executeBatch!(events(eventValues({ time: 20_500 })));
    h.bolt.finish!();
    expect(h.take().map(asOut)).toMatchObject([{ windowStart: 20_000, total: 1 }]);
    expect(h.context.counted('late')).toBe(0);
  });

  it('a window the input ends inside is incomplete, until the highest event time; one the watermark passed is complete', () => {
    const dims = [{ name: 'sev', fields: ['severity'] }];
    const h = harness({ window: '5m', allowedLateness: '30s', dimensions: dims });
    h.bolt.executeBatch!(events(eventValues({ time: 0 }), eventValues({ time: 100_000 }), eventValues({ time: 335_000 }))); // watermark 305 s
    expect(h.take().map(asOut)).toMatchObject([{ windowStart: 0, windowEnd: 300_000, total: 2, complete: true, until: 300_000 }]);
    h.bolt.executeBatch!(events(eventValues({ time: 407_250 }), eventValues({ time: 401_000 })));
    h.bolt.finish!();
    expect(h.take().map(asOut)).toMatchObject([{ windowStart: 300_000, windowEnd: 600_000, total: 3, complete: false, until: 407_250 }]);

    // The input passed the end, the watermark (30 s behind) did not: every event has come, so complete.
    const out = runSingle(
      { window: '5m', allowedLateness: '30s', dimensions: dims },
      [0, 290_000, 310_000].map((time) => eventValues({ time })),
    );
    expect(out.map((o) => [o.windowStart, o.total, o.complete, o.until])).toEqual([
      [0, 2, true, 300_000],
      [300_000, 1, false, 310_000],
    ]);
  });

  it('processing time: a window open when the input ends is incomplete, until the clock', () => {
    let now = 1_000;
    const h = harness({ timeMode: 'processing', window: '10s', dimensions: [{ name: 'src', fields: ['srcIp'] }] }, { now: () => now });
    h.bolt.executeBatch!(events(eventValues({ time: 0, srcIp: 'a' })));
    now = 12_000;
    h.bolt.executeBatch!(events(eventValues({ time: 0, srcIp: 'b' })));
    now = 14_500;
    h.bolt.finish!();
    expect(h.take().map(asOut)).toMatchObject([
      { windowStart: 0, windowEnd: 10_000, total: 1, complete: true, until: 10_000 },
      { windowStart: 10_000, windowEnd: 20_000, total: 1, complete: false, until: 14_500 },
    ]);
  });

  it('processing time: windows follow the clock and close on ticks', () => {
    let now = 1_000;
    const h = harness({ timeMode: 'processing', window: '10s', dimensions: [{ name: 'src', fields: ['srcIp'] }] }, { now: () => now });
    // event times are ignored in processing time
    h.bolt.executeBatch!(events(eventValues({ time: 0, srcIp: 'a' }), eventValues({ time: 99_999_999, srcIp: 'b' })));
    now = 9_999;
    h.bolt.executeBatch!(events(eventValues({ time: 5, srcIp: 'a' })));
    h.bolt.executeBatch!([tick()]);
    expect(h.take()).toEqual([]);
    now = 10_000;
    h.bolt.executeBatch!([tick()]);
    const out = h.take().map(asOut);
    expect(out).toMatchObject([{ windowStart: 0, windowEnd: 10_000, total: 3 }]);
    expect(ranked(out[0])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    now = 12_000;
    h.bolt.executeBatch!(events(eventValues({ time: 0, srcIp: 'c' })));
    now = 31_000;
    h.bolt.execute(tick());
    expect(h.take().map(asOut)).toMatchObject([{ windowStart: 10_000, windowEnd: 20_000, total: 1 }]);
    expect(h.context.counted('late')).toBe(0);
  });

  it('space-saving: bounded summary per window, reported errors hold, guaranteed when the gap is clear', () => {
    const r = rng(3);
    const rows: unknown[][] = [];
    for (let i = 0; i < 20_000; i++) rows.push(eventValues({ time: 0, srcIp: `spoof-${i}` }));
    for (let h = 0; h < 5; h++) for (let j = 0; j < 400 + 100 * h; j++) rows.push(eventValues({ time: 0, srcIp: `heavy-${h}` }));
    shuffle(rows, r);
    const dims = [{ name: 'src', fields: ['srcIp'], n: 5 }];
    const out = runSingle({ window: '1m', mode: 'space-saving', capacity: 200, dimensions: dims }, rows, 1000);
    expect(out).toHaveLength(1);
    const o = out[0]!;
    expect(o.ranking.map((e) => e.key)).toEqual(['heavy-4', 'heavy-3', 'heavy-2', 'heavy-1', 'heavy-0']);
    const truth = new Map(
      bruteForce(rows, dims, 60_000)
        .get('0/src')!
        .map((e) => [e.key, e.count]),
    );
    for (const e of o.ranking) {
      expect(truth.get(e.key)!).toBeLessThanOrEqual(e.count);
      expect(truth.get(e.key)!).toBeGreaterThanOrEqual(e.count - e.error);
    }
    // exact when no heavy hitter was ever evicted (error 0 everywhere), as may happen
    expect(o).toMatchObject({ total: rows.length, distinct: -1, exact: o.ranking.every((e) => e.error === 0), guaranteed: true });
  });
});

/**
 * Runs `partials` partial tasks and a merge as the engine would: each partial's output goes to
 * the merge in order, the partials' outputs interleaved batch by batch.
 */
function runTwoStage(
  raw: Record<string, unknown>,
  rows: unknown[][],
  route: (row: unknown[], i: number) => number,
  partials = 3,
): { outputs: Out[]; beforeFinish: number } {
  const ps = Array.from({ length: partials }, (_, i) => harness({ ...raw, stage: 'partial' }, { taskIndex: i }));
  const m = harness({ stage: 'merge' });
  m.context.partialTasks = ps.map((p) => p.context.taskId);
  const inputs: Tuple[][] = ps.map(() => []);
  for (const [i, row] of rows.entries()) inputs[route(row, i)]!.push(new TestTuple(EVENT_FIELDS, row));
  const forward = (p: Harness) => {
    const out = p.take();
    if (out.length > 0) m.bolt.executeBatch!(out.map((v) => new TestTuple(TOPN_PARTIAL_FIELDS, v, 'default', 'partial', p.context.taskId)));
  };
  const batch = 200;
  for (let at = 0; at < Math.max(...inputs.map((x) => x.length)); at += batch) {
    ps.forEach((p, i) => {
      const part = inputs[i]!.slice(at, at + batch);
      if (part.length > 0) p.bolt.executeBatch!(part);
      forward(p);
    });
  }
  const beforeFinish = m.collector.emits.length;
  for (const p of ps) {
    p.bolt.finish!();
    forward(p);
  }
  m.bolt.finish!();
  return { outputs: m.take().map(asOut), beforeFinish };
}

function expectWithinBounds(o: Out, truth: readonly TruthEntry[]): void {
  const t = new Map(truth.map((e) => [e.key, e.count]));
  for (const e of o.ranking) {
    const c = t.get(e.key) ?? 0;
    expect(c, `${o.dimension} ${e.key}`).toBeLessThanOrEqual(e.count);
    expect(c, `${o.dimension} ${e.key}`).toBeGreaterThanOrEqual(e.count - e.error);
  }
  if (o.guaranteed) {
    // the set is the true top n (up to ties at the n-th count)
    const n = o.ranking.length;
    const nth = truth[n - 1]?.count ?? 0;
    for (const e of o.ranking) expect(t.get(e.key)!).toBeGreaterThanOrEqual(nth);
  }
  if (o.exact) expect(ranked(o)).toEqual(truth.slice(0, o.ranking.length).map((e) => [e.key, e.count]));
}

describe('topn two stages (3 partial tasks and a merge) against a brute-force count', () => {
  const rows = randomEvents(11, 12_000, 0, 5); // 60 s of events, 6 windows of 10 s
  const dims = DEFAULT_DIMENSIONS;
  const truth = bruteForce(rows, dims, 10_000);
  const srcHash = (row: unknown[]) => {
    const s = String(row[8]);
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
    return h % 3;
  };
  const shuffled = (_: unknown[], i: number) => (i * 7 + (i >> 3)) % 3;

  function checkAll(outputs: Out[], n: number) {
    expect(outputs).toHaveLength(truth.size);
    for (const o of outputs) {
      const t = truth.get(`${o.windowStart}/${o.dimension}`)!;
      expect(o.windowEnd - o.windowStart).toBe(10_000);
      expect(o.total).toBe(t.reduce((a, e) => a + e.count, 0));
      const want = Math.min(dims.find((d) => d.name === o.dimension)!.n ?? n, t.length);
      // fewer only when candidates were cut, and then it is not guaranteed
      if (o.guaranteed) expect(o.ranking.length).toBe(want);
      else expect(o.ranking.length).toBeLessThanOrEqual(want);
      expectWithinBounds(o, t);
    }
  }

  it('exact mode, every counter sent, shuffled input: exact', () => {
    const { outputs, beforeFinish } = runTwoStage({ window: '10s', n: 10 }, rows, shuffled);
    expect(beforeFinish).toBeGreaterThanOrEqual(5 * 5); // windows are emitted as the partials progress
    checkAll(outputs, 10);
    for (const o of outputs) {
      const t = truth.get(`${o.windowStart}/${o.dimension}`)!;
      expect(o).toMatchObject({ exact: true, guaranteed: true, distinct: t.length });
      // The events end at 59.995 s, inside the last window: as far as the furthest partial task got.
      expect([o.complete, o.until]).toEqual(o.windowEnd <= 50_000 ? [true, o.windowEnd] : [false, 59_995]);
      expect(ranked(o)).toEqual(t.slice(0, o.ranking.length).map((e) => [e.key, e.count]));
    }
  });

  it('exact mode, top-30 candidates, fields-grouped on srcIp: exact for source and event, bounded for the others', () => {
    const { outputs } = runTwoStage({ window: '10s', n: 5, candidates: 30, groupedBy: ['srcIp'] }, rows, srcHash);
    checkAll(outputs, 5);
    for (const o of outputs.filter((x) => x.dimension === 'source' || x.dimension === 'event')) {
      const t = truth.get(`${o.windowStart}/${o.dimension}`)!;
      expect(o).toMatchObject({ exact: true, guaranteed: true, distinct: t.length });
      expect(ranked(o)).toEqual(t.slice(0, 5).map((e) => [e.key, e.count]));
    }
  });

  it('exact mode, top-6 candidates, shuffled: bounds hold; what is flagged exact is exact', () => {
    const { outputs } = runTwoStage({ window: '10s', n: 5, candidates: 6 }, rows, shuffled);
    checkAll(outputs, 5);
    // severity has 8 keys but n 8 > 6 candidates: not all sent
    expect(outputs.filter((o) => o.dimension === 'source').some((o) => !o.exact)).toBe(true);
    expect(outputs.filter((o) => o.dimension === 'port').some((o) => o.ranking.some((e) => e.error > 0))).toBe(true);
  });

  it('space-saving partials (capacity 40): bounds hold, heavy hitters guaranteed', () => {
    const { outputs } = runTwoStage({ window: '10s', n: 3, mode: 'space-saving', capacity: 40 }, rows, shuffled);
    checkAll(outputs, 3);
    const src = outputs.filter((o) => o.dimension === 'source');
    expect(src.every((o) => o.distinct === -1)).toBe(true);
    expect(outputs.filter((o) => o.dimension === 'severity').every((o) => o.exact)).toBe(true);
  });

  it('sliding windows and out-of-order event time within allowedLateness through both stages', () => {
    const r = rng(5);
    const late = randomEvents(12, 3000, 0, 10).map((v) => {
      const w = [...v];
      w[0] = (w[0] as number) + Math.floor(r() * 1000) - 500; // out of order by up to 1 s
      return w;
    });
    const { outputs } = runTwoStage({ window: '10s', slide: '5s', allowedLateness: '1s' }, late, shuffled);
    const t2 = bruteForce(late, dims, 10_000, 5000);
    expect(outputs).toHaveLength(t2.size);
    expect(outputs.reduce((a, o) => a + o.late, 0)).toBe(0);
    for (const o of outputs) {
      expect(o.exact).toBe(true);
      expect(ranked(o)).toEqual(
        t2
          .get(`${o.windowStart}/${o.dimension}`)!
          .slice(0, 10)
          .map((e) => [e.key, e.count]),
      );
    }
  });
});

describe('topn merge', () => {
  it('waits for every partial task, counts late ones from their markers, and drops candidates of emitted windows', () => {
    const p = [harness({ stage: 'partial', window: '10s', dimensions: [{ name: 's', fields: ['srcIp'] }] }, { taskIndex: 0 })];
    p.push(harness({ stage: 'partial', window: '10s', dimensions: [{ name: 's', fields: ['srcIp'] }] }, { taskIndex: 1 }));
    const m = harness({ stage: 'merge' });
    m.context.partialTasks = [1, 2];
    const send = (i: number, rows: unknown[][]) => {
      p[i]!.bolt.executeBatch!(events(...rows));
      const out = p[i]!.take();
      if (out.length) m.bolt.executeBatch!(out.map((v) => new TestTuple(TOPN_PARTIAL_FIELDS, v, 'default', 'partial', i + 1)));
    };
    send(0, [eventValues({ time: 1000, srcIp: 'a' }), eventValues({ time: 12_000, srcIp: 'a' })]);
    expect(m.take()).toEqual([]); // task 2 has not closed [0, 10 s)
    send(1, [eventValues({ time: 2000, srcIp: 'b' }), eventValues({ time: 11_000, srcIp: 'b' }), eventValues({ time: 500, srcIp: 'b' })]);
    const out = m.take().map(asOut);
    expect(out).toMatchObject([{ windowStart: 0, total: 2, late: 1, exact: true }]);
    expect(ranked(out[0])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    // a stray candidate for an emitted window is dropped and counted
    m.bolt.executeBatch!([
      new TestTuple(TOPN_PARTIAL_FIELDS, ['s', 0, 10_000, ['z'], [1], null, 1, 0, 0, 1, 10, false, 0, null, null], 'default', 'partial', 1),
    ]);
    expect(m.context.counted('dropped', 'after_emit')).toBe(1);
    // tuples that are not a partial's output are refused with one logged error
    m.bolt.executeBatch!(events(eventValues({ time: 0 })));
    expect(m.context.counted('dropped', 'not_partial')).toBe(1);
    expect(m.context.logger.records.filter((l) => l.level === 'error')).toHaveLength(1);
    for (const h of p) {
      h.bolt.finish!();
      m.bolt.executeBatch!(h.take().map((v) => new TestTuple(TOPN_PARTIAL_FIELDS, v, 'default', 'partial', h.context.taskId)));
    }
    expect(m.take().map(asOut)).toMatchObject([{ windowStart: 10_000, total: 2 }]);
    m.bolt.finish!();
    expect(m.take()).toEqual([]);
  });

  it('a window the input ends inside is incomplete, until the furthest any partial task got; the end-of-input marker says how far', () => {
    const cfg = { stage: 'partial', window: '10s', dimensions: [{ name: 's', fields: ['srcIp'] }] };
    const p = [harness(cfg, { taskIndex: 0 }), harness(cfg, { taskIndex: 1 })];
    const m = harness({ stage: 'merge' });
    m.context.partialTasks = [1, 2];
    const relay = (i: number) => {
      const out = p[i]!.take();
      if (out.length) m.bolt.executeBatch!(out.map((v) => new TestTuple(TOPN_PARTIAL_FIELDS, v, 'default', 'partial', i + 1)));
      return out;
    };
    const send = (i: number, ...times: number[]) => {
      p[i]!.bolt.executeBatch!(events(...times.map((time) => eventValues({ time, srcIp: `s${i}` }))));
      relay(i);
    };
    send(0, 1000, 12_000, 15_500);
    send(1, 2000, 11_000, 13_000);
    expect(m.take().map(asOut)).toMatchObject([{ windowStart: 0, total: 2, complete: true, until: 10_000 }]);
    p[1]!.bolt.finish!();
    const marker = relay(1).at(-1)!;
    expect([marker[TOPN_PARTIAL_FIELDS.indexOf('progress')], marker[TOPN_PARTIAL_FIELDS.indexOf('until')]]).toEqual([END_OF_INPUT, 13_000]);
    p[0]!.bolt.finish!();
    relay(0);
    expect(m.take().map(asOut)).toMatchObject([{ windowStart: 10_000, windowEnd: 20_000, total: 4, complete: false, until: 15_500 }]);
  });

  it('a window one partial task got past the end of (the watermark held back by lateness) is complete', () => {
    const cfg = { stage: 'partial', window: '10s', allowedLateness: '5s', dimensions: [{ name: 's', fields: ['srcIp'] }] };
    const p = [harness(cfg, { taskIndex: 0 }), harness(cfg, { taskIndex: 1 })];
    const m = harness({ stage: 'merge' });
    m.context.partialTasks = [1, 2];
    p[0]!.bolt.executeBatch!(events(eventValues({ time: 1000, srcIp: 'a' }), eventValues({ time: 12_000, srcIp: 'a' })));
    p[1]!.bolt.executeBatch!(events(eventValues({ time: 3000, srcIp: 'b' })));
    for (const [i, h] of p.entries()) {
      h.bolt.finish!();
      m.bolt.executeBatch!(h.take().map((v) => new TestTuple(TOPN_PARTIAL_FIELDS, v, 'default', 'partial', i + 1)));
    }
    expect(
      m
        .take()
        .map(asOut)
        .map((o) => [o.windowStart, o.total, o.complete, o.until]),
    ).toEqual([
      [0, 2, true, 10_000],
      [10_000, 1, false, 12_000],
    ]);
  });

  it('a partial task without input stops holding windows back after idleTimeout, and counts again once it speaks', () => {
    let now = 0;
    const cfg = { stage: 'partial', window: '10s', dimensions: [{ name: 's', fields: ['srcIp'] }] };
    const busy = harness(cfg, { taskIndex: 0, now: () => now });
    const quiet = harness(cfg, { taskIndex: 1, now: () => now });
    const m = harness({ stage: 'merge', idleTimeout: '10s' }, { now: () => now });
    m.context.partialTasks = [1, 2];
    const relay = (h: Harness, task: number) => {
      const out = h.take();
      if (out.length) m.bolt.executeBatch!(out.map((v) => new TestTuple(TOPN_PARTIAL_FIELDS, v, 'default', 'partial', task)));
    };
    busy.bolt.executeBatch!(events(eventValues({ time: 1000, srcIp: 'a' }), eventValues({ time: 12_000, srcIp: 'a' })));
    relay(busy, 1);
    expect(m.take()).toEqual([]); // task 2 (no input at all) might still send [0, 10 s)
    now = 5000;
    // The busy task reports its progress on every tick, window end or not.
    busy.bolt.executeBatch!(events(eventValues({ time: 15_000, srcIp: 'a' })));
    busy.bolt.executeBatch!([tick()]);
    relay(busy, 1);
    quiet.bolt.executeBatch!([tick()]);
    relay(quiet, 2); // nothing: it has no progress to report
    m.bolt.executeBatch!([tick()]);
    expect(m.take()).toEqual([]);
    now = 10_000;
    m.bolt.executeBatch!([tick()]);
    // Task 2 has said nothing for 10 s: the window closes on task 1's word, not claimed exact,
    // since task 2 may yet send counts for it (they would be dropped as after_emit).
    expect(m.take().map(asOut)).toMatchObject([{ windowStart: 0, windowEnd: 10_000, total: 1, exact: false, guaranteed: false }]);
    // Task 2 gets input and speaks again: it holds [10 s, 20 s) open until it has closed it.
    now = 11_000;
    quiet.bolt.executeBatch!(events(eventValues({ time: 16_000, srcIp: 'b' })));
    quiet.bolt.executeBatch!([tick()]);
    relay(quiet, 2);
    busy.bolt.executeBatch!(events(eventValues({ time: 25_000, srcIp: 'a' })));
    relay(busy, 1);
    expect(m.take()).toEqual([]);
    quiet.bolt.executeBatch!(events(eventValues({ time: 21_000, srcIp: 'b' })));
    relay(quiet, 2);
    const out = m.take().map(asOut);
    // Both tasks reported this window: exact again.
    expect(out).toMatchObject([{ windowStart: 10_000, windowEnd: 20_000, total: 3, exact: true, guaranteed: true }]);
    expect(ranked(out[0])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });
  it('a partial task whose input went quiet with counts in a window is waited for, and sends them idleTimeout after the window end', () => {
    let now = 0;
    const cfg = { stage: 'partial', window: '10s', idleTimeout: '10s', dimensions: [{ name: 's', fields: ['srcIp'] }] };
    const busy = harness(cfg, { taskIndex: 0, now: () => now });
    const quiet = harness(cfg, { taskIndex: 1, now: () => now });
    const m = harness({ stage: 'merge', idleTimeout: '10s' }, { now: () => now });
    m.context.partialTasks = [1, 2];
    const relay = (h: Harness, task: number) => {
      const out = h.take();
      if (out.length) m.bolt.executeBatch!(out.map((v) => new TestTuple(TOPN_PARTIAL_FIELDS, v, 'default', 'partial', task)));
    };
    quiet.bolt.executeBatch!(events(eventValues({ time: 2000, srcIp: 'b' }))); // then nothing more
    const emitted: [number, ReturnType<typeof asOut>][] = [];
    for (now = 0; now <= 20_000; now += 1000) {
      busy.bolt.executeBatch!(events(eventValues({ time: now + 1000, srcIp: 'a' })));
      busy.bolt.executeBatch!([tick()]);
      relay(busy, 1);
      quiet.bolt.executeBatch!([tick()]);
      relay(quiet, 2);
      m.bolt.executeBatch!([tick()]);
      for (const o of m.take().map(asOut)) emitted.push([now, o]);
    }
    // The busy task passed 10 s at 9 s; the quiet one's time goes on from 2 s once it has been
    // quiet for 10 s, and reaches 10 s at 18 s: the window waits for it, and is exact.
    expect(emitted[0]![0]).toBe(18_000);
    expect(emitted[0]![1]).toMatchObject({ windowStart: 0, total: 10, exact: true, guaranteed: true });
    expect(ranked(emitted[0]![1])).toEqual([
      ['a', 9],
      ['b', 1],
    ]);
    expect(m.context.counted('dropped', 'after_emit')).toBe(0);
  });

  it('at the end of input, a partial task that was quiet past idleTimeout still delivers its open window', () => {
    let now = 0;
    const cfg = { stage: 'partial', window: '5m', dimensions: [{ name: 's', fields: ['srcIp'] }] };
    const a = harness(cfg, { taskIndex: 0, now: () => now });
    const b = harness(cfg, { taskIndex: 1, now: () => now });
    const m = harness({ stage: 'merge', idleTimeout: '10s' }, { now: () => now });
    m.context.partialTasks = [1, 2];
    const relay = (h: Harness, task: number) => {
      const out = h.take();
      if (out.length) m.bolt.executeBatch!(out.map((v) => new TestTuple(TOPN_PARTIAL_FIELDS, v, 'default', 'partial', task)));
    };
    // Task 1 gets a burst in [10m, 15m), then nothing; task 2 never gets input.
    a.bolt.executeBatch!(events(...Array.from({ length: 12 }, (_, i) => eventValues({ time: 600_000 + i * 1000, srcIp: 'x' }))));
    a.bolt.executeBatch!([tick()]);
    relay(a, 1);
    now = 15_000; // both silent for more than idleTimeout
    m.bolt.executeBatch!([tick()]);
    // The end of input: the quiet task 2 finishes first, then task 1 with its open window.
    b.bolt.finish!();
    relay(b, 2);
    a.bolt.finish!();
    relay(a, 1);
    m.bolt.finish!();
    expect(m.take().map(asOut)).toMatchObject([{ windowStart: 600_000, total: 12 }]);
    expect(m.context.counted('dropped', 'after_emit')).toBe(0);
  });
});

describe('topn: candidates below n', () => {
  const warnings = (h: Harness) => h.context.logger.records.filter((l) => l.level === 'warn').map((l) => l.msg);
  const dimensions = [{ name: 'source', fields: ['srcIp'] }];

  it('a partial stage sending fewer candidates than n entries warns once, from task 0', () => {
    const h = harness({ stage: 'partial', n: 5, candidates: 2, dimensions });
    expect(warnings(h)).toEqual([expect.stringContaining('candidates 2 is below n 5')]);
    expect(warnings(harness({ stage: 'partial', n: 5, candidates: 2, dimensions }, { taskIndex: 1 }))).toEqual([]);
  });

  it('enough candidates, all of them (0), or a single stage: no warning', () => {
    expect(warnings(harness({ stage: 'partial', n: 5, candidates: 5, dimensions }))).toEqual([]);
    expect(warnings(harness({ stage: 'partial', n: 5, candidates: 0, dimensions }))).toEqual([]);
    // A dimension's own n counts: the default dimensions rank up to 8 entries.
    expect(warnings(harness({ stage: 'partial', n: 5, candidates: 5 }))).toEqual([expect.stringContaining('candidates 5 is below n 8')]);
    expect(warnings(harness({ n: 5, candidates: 2, dimensions }))).toEqual([]);
  });
});

describe('topn: open windows across restarts (keyed state)', () => {
  const host = [{ name: 'host', fields: ['host'] }];
  const feed = (h: Harness, rows: unknown[][], batch = 100) => {
    const tuples = events(...rows);
    for (let i = 0; i < tuples.length; i += batch) h.bolt.executeBatch!(tuples.slice(i, i + batch));
  };
  const stateOf = (h: Harness) => h.context.keyedState<TopNStateEntry>(TOPN_STATE);
  /** The keyed state a task gets at a restart to parallelism `parallelism`: the key groups it owns (the fake context has 128). */
  const share = (snap: Record<string, KeyGroupSnapshot<unknown>>, taskIndex: number, parallelism: number) => {
    const { start, end } = keyGroupRange(taskIndex, parallelism, 128);
    const out: Record<string, KeyGroupSnapshot<unknown>> = {};
    for (const [name, groups] of Object.entries(snap)) {
      out[name] = Object.fromEntries(Object.entries(groups).filter(([g]) => Number(g) >= start && Number(g) < end));
    }
    return out;
  };
  /** The keyed states of several tasks as one (what a restart to one task gets). */
  const combine = (...snaps: Record<string, KeyGroupSnapshot<unknown>>[]) => {
    const out: Record<string, KeyGroupSnapshot<unknown>> = {};
    for (const snap of snaps) {
      for (const [name, groups] of Object.entries(snap)) {
        const to = (out[name] ??= {});
        for (const [g, pairs] of Object.entries(groups)) (to[Number(g)] ??= []).push(...pairs);
      }
    }
    return out;
  };
  const relayTo = (m: Harness) => (p: Harness) => {
    const out = p.take();
    if (out.length > 0) m.bolt.executeBatch!(out.map((v) => new TestTuple(TOPN_PARTIAL_FIELDS, v, 'default', 'partial', p.context.taskId)));
    return out;
  };

  it('a stop emits no open window and keeps it; resumed, the window goes on and comes once with the whole count (74 + 37 = 111)', () => {
    const cfg = { window: '5m', dimensions: host };
    const at = (i: number) => eventValues({ time: 60_000 + i * 1000, host: `r${i % 3}` });
    const first = harness(cfg);
    first.bolt.executeBatch!(events(...Array.from({ length: 74 }, (_, i) => at(i))));
    first.bolt.finish!({ stopped: true });
    expect(first.take()).toEqual([]);
    expect((first.bolt as TopNBolt).openWindows).toBe(1);
    expect([...stateOf(first).keys()].sort()).toEqual(['0/0', 'task/0']);

    const second = harness(cfg, { restoredStates: first.context.snapshotStates() });
    expect((second.bolt as TopNBolt).openWindows).toBe(1);
    second.bolt.executeBatch!(events(...Array.from({ length: 37 }, (_, i) => at(74 + i))));
    second.bolt.executeBatch!([tick()]);
    expect(second.take()).toEqual([]); // the watermark has not reached the window's end
    second.bolt.finish!(); // the end of input: out it goes
    const out = second.take().map(asOut);
    expect(out).toMatchObject([{ windowStart: 0, windowEnd: 300_000, total: 111, complete: false, until: 60_000 + 110_000, exact: true }]);
    expect(ranked(out[0])).toEqual([
      ['r0', 37],
      ['r1', 37],
      ['r2', 37],
    ]);
    // Nothing is left for a later run.
    expect(stateOf(second).size).toBe(0);
  });

  it('without a state dir a stop reports its open windows, incomplete, in both stages: nothing would keep them', () => {
    const cfg = { window: '5m', dimensions: host };
    const at = (i: number) => eventValues({ time: 60_000 + i * 1000, host: `r${i % 3}` });
    const single = harness(cfg, { stateKept: false });
    single.bolt.executeBatch!(events(...Array.from({ length: 74 }, (_, i) => at(i))));
    single.bolt.finish!({ stopped: true });
    expect(single.take().map(asOut)).toMatchObject([{ windowStart: 0, total: 74, complete: false }]);

    const partial = harness({ ...cfg, stage: 'partial' }, { stateKept: false });
    const merge = harness({ stage: 'merge' }, { stateKept: false });
    merge.context.partialTasks = [1];
    partial.bolt.executeBatch!(events(...Array.from({ length: 10 }, (_, i) => at(i))));
    partial.bolt.finish!({ stopped: true });
    merge.bolt.executeBatch!(partial.take().map((v) => new TestTuple(TOPN_PARTIAL_FIELDS, v, 'default', 'partial', 1)));
    merge.bolt.finish!({ stopped: true });
    expect(merge.take().map(asOut)).toMatchObject([{ windowStart: 0, total: 10, complete: false }]);
  });

  it('a single stage stopped mid-window and restored into a new task emits what an uninterrupted run does (exact and space-saving)', () => {
    const rows = randomEvents(31, 6000, 0, 5); // 30 s: windows [0, 10 s), [10 s, 20 s), [20 s, 30 s)
    const cut = 3100; // at 15.5 s
    const truth = bruteForce(rows, DEFAULT_DIMENSIONS, 10_000);
    for (const mode of ['exact', 'space-saving']) {
      const cfg = { window: '10s', allowedLateness: '1s', mode, capacity: 50 };
      const whole = runSingle(cfg, rows);
      const first = harness(cfg);
      feed(first, rows.slice(0, cut));
      const before = first.take().map(asOut);
      expect(before.map((o) => o.windowStart)).toEqual(DEFAULT_DIMENSIONS.map(() => 0));
      first.bolt.finish!({ stopped: true });
      expect(first.take()).toEqual([]);
      const second = harness(cfg, { restoredStates: first.context.snapshotStates() });
      feed(second, rows.slice(cut));
      second.bolt.finish!();
      const after = second.take().map(asOut);
      expect([...before, ...after], mode).toEqual(whole);
      const across = after.filter((o) => o.windowStart === 10_000);
      expect(across).toHaveLength(DEFAULT_DIMENSIONS.length);
      for (const o of across) expect(o.total).toBe(truth.get(`10000/${o.dimension}`)!.reduce((a, e) => a + e.count, 0));
    }
  });

  it('restored windows go on from how far the first run got: with no new input they close idleTimeout after their end; ended first, they say how far it got', () => {
    let now = 0;
    const cfg = { window: '10s', idleTimeout: '10s', dimensions: host };
    const first = harness(cfg, { now: () => now });
    first.bolt.executeBatch!(events(eventValues({ time: 1000, host: 'a' }), eventValues({ time: 4500, host: 'b' })));
    first.bolt.finish!({ stopped: true });
    // Restarted at 0 with no new input: the clock starts at 4.5 s and goes on after 10 s of silence.
    const second = harness(cfg, { now: () => now, restoredStates: first.context.snapshotStates() });
    for (now = 1000; now <= 15_000; now += 1000) second.bolt.executeBatch!([tick()]);
    expect(second.take()).toEqual([]);
    now = 16_000;
    second.bolt.executeBatch!([tick()]);
    expect(second.take().map(asOut)).toMatchObject([{ windowStart: 0, total: 2, complete: true }]);
    // Restored and ended before that: incomplete, until the first run's last event.
    const third = harness(cfg, { now: () => now, restoredStates: first.context.snapshotStates() });
    third.bolt.finish!();
    expect(third.take().map(asOut)).toMatchObject([{ windowStart: 0, total: 2, complete: false, until: 4500 }]);
  });

  it('restored windows without the entry of the task that kept them (another task got it) still go on from how far that task got', () => {
    let now = 0;
    const cfg = { window: '10s', idleTimeout: '10s', dimensions: host };
    const first = harness(cfg, { now: () => now });
    first.bolt.executeBatch!(events(eventValues({ time: 1000, host: 'a' }), eventValues({ time: 9500, host: 'b' })));
    first.bolt.finish!({ stopped: true });
    // Keyed state goes out by key group: here the window's key went to this task, "task/0" elsewhere.
    const snap = first.context.snapshotStates();
    const windowOnly = Object.fromEntries(
      Object.entries(snap).map(([name, groups]) => [
        name,
        Object.fromEntries(Object.entries(groups).map(([g, pairs]) => [g, pairs.filter(([k]) => !String(k).startsWith('task/'))])),
      ]),
    );
    const second = harness(cfg, { now: () => now, restoredStates: windowOnly });
    // From 9.5 s (not from the window's start, 0 s: it would close 10 s of wall clock later).
    for (now = 1000; now <= 10_000; now += 1000) second.bolt.executeBatch!([tick()]);
    expect(second.take()).toEqual([]);
    now = 11_000;
    second.bolt.executeBatch!([tick()]);
    expect(second.take().map(asOut)).toMatchObject([{ windowStart: 0, total: 2, complete: true }]);
  });

  it('partial stage: two tasks restored into one (parallelism 2 -> 1) add their windows up; the merge keeps what it was sent before the stop', () => {
    const dims = [
      { name: 'source', fields: ['srcIp'] },
      { name: 'port', fields: ['dstPort'] },
    ];
    const cfg = { stage: 'partial', window: '10s', dimensions: dims };
    const rows = randomEvents(41, 4000, 0, 5); // 20 s
    const truth = bruteForce(rows, dims, 10_000);
    const p = [harness(cfg, { taskIndex: 0, parallelism: 2 }), harness(cfg, { taskIndex: 1, parallelism: 2 })];
    const m = harness({ stage: 'merge' });
    m.context.partialTasks = [1, 2];
    const relay = relayTo(m);
    // Task 0 gets past 12 s and sends [0, 10 s) to the merge; task 1 stops at 8 s, [0, 10 s) still open.
    const fed = rows.map((r, i) => (i % 2 === 0 ? (r[0] as number) < 12_000 : (r[0] as number) < 8_000));
    p.forEach((h, t) => {
      feed(
        h,
        rows.filter((_, i) => i % 2 === t && fed[i]),
      );
      relay(h);
    });
    expect(m.take()).toEqual([]);
    expect([...stateOf(m).entries()].filter(([, e]) => e.kind === 'merge').map(([k]) => k)).toEqual(['0/0']);
    for (const h of [...p, m]) h.bolt.finish!({ stopped: true });
    for (const h of p) expect(relay(h)).toEqual([]); // no window, no end-of-input marker
    expect(m.take()).toEqual([]);

    const q = harness(cfg, { restoredStates: combine(...p.map((h) => h.context.snapshotStates())) });
    expect((q.bolt as TopNBolt).openWindows).toBe(2); // [0, 10 s) of task 1, [10 s, 20 s) of task 0
    const m2 = harness({ stage: 'merge' }, { restoredStates: m.context.snapshotStates() });
    m2.context.partialTasks = [q.context.taskId];
    const relay2 = relayTo(m2);
    feed(
      q,
      rows.filter((_, i) => !fed[i]),
    );
    relay2(q);
    q.bolt.finish!();
    relay2(q);
    m2.bolt.finish!();
    const out = m2.take().map(asOut);
    expect(out).toHaveLength(truth.size);
    for (const o of out) {
      const t = truth.get(`${o.windowStart}/${o.dimension}`)!;
      expect(o, `${o.windowStart} ${o.dimension}`).toMatchObject({ total: t.reduce((a, e) => a + e.count, 0), exact: true, distinct: t.length });
      expect(ranked(o)).toEqual(t.slice(0, 10).map((e) => [e.key, e.count]));
    }
    expect(out.filter((o) => o.windowStart === 0).every((o) => o.complete)).toBe(true);
  });

  it('resumed partial tasks that get no new input are waited for: their restored window is in the merged one, not dropped as after_emit', () => {
    let now = 0;
    const cfg = { stage: 'partial', window: '10s', idleTimeout: '10s', dimensions: host };
    const at = (t: number, h: string) => eventValues({ time: t, host: h });
    // First run: both partial tasks count part of [0, 10 s), then the run is stopped.
    const p = [0, 1].map((i) => harness(cfg, { taskIndex: i, parallelism: 2, now: () => now }));
    feed(p[0]!, [at(1000, 'a'), at(2000, 'a')]);
    feed(p[1]!, [at(1500, 'b'), at(2500, 'b'), at(3000, 'b')]);
    const m = harness({ stage: 'merge', idleTimeout: '10s' }, { now: () => now });
    m.context.partialTasks = p.map((h) => h.context.taskId);
    for (const h of [...p, m]) h.bolt.finish!({ stopped: true });
    for (const h of p) h.take();
    // Resumed: the same tasks, their own state back; only task 0 gets input, past the window.
    const q = [0, 1].map((i) => harness(cfg, { taskIndex: i, parallelism: 2, now: () => now, restoredStates: p[i]!.context.snapshotStates() }));
    const m2 = harness({ stage: 'merge', idleTimeout: '10s' }, { now: () => now, restoredStates: m.context.snapshotStates() });
    m2.context.partialTasks = q.map((h) => h.context.taskId);
    const relay = relayTo(m2);
    const out: ReturnType<typeof asOut>[] = [];
    for (now = 1000; now <= 30_000; now += 1000) {
      feed(q[0]!, [at(10_000 + now, 'c')]);
      for (const h of q) {
        h.bolt.executeBatch!([tick()]);
        relay(h);
      }
      m2.bolt.executeBatch!([tick()]);
      out.push(...m2.take().map(asOut));
    }
    const first = out.find((o) => o.windowStart === 0)!;
    expect(first).toMatchObject({ total: 5, exact: true });
    expect(ranked(first)).toEqual([
      ['b', 3],
      ['a', 2],
    ]);
    expect(m2.context.counted('dropped', 'after_emit')).toBe(0);
  });

  it('partial stage rescaled 2 -> 3: each task takes the entries of its key groups; the merged windows add up, not claimed partitioned where split', () => {
    const dims = [{ name: 'source', fields: ['srcIp'] }];
    const cfg = { stage: 'partial', window: '10s', groupedBy: ['srcIp'], candidates: 0, dimensions: dims };
    const rows = randomEvents(43, 4000, 0, 5); // 20 s
    const truth = bruteForce(rows, dims, 10_000);
    const bySrc = (row: unknown[], tasks: number) => {
      const s = String(row[EVENT.srcIp]);
      let h = 0;
      for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
      return h % tasks;
    };
    const cut = 1500; // 7.5 s
    const p = [0, 1].map((i) => harness(cfg, { taskIndex: i, parallelism: 2 }));
    for (const [i, h] of p.entries())
      feed(
        h,
        rows.slice(0, cut).filter((r) => bySrc(r, 2) === i),
      );
    for (const h of p) {
      h.take(); // progress markers
      h.bolt.finish!({ stopped: true });
      expect(h.take()).toEqual([]);
    }
    const saved = combine(...p.map((h) => h.context.snapshotStates()));
    const q = [0, 1, 2].map((i) => harness(cfg, { taskIndex: i, parallelism: 3, restoredStates: share(saved, i, 3) }));
    // Every old entry went to exactly one new task, which keeps it under its own key.
    const restored = q.map((h, i) => (stateOf(h).get(`0/${i}`) as CountWindowData | undefined)?.counters[0]?.total ?? 0);
    expect(restored.reduce((a, b) => a + b, 0)).toBe(rows.slice(0, cut).filter((r) => r[EVENT.srcIp] !== null).length);
    for (const h of q) expect([...stateOf(h).keys()].every((k) => k.endsWith(`/${h.context.taskIndex}`))).toBe(true);
    const m = harness({ stage: 'merge' });
    m.context.partialTasks = q.map((h) => h.context.taskId);
    const relay = relayTo(m);
    const sent: { task: number; values: unknown[] }[] = [];
    const relayed = (h: Harness) => {
      for (const values of relay(h)) sent.push({ task: h.context.taskIndex, values });
    };
    for (const [i, h] of q.entries())
      feed(
        h,
        rows.slice(cut).filter((r) => bySrc(r, 3) === i),
      );
    for (const h of q) relayed(h);
    for (const h of q) {
      h.bolt.finish!();
      relayed(h);
    }
    m.bolt.finish!();
    const out = m.take().map(asOut);
    expect(out).toHaveLength(truth.size);
    for (const o of out) {
      const t = truth.get(`${o.windowStart}/${o.dimension}`)!;
      expect(o).toMatchObject({ total: t.reduce((a, e) => a + e.count, 0), exact: true });
      expect(ranked(o)).toEqual(t.slice(0, 10).map((e) => [e.key, e.count]));
    }
    // A window restored on a task is not partitioned by key there any more; a new one is.
    const at = (f: string) => TOPN_PARTIAL_FIELDS.indexOf(f as (typeof TOPN_PARTIAL_FIELDS)[number]);
    const reports = sent.filter((r) => r.values[at('dimension')] !== null);
    const first = reports.filter((r) => r.values[at('windowStart')] === 0);
    expect(first).toHaveLength(3); // every task had [0, 10 s): restored, or opened by the events after the cut
    for (const r of first) expect(r.values[at('partitioned')], `task ${r.task}`).toBe(restored[r.task] === 0);
    expect(first.some((r) => r.values[at('partitioned')] === false)).toBe(true);
    expect(reports.filter((r) => r.values[at('windowStart')] === 10_000).every((r) => r.values[at('partitioned')] === true)).toBe(true);
  });

  it('a single stage with parallelism above 1: each task keeps its share under its own key groups and takes back only that; another parallelism drops them, with a warning', () => {
    const cfg = { window: '10s', dimensions: [{ name: 'src', fields: ['srcIp'] }] };
    // Task i of 2 gets the sources s<i>, s<i+2>...: a key's tuples all go to one task, as fields grouping sends them.
    const rows = Array.from({ length: 60 }, (_, i) => eventValues({ time: 1000 + i * 100, srcIp: `s${i % 4}` }));
    const mine = (i: number) => rows.filter((r) => Number(String(r[EVENT.srcIp]).slice(1)) % 2 === i);
    const p = [0, 1].map((i) => harness(cfg, { taskIndex: i, parallelism: 2 }));
    for (const [i, h] of p.entries()) {
      feed(h, mine(i).slice(0, 20));
      h.bolt.finish!({ stopped: true });
      // A stop with --state-dir keeps the window open.
      expect(h.take()).toEqual([]);
    }
    // Every entry is in a key group of its task's: a restart hands each task its own back.
    const saved = combine(...p.map((h) => h.context.snapshotStates()));
    for (const [i, h] of p.entries()) {
      const { start, end } = keyGroupRange(i, 2, 128);
      expect(Object.keys(h.context.snapshotStates()[TOPN_STATE]!).every((g) => Number(g) >= start && Number(g) < end)).toBe(true);
    }
    const q = [0, 1].map((i) => harness(cfg, { taskIndex: i, parallelism: 2, restoredStates: share(saved, i, 2) }));
    for (const [i, h] of q.entries()) {
      expect((h.bolt as TopNBolt).openWindows).toBe(1);
      feed(h, mine(i).slice(20));
      h.bolt.finish!();
      const out = h.take().map(asOut);
      expect(out).toMatchObject([{ windowStart: 0, total: 30, complete: false }]);
      expect(ranked(out[0]!)).toEqual([
        [`s${i}`, 15],
        [`s${i + 2}`, 15],
      ]);
    }
    expect(q.flatMap((h) => h.context.logger.records.filter((r) => r.level === 'warn'))).toEqual([]);

    // Into one task: the shares add up, every key being in one of them.
    const one = harness(cfg, { restoredStates: saved });
    one.bolt.finish!();
    expect(one.take().map(asOut)).toMatchObject([
      { windowStart: 0, total: 40, ranking: ['s0', 's1', 's2', 's3'].map((key) => ({ key, count: 10, error: 0 })) },
    ]);

    // From one task to two (or another parallelism): a task's window holds keys of the other's now.
    const single = harness(cfg);
    single.bolt.executeBatch!(events(...rows.slice(0, 3)));
    single.bolt.finish!({ stopped: true });
    const two = harness(cfg, { parallelism: 2, restoredStates: single.context.snapshotStates() });
    expect((two.bolt as TopNBolt).openWindows).toBe(0);
    expect(two.context.logger.records.filter((r) => r.level === 'warn').map((r) => r.msg)).toEqual([
      expect.stringMatching(/takes back only the windows its task counted with the same parallelism/),
    ]);
    // Dropped entries are not in the state, so that the next copy replaces the old one.
    expect(
      Object.values(two.context.snapshotStates()[TOPN_STATE]!)
        .flat()
        .map(([k]) => k),
    ).toEqual([expect.stringMatching(/^task\/0/)]);
    two.bolt.finish!();
    expect(two.take()).toEqual([]);

    // Without --state-dir nothing would keep them: a stop emits them, incomplete, as at the end of input.
    const h = harness(cfg, { taskIndex: 1, parallelism: 2, stateKept: false });
    h.bolt.executeBatch!(events(...rows.slice(0, 3)));
    h.bolt.finish!({ stopped: true });
    expect(h.take().map(asOut)).toMatchObject([{ windowStart: 0, total: 3, complete: false, until: 1200 }]);
  });

  it('keyed state is written when a window opens and when it is emitted, not per tuple: the counts are updated in place', () => {
    const h = harness({ window: '10s', dimensions: host });
    const state = stateOf(h);
    const set = vi.spyOn(state, 'set');
    const del = vi.spyOn(state, 'delete');
    h.bolt.executeBatch!(events(...Array.from({ length: 1000 }, (_, i) => eventValues({ time: i, host: `h${i % 7}` }))));
    expect(set).toHaveBeenCalledTimes(1);
    const entry = state.get('0/0')!;
    expect(entry).toMatchObject({ kind: 'count', start: 0, end: 10_000 });
    h.bolt.executeBatch!(events(...Array.from({ length: 1000 }, (_, i) => eventValues({ time: 1000 + i, host: `h${i % 7}` }))));
    expect(set).toHaveBeenCalledTimes(1);
    expect(state.get('0/0')).toBe(entry);
    expect((entry as { counters: { total: number }[] }).counters[0]!.total).toBe(2000);
    h.bolt.executeBatch!(events(eventValues({ time: 10_000, host: 'x' })));
    expect(h.take().map(asOut)).toMatchObject([{ windowStart: 0, total: 2000 }]);
    expect(del).toHaveBeenCalledWith('0/0');
    expect([...state.keys()].sort()).toEqual(['10000/0', 'task/0']);
  });

  it('restored windows that no longer fit the config (another window length, a dimension with other fields) are dropped with a warning', () => {
    const first = harness({ window: '10s', dimensions: [{ name: 'src', fields: ['srcIp'] }, ...host] });
    first.bolt.executeBatch!(events(eventValues({ time: 1000, srcIp: 'a', host: 'h' })));
    first.bolt.finish!({ stopped: true });
    const snap = first.context.snapshotStates();
    const longer = harness({ window: '20s', dimensions: host }, { restoredStates: snap });
    expect((longer.bolt as TopNBolt).openWindows).toBe(0);
    expect(longer.context.logger.records.map((r) => r.msg)).toEqual([expect.stringContaining('dropped 1 open window(s) and the counts of 0 dimension(s)')]);
    // Same window; `src` now counts another field, `host` is as it was.
    const changed = harness({ window: '10s', dimensions: [{ name: 'src', fields: ['dstIp'] }, ...host] }, { restoredStates: snap });
    expect(changed.context.logger.records.map((r) => r.msg)).toEqual([expect.stringContaining('dropped 0 open window(s) and the counts of 1 dimension(s)')]);
    changed.bolt.finish!();
    expect(
      changed
        .take()
        .map(asOut)
        .map((o) => [o.dimension, o.total]),
    ).toEqual([
      ['src', 0],
      ['host', 1],
    ]);
  });
});
