import { type KeyGroupedState, TICK_STREAM, validateConfig } from '@qitian/api';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EVENT, EVENT_FIELDS } from '../../syslog/event.js';
import { configFor, FakeTopologyContext, RecordingOutputCollector, TestTuple } from '../../testkit.js';
import { CLUSTER_STATE, ClusterBolt, type ClusterKeyState, clusterBolt, clusterOutputs, cosine, euclidean, GLOBAL_KEY } from './index.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);

/** A parsed event with the fields the cluster bolt reads. */
function event(time: number, eventType: string | null, severity = 6, host = 'r1'): TestTuple {
  const v: unknown[] = new Array(EVENT_FIELDS.length).fill(null);
  v[EVENT.time] = time;
  v[EVENT.host] = host;
  v[EVENT.severity] = severity;
  v[EVENT.eventType] = eventType;
  return new TestTuple(EVENT_FIELDS, v, 'default', 'parse');
}

/** One window's events: `mix` is eventType -> count, spread evenly over the minute starting at `start`. */
function windowEvents(start: number, mix: Record<string, number>, host = 'r1', severity = 6): TestTuple[] {
  const out: TestTuple[] = [];
  const names = Object.entries(mix).flatMap(([k, n]) => new Array<string>(n).fill(k));
  names.forEach((k, i) => {
    out.push(event(start + Math.floor((i * MIN) / names.length), k, severity, host));
  });
  return out;
}

const NORMAL = { 'LINK-UPDOWN': 10, 'SYS-CONFIG_I': 6, 'SEC-LOGIN': 4 };
const NORMAL2 = { 'LINK-UPDOWN': 9, 'SYS-CONFIG_I': 7, 'SEC-LOGIN': 4 };
const SHIFTED = { 'LINK-UPDOWN': 4, 'SYS-CONFIG_I': 2, 'SEC-LOGIN': 2, 'BGP-ADJCHANGE': 12 };

function harness(raw: Record<string, unknown>, clock?: () => number, componentTasks?: Record<string, number[]>) {
  const config = configFor(clusterBolt, raw);
  const bolt = new ClusterBolt(config, clock);
  const context = new FakeTopologyContext({ config, componentId: 'behaviour', outputs: clusterOutputs(config), ...(componentTasks ? { componentTasks } : {}) });
  const collector = new RecordingOutputCollector();
  bolt.prepare(context, collector);
  const rows = (stream = 'default') => collector.emits.filter((e) => e.stream === stream).map((e) => e.values);
  return { bolt, context, collector, rows };
}

describe('cluster bolt', () => {
  it('founds a new cluster exactly when the mix shifts, names what changed, and returns to the old cluster', () => {
    const h = harness({ window: '1m', lateness: '0s', threshold: 0.3 });
    const windows = [NORMAL, NORMAL2, NORMAL, NORMAL2, SHIFTED, NORMAL];
    windows.forEach((mix, i) => {
      h.bolt.executeBatch(windowEvents(T0 + i * MIN, mix));
    });
    h.bolt.finish();
    const rows = h.rows();
    expect(rows.map((r) => [r[0], r[1], r[2], r[4], r[5]])).toEqual([
      [T0, T0 + MIN, 1, true, 20],
      [T0 + MIN, T0 + 2 * MIN, 1, false, 20],
      [T0 + 2 * MIN, T0 + 3 * MIN, 1, false, 20],
      [T0 + 3 * MIN, T0 + 4 * MIN, 1, false, 20],
      [T0 + 4 * MIN, T0 + 5 * MIN, 2, true, 20],
      [T0 + 5 * MIN, T0 + 6 * MIN, 1, false, 20],
    ]);
    expect(rows[0]![3]).toBeNull();
    // Steady traffic stays close to its centroid.
    for (const i of [1, 2, 3, 5]) expect(rows[i]![3] as number).toBeLessThan(0.1);
    expect(rows[4]![3] as number).toBeGreaterThan(0.3);

    const alerts = h.rows('alert');
    expect(alerts).toHaveLength(1);
    const [ws, we, id, distance, nearest, top] = alerts[0]! as [
      number,
      number,
      number,
      number,
      number,
      { feature: string; value: number; centroid: number; contribution: number }[],
    ];
    expect([ws, we, id, nearest]).toEqual([T0 + 4 * MIN, T0 + 5 * MIN, 2, 1]);
    expect(distance).toBe(rows[4]![3]);
    expect(top).toHaveLength(4); // only four features differ; severity is the same
    expect(top[0]).toEqual({ feature: 'eventType=BGP-ADJCHANGE', value: 0.6, centroid: 0, contribution: expect.closeTo(0.36, 10) });
    expect(top[1]!.feature).toBe('eventType=LINK-UPDOWN');
    expect(top[1]!.value).toBeCloseTo(0.2, 10);
    expect(top[1]!.centroid).toBeCloseTo(0.475, 10);
    expect(top.map((t) => t.feature).slice(2)).toEqual(['eventType=SYS-CONFIG_I', 'eventType=SEC-LOGIN']);
    expect(h.context.counted('clusters', 'new')).toBe(2);
    expect(h.context.counted('clusters', 'joined')).toBe(4);
    expect(h.context.counted('windows')).toBe(6);
  });

  it('a stop leaves the window in progress open (not scored, not learned); the end of input closes it', () => {
    const h = harness({ window: '1m', lateness: '0s' });
    h.bolt.executeBatch([...windowEvents(T0, NORMAL), ...windowEvents(T0 + MIN, NORMAL2).slice(0, 3)]);
    h.bolt.finish({ stopped: true });
    // The first window closed as time passed it; the second, cut short by the stop, stays open.
    expect(h.context.counted('windows')).toBe(1);
    const s = h.context.keyedState<ClusterKeyState>(CLUSTER_STATE).get(GLOBAL_KEY)!;
    expect(s.open).toHaveLength(1);
    expect(s.open[0]!.total).toBe(3);
    expect(s.model.clusters.reduce((n, c) => n + c.windows, 0)).toBe(1);
    h.bolt.finish({ stopped: false });
    expect(h.context.counted('windows')).toBe(2);
    expect(h.context.keyedState<ClusterKeyState>(CLUSTER_STATE).get(GLOBAL_KEY)!.open).toHaveLength(0);
  });

  it('the end of the input scores a window it ended inside only if that covers half its span', () => {
    // The input ends 6 s into its last window, with a few events of another mix: not scored.
    const cut = harness({ window: '1m', lateness: '0s' });
    cut.bolt.executeBatch([...windowEvents(T0, NORMAL), ...windowEvents(T0 + MIN, NORMAL2), event(T0 + 2 * MIN + 1000, 'BGP-ADJCHANGE', 6, 'r1')]);
    cut.bolt.executeBatch([event(T0 + 2 * MIN + 6000, 'BGP-ADJCHANGE', 6, 'r1')]);
    cut.bolt.finish();
    expect(cut.rows()).toHaveLength(2);
    expect(cut.context.counted('windows', 'incomplete')).toBe(1);
    expect(cut.rows('alert')).toEqual([]);
    expect(cut.context.keyedState<ClusterKeyState>(CLUSTER_STATE).get(GLOBAL_KEY)!.open).toEqual([]);
    // Ended 40 s in: scored, as a window of its own mix.
    const most = harness({ window: '1m', lateness: '0s' });
    most.bolt.executeBatch([...windowEvents(T0, NORMAL), ...windowEvents(T0 + MIN, NORMAL2), ...windowEvents(T0 + 2 * MIN, SHIFTED).slice(0, 14)]);
    most.bolt.finish();
    expect(most.rows()).toHaveLength(3);
    expect(most.context.counted('windows', 'incomplete')).toBe(0);
    expect(most.rows('alert')).toHaveLength(1);
  });

  it('moves the centroid to the running mean of the windows that joined, and with decay towards the latest', () => {
    const h = harness({ window: '1m', lateness: '0s' });
    h.bolt.executeBatch([...windowEvents(T0, NORMAL), ...windowEvents(T0 + MIN, NORMAL2), ...windowEvents(T0 + 2 * MIN, NORMAL2)]);
    h.bolt.finish();
    const s = h.context.keyedState<ClusterKeyState>(CLUSTER_STATE).get(GLOBAL_KEY)!;
    expect(s.model.clusters).toHaveLength(1);
    const c = s.model.clusters[0]!;
    expect(c.windows).toBe(3);
    expect(c.centroid['eventType=LINK-UPDOWN']).toBeCloseTo((0.5 + 0.45 + 0.45) / 3, 12);
    expect(c.centroid['eventType=SYS-CONFIG_I']).toBeCloseTo((0.3 + 0.35 + 0.35) / 3, 12);
    expect(c.centroid['severity=info']).toBeCloseTo(1, 12);

    const d = harness({ window: '1m', lateness: '0s', decay: 0.5 });
    d.bolt.executeBatch([...windowEvents(T0, NORMAL), ...windowEvents(T0 + MIN, NORMAL2), ...windowEvents(T0 + 2 * MIN, NORMAL2)]);
    d.bolt.finish();
    const dc = d.context.keyedState<ClusterKeyState>(CLUSTER_STATE).get(GLOBAL_KEY)!.model.clusters[0]!;
    // weights 1 -> 1.5 -> 1.75; the later windows weigh more than in a plain mean.
    expect(dc.weight).toBeCloseTo(1.75, 12);
    expect(dc.centroid['eventType=LINK-UPDOWN']!).toBeLessThan(c.centroid['eventType=LINK-UPDOWN']!);
  });

  it('keeps one model per host in keyed state, with the host first on both streams', () => {
    const h = harness({ window: '1m', lateness: '0s', keyBy: 'host' });
    expect(clusterOutputs(h.bolt.config).default[0]).toBe('host');
    const batch: TestTuple[] = [];
    [NORMAL, NORMAL2, SHIFTED].forEach((mix, i) => {
      batch.push(...windowEvents(T0 + i * MIN, mix, 'r1'));
    });
    // r2's normal is r1's shifted mix: for r2 that is nothing new; then it shifts to r1's normal.
    [SHIFTED, SHIFTED, NORMAL].forEach((mix, i) => {
      batch.push(...windowEvents(T0 + i * MIN, mix, 'r2'));
    });
    batch.sort((a, b) => (a.values[EVENT.time] as number) - (b.values[EVENT.time] as number));
    h.bolt.executeBatch(batch);
    h.bolt.finish();
    const byHost = (host: string) =>
      h
        .rows()
        .filter((r) => r[0] === host)
        .map((r) => [r[3], r[5]]);
    expect(byHost('r1')).toEqual([
      [1, true],
      [1, false],
      [2, true],
    ]);
    expect(byHost('r2')).toEqual([
      [1, true],
      [1, false],
      [2, true],
    ]);
    const alerts = h.rows('alert');
    expect(alerts.map((a) => [a[0], a[3], a[5]])).toEqual([
      ['r1', 2, 1],
      ['r2', 2, 1],
    ]);
    expect((alerts[0]![6] as { feature: string }[])[0]!.feature).toBe('eventType=BGP-ADJCHANGE');
    expect((alerts[1]![6] as { feature: string; value: number }[])[0]).toMatchObject({ feature: 'eventType=BGP-ADJCHANGE', value: 0 });
    const state = h.context.keyedState<ClusterKeyState>(CLUSTER_STATE);
    expect([...state.keys()].sort()).toEqual(['r1', 'r2']);
  });

  it('gives the same decisions after its keyed state is snapshotted and restored into a new task', () => {
    const cfg = { window: '1m', lateness: '0s', keyBy: 'host', threshold: 0.25 };
    const mixesR1 = [NORMAL, NORMAL2, NORMAL, SHIFTED, SHIFTED, NORMAL, NORMAL2];
    const mixesR2 = [SHIFTED, SHIFTED, NORMAL, SHIFTED, { 'OSPF-NBR': 20 }, NORMAL2, SHIFTED];
    const all: TestTuple[] = [];
    mixesR1.forEach((m, i) => {
      all.push(...windowEvents(T0 + i * MIN, m, 'r1'));
    });
    mixesR2.forEach((m, i) => {
      all.push(...windowEvents(T0 + i * MIN, m, 'r2', 3));
    });
    all.sort((a, b) => (a.values[EVENT.time] as number) - (b.values[EVENT.time] as number));
    // Cut in the middle of window 3, so that open windows travel too.
    const cut = all.findIndex((t) => (t.values[EVENT.time] as number) >= T0 + 3 * MIN + 30_000);

    const whole = harness(cfg);
    whole.bolt.executeBatch(all.slice(0, cut));
    const before = whole.collector.emits.length;
    whole.bolt.executeBatch(all.slice(cut));
    whole.bolt.finish();
    const expected = whole.collector.emits.slice(before);

    const first = harness(cfg);
    first.bolt.executeBatch(all.slice(0, cut));
    const snap = structuredClone((first.context.keyedState(CLUSTER_STATE) as KeyGroupedState<ClusterKeyState>).snapshot());
    const second = harness(cfg);
    (second.context.keyedState(CLUSTER_STATE) as KeyGroupedState<ClusterKeyState>).restore(snap);
    second.bolt.executeBatch(all.slice(cut));
    second.bolt.finish();
    expect(second.collector.emits).toEqual(expected);
    expect(expected.filter((e) => e.stream === 'alert').length).toBeGreaterThanOrEqual(2);
  });

  it('counts late events and skips them; windows close on the watermark', () => {
    const h = harness({ window: '1m', lateness: '10s' });
    h.bolt.executeBatch(windowEvents(T0, NORMAL));
    h.bolt.executeBatch([event(T0 + MIN + 5_000, 'SEC-LOGIN')]);
    expect(h.rows()).toHaveLength(0); // watermark T0 + 55s: the first window is still open
    h.bolt.executeBatch([event(T0 + 30_000, 'SEC-LOGIN'), event(T0 + MIN + 15_000, 'SEC-LOGIN')]);
    expect(h.rows()).toHaveLength(1);
    expect(h.rows()[0]![5]).toBe(21); // the 30s event was within lateness
    h.bolt.executeBatch([event(T0 + 40_000, 'SEC-LOGIN')]);
    expect(h.context.counted('late')).toBe(1);
  });

  it('skips an event far ahead of the clock (a device set to 2099): it would have closed every open window', () => {
    const h = harness({ window: '1m', lateness: '10s' });
    h.bolt.executeBatch([...windowEvents(T0, NORMAL), event(Date.UTC(2099, 0, 1), 'SEC-LOGIN')]);
    h.bolt.executeBatch([event(T0 + 30_000, 'SEC-LOGIN')]);
    expect(h.rows()).toHaveLength(0);
    expect(h.context.counted('late')).toBe(0);
    expect(h.context.counted('skipped', 'future_time')).toBe(1);
  });

  it('event time from two parse tasks: the one behind holds the watermark, so its events are not late', () => {
    const h = harness({ window: '1m', lateness: '0s' }, undefined, { parse: [1, 2] });
    const from = (task: number, tuples: TestTuple[]) => tuples.map((t) => new TestTuple(EVENT_FIELDS, t.values, 'default', 'parse', task));
    // Task 1 is three windows ahead of task 2.
    h.bolt.executeBatch(from(1, [...windowEvents(T0, NORMAL), ...windowEvents(T0 + 3 * MIN, NORMAL)]));
    h.bolt.executeBatch(from(2, windowEvents(T0, NORMAL2)));
    expect(h.rows()).toHaveLength(0);
    h.bolt.executeBatch(from(2, windowEvents(T0 + MIN, NORMAL)));
    expect(h.rows().map((r) => [r[0], r[5]])).toEqual([[T0, 40]]); // both tasks' events, none late
    h.bolt.finish();
    expect(h.context.counted('late')).toBe(0);
  });

  it('event time: a feed gone quiet has its last window closed on ticks, idleTimeout after the window end', () => {
    let now = 0;
    const h = harness({ window: '1m', lateness: '0s', idleTimeout: '10s' }, () => now);
    expect(clusterBolt.tickMs?.(h.bolt.config)).toBe(1000);
    const tick = () => h.bolt.executeBatch([new TestTuple([], [], TICK_STREAM, '__system')]);
    h.bolt.executeBatch(windowEvents(T0, NORMAL)); // the last event at T0 + 57 s
    now = 12_999;
    tick();
    expect(h.rows()).toHaveLength(0);
    now = 13_000; // 3 s of window left + 10 s of quiet
    tick();
    expect(h.rows().map((r) => [r[0], r[5]])).toEqual([[T0, 20]]);
    expect(clusterBolt.tickMs?.(configFor(clusterBolt, { idleTimeout: 0 }))).toBeUndefined();
  });

  it('closes processing-time windows on ticks', () => {
    let now = T0 + 1000;
    const h = harness({ window: '1m', time: 'processing' }, () => now);
    expect(clusterBolt.tickMs?.(h.bolt.config)).toBe(1000);
    h.bolt.executeBatch(windowEvents(0, NORMAL)); // event times are ignored
    now = T0 + 59_000;
    h.bolt.executeBatch([new TestTuple([], [], TICK_STREAM, '__system')]);
    expect(h.rows()).toHaveLength(0);
    now = T0 + MIN + 10;
    h.bolt.executeBatch([new TestTuple([], [], TICK_STREAM, '__system')]);
    expect(h.rows().map((r) => [r[0], r[5]])).toEqual([[T0, 20]]);
  });

  it('minEvents: a window with fewer events is neither scored nor learned, and counted', () => {
    const h = harness({ window: '1m', lateness: '0s', minEvents: 5 });
    h.bolt.executeBatch(windowEvents(T0, NORMAL)); // 20 events: learned
    h.bolt.executeBatch([event(T0 + MIN + 1000, 'BGP-ADJCHANGE')]); // one odd line
    h.bolt.executeBatch(windowEvents(T0 + 2 * MIN, NORMAL2));
    h.bolt.finish();
    expect(h.rows().map((r) => [r[0], r[5]])).toEqual([
      [T0, 20],
      [T0 + 2 * MIN, 20],
    ]);
    expect(h.rows('alert')).toEqual([]);
    expect(h.context.counted('windows', 'too_few')).toBe(1);
  });

  it('caps the vocabulary per feature field, summing the rest as (other)', () => {
    const h = harness({ window: '1m', lateness: '0s', maxFeatures: 2, features: ['eventType'] });
    h.bolt.executeBatch(windowEvents(T0, { A: 5, B: 3, C: 1, D: 1 }));
    h.bolt.finish();
    const s = h.context.keyedState<ClusterKeyState>(CLUSTER_STATE).get(GLOBAL_KEY)!;
    expect(s.model.clusters[0]!.centroid).toEqual({ 'eventType=A': 0.5, 'eventType=B': 0.3, 'eventType=(other)': 0.2 });
  });

  it('skips tuples without the fields it needs, with a warning naming them', () => {
    const h = harness({ window: '1m', keyBy: 'device' });
    h.bolt.executeBatch([event(T0, 'X'), event(T0 + 1, 'Y')]);
    expect(h.context.counted('skipped', 'missing_field')).toBe(2);
    expect(h.context.logger.records.filter((r) => r.level === 'warn')).toHaveLength(1);
    expect(h.context.logger.records[0]!.msg).toContain('no field "device"');
  });

  it('measures euclidean and cosine distances', () => {
    expect(euclidean({ a: 1 }, { b: 1 })).toBeCloseTo(Math.SQRT2, 12);
    expect(euclidean({ a: 0.5, b: 0.5 }, { a: 0.5, b: 0.5 })).toBe(0);
    expect(cosine({ a: 1 }, { b: 1 })).toBe(1);
    expect(cosine({ a: 1, b: 1 }, { a: 2, b: 2 })).toBeCloseTo(0, 12);
    const h = harness({ window: '1m', lateness: '0s', distance: 'cosine', threshold: 0.1 });
    [NORMAL, NORMAL2, SHIFTED].forEach((mix, i) => {
      h.bolt.executeBatch(windowEvents(T0 + i * MIN, mix));
    });
    h.bolt.finish();
    expect(h.rows().map((r) => r[2])).toEqual([1, 1, 2]);
  });

  it('every spec example is a valid config', () => {
    for (const ex of clusterBolt.spec.examples ?? []) {
      const entry = parse(ex.yaml) as { type: string; config: unknown };
      expect(entry.type).toBe('cluster');
      expect(validateConfig(clusterBolt.spec.fields, entry.config).issues).toEqual([]);
    }
  });
});
