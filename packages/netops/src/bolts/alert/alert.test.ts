import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { EVENT, EVENT_FIELDS } from '../../syslog/event.js';
import { configFor, FakeTopologyContext, RecordingOutputCollector, TestTuple } from '../../testkit.js';
import { CLUSTER_ALERT_FIELDS } from '../cluster/index.js';
import { TOPN_FIELDS } from '../topn/index.js';
import { ALERT_FIELDS, AlertBolt, alertBolt, StrategyConfigError } from './index.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);

class Lines extends Writable {
  text = '';
  override _write(chunk: unknown, _enc: BufferEncoding, cb: () => void): void {
    this.text += String(chunk);
    cb();
  }
}

function ev(time: number, eventType: string | null, host = 'r1', severity = 6, task = 1): TestTuple {
  const v: unknown[] = new Array(EVENT_FIELDS.length).fill(null);
  v[EVENT.time] = time;
  v[EVENT.host] = host;
  v[EVENT.severity] = severity;
  v[EVENT.eventType] = eventType;
  return new TestTuple(EVENT_FIELDS, v, 'default', 'parse', task);
}

/** `n` events a second apart from `start`. */
function burst(start: number, n: number, eventType: string, host = 'r1', severity = 6): TestTuple[] {
  return Array.from({ length: n }, (_, i) => ev(start + i * 1000, eventType, host, severity));
}

function clusterAlert(host: string, windowStart: number, distance: number): TestTuple {
  const top = [{ feature: 'eventType=BGP-ADJCHANGE', value: 0.6, centroid: 0, contribution: 0.36 }];
  return new TestTuple(['host', ...CLUSTER_ALERT_FIELDS], [host, windowStart, windowStart + 5 * MIN, 2, distance, 1, top], 'alert', 'behaviour');
}

function ranking(dimension: string, windowStart: number, keys: string[]): TestTuple {
  const r = keys.map((key, i) => ({ key, count: 1000 - i * 10, error: 0 }));
  return new TestTuple(TOPN_FIELDS, [dimension, windowStart, windowStart + MIN, r, 50_000, 800, 0, true, true, true, windowStart + MIN], 'default', 'top');
}

async function harness(
  raw: Record<string, unknown>,
  restoredStates?: ReturnType<FakeTopologyContext['snapshotStates']>,
  componentTasks?: Record<string, readonly number[]>,
) {
  const config = configFor(alertBolt, raw);
  const out = new Lines();
  const bolt = new AlertBolt(config, out);
  const context = new FakeTopologyContext({
    config,
    componentId: 'alerts',
    outputs: { default: [...ALERT_FIELDS] },
    ...(restoredStates ? { restoredStates } : {}),
    ...(componentTasks ? { componentTasks } : {}),
  });
  const collector = new RecordingOutputCollector();
  bolt.prepare(context, collector);
  const alerts = () => collector.emits.map((e) => Object.fromEntries(ALERT_FIELDS.map((f, i) => [f, e.values[i]])) as Record<string, unknown>);
  return { bolt, context, collector, alerts, out };
}

describe('alert bolt: restarts', () => {
  it('window counts, suppression and Top-N entries live in keyed state: a restarted bolt goes on counting and does not page again', async () => {
    const strategies = [
      { name: 'link-flap', severity: 'major', suppress: '30m', threshold: { where: { eventType: 'LINK-UPDOWN' }, window: '5m', count: 10, by: ['host'] } },
      { name: 'watch', severity: 'minor', 'topn-entry': { dimension: 'source', watch: ['10.0.0.9'], top: 3 } },
    ];
    const before = await harness({ strategies });
    before.bolt.executeBatch([...burst(T0, 10, 'LINK-UPDOWN', 'r1'), ...burst(T0, 6, 'LINK-UPDOWN', 'r2')]);
    before.bolt.executeBatch([ranking('source', T0, ['10.0.0.1', '10.0.0.9'])]);
    expect(before.alerts().map((a) => [a.strategy, a.key])).toEqual([
      ['link-flap', 'r1'],
      ['watch', 'source=10.0.0.9'],
    ]);
    // A new bolt (a replacement thread, or a new process with --state-dir) from the copy of its state.
    const after = await harness({ strategies }, before.context.snapshotStates());
    after.bolt.executeBatch([...burst(T0 + 60_000, 4, 'LINK-UPDOWN', 'r2'), ...burst(T0 + 5 * MIN, 10, 'LINK-UPDOWN', 'r1')]);
    after.bolt.executeBatch([ranking('source', T0 + MIN, ['10.0.0.9', '10.0.0.1'])]);
    // r2 reaches 10 with the 6 counted before the restart; r1 is suppressed in its next window;
    // 10.0.0.9 was in the previous ranking already.
    expect(after.alerts().map((a) => [a.strategy, a.key, a.time])).toEqual([['link-flap', 'r2', T0 + 63_000]]);
    expect(after.context.counted('suppressed', 'link-flap')).toBe(1);
  });
});

describe('alert bolt: threshold', () => {
  const strategies = [
    { name: 'link-flap', severity: 'major', suppress: '0s', threshold: { where: { eventType: 'LINK-UPDOWN' }, window: '5m', count: 10, by: ['host'] } },
  ];

  it('fires once when a key reaches the count in a window, and not at one less', async () => {
    const h = await harness({ strategies });
    h.bolt.executeBatch([...burst(T0, 9, 'LINK-UPDOWN', 'r1'), ...burst(T0, 12, 'LINK-UPDOWN', 'r2'), ...burst(T0, 20, 'SEC-LOGIN', 'r1')]);
    expect(h.alerts()).toEqual([
      {
        time: T0 + 9000,
        strategy: 'link-flap',
        severity: 'major',
        key: 'r2',
        summary: '10 matching events in the 5m window from 2024-05-01T10:00:00.000Z (threshold 10)',
        details: { windowStart: T0, windowEnd: T0 + 5 * MIN, count: 10, threshold: 10, by: { host: 'r2' } },
      },
    ]);
    // The alert is anchored to the event that crossed the threshold.
    expect(h.collector.emits[0]!.anchors).toBeUndefined();
    // A later window starts from zero again.
    h.bolt.executeBatch(burst(T0 + 5 * MIN, 10, 'LINK-UPDOWN', 'r1'));
    expect(h.alerts().map((a) => [a.key, a.time])).toEqual([
      ['r2', T0 + 9000],
      ['r1', T0 + 5 * MIN + 9000],
    ]);
    expect(h.context.counted('alerts', 'link-flap')).toBe(2);
  });

  it('matches severities by number, keyword, list and range, and event types by pattern', async () => {
    const h = await harness({
      strategies: [
        { name: 'crit', severity: 'critical', suppress: '0s', threshold: { where: { severity: { max: 'crit' } }, window: '1m', count: 2 } },
        {
          name: 'errs',
          suppress: '0s',
          threshold: { where: { severity: ['err', 4], eventType: '/^OSPF-/' }, window: '1m', count: 1, by: ['host', 'eventType'] },
        },
      ],
    });
    h.bolt.executeBatch([
      ev(T0, 'X', 'r1', 3),
      ev(T0 + 1, 'X', 'r1', 2),
      ev(T0 + 2, 'BGP', 'r1', 4),
      ev(T0 + 3, 'OSPF-NBR', 'r1', 5),
      ev(T0 + 4, 'OSPF-NBR', 'r2', 4),
    ]);
    expect(h.alerts().map((a) => [a.strategy, a.severity, a.key])).toEqual([['errs', 'warning', 'r2|OSPF-NBR']]);
    h.bolt.executeBatch([ev(T0 + 5, 'Y', 'r3', 0)]);
    expect(h.alerts().map((a) => [a.strategy, a.key])).toEqual([
      ['errs', 'r2|OSPF-NBR'],
      ['crit', '*'],
    ]);
  });

  it('suppresses the same strategy and key within `suppress`, counting what it suppressed', async () => {
    const h = await harness({ suppress: '10m', strategies: [{ ...strategies[0], suppress: undefined }] });
    for (let w = 0; w < 4; w++) h.bolt.executeBatch(burst(T0 + w * 5 * MIN, 10, 'LINK-UPDOWN', 'r1'));
    h.bolt.executeBatch(burst(T0, 10, 'LINK-UPDOWN', 'r9'));
    // r1 fires at 0:09, is suppressed at 5:09, fires at 10:09 (10m after), suppressed at 15:09; r9 is another key.
    expect(h.alerts().map((a) => [a.key, (a.time as number) - T0])).toEqual([
      ['r1', 9000],
      ['r1', 10 * MIN + 9000],
      ['r9', 9000],
    ]);
    expect(h.context.counted('suppressed', 'link-flap')).toBe(2);
  });

  it('a late event of the previous window still completes its threshold, once', async () => {
    // Two upstream tasks: one is already in the next window while the other still sends the
    // first window's last events.
    const h = await harness({ strategies });
    h.bolt.executeBatch([...burst(T0, 8, 'LINK-UPDOWN', 'r1'), ev(T0 + 5 * MIN, 'LINK-UPDOWN', 'r1')]);
    expect(h.alerts()).toEqual([]);
    h.bolt.executeBatch([ev(T0 + 100_000, 'LINK-UPDOWN', 'r1'), ev(T0 + 101_000, 'LINK-UPDOWN', 'r1')]);
    expect(h.alerts().map((a) => [a.key, a.time, (a.details as { windowStart: number }).windowStart, (a.details as { count: number }).count])).toEqual([
      ['r1', T0 + 101_000, T0, 10],
    ]);
    // More late events of that window do not page again, and the new window counts on its own.
    h.bolt.executeBatch([...burst(T0 + 200_000, 3, 'LINK-UPDOWN', 'r1'), ...burst(T0 + 5 * MIN + 1000, 8, 'LINK-UPDOWN', 'r1')]);
    expect(h.alerts().map((a) => (a.details as { windowStart: number }).windowStart)).toEqual([T0]);
    h.bolt.executeBatch([ev(T0 + 5 * MIN + 9000, 'LINK-UPDOWN', 'r1')]);
    expect(h.alerts().map((a) => (a.details as { windowStart: number }).windowStart)).toEqual([T0, T0 + 5 * MIN]);
    expect(h.context.counted('late')).toBe(0);
  });

  it('with lateness, an older window stays open: upstream tasks drifting apart by more than a window lose nothing', async () => {
    // One parser is already 15 minutes (three 5m windows) ahead of the one that sends r1's burst.
    // (Batch by batch: within one batch events are counted in event-time order.)
    const ahead = [ev(T0 + 15 * MIN, 'LINK-UPDOWN', 'r1'), ev(T0 + 15 * MIN + 1000, 'LINK-UPDOWN', 'r1')];
    const without = await harness({ strategies });
    for (const batch of [burst(T0, 5, 'LINK-UPDOWN', 'r1'), ahead, burst(T0 + 5000, 5, 'LINK-UPDOWN', 'r1')]) without.bolt.executeBatch(batch);
    expect(without.alerts()).toEqual([]);
    expect(without.context.counted('late')).toBe(5);
    const h = await harness({ strategies, lateness: '15m' });
    for (const batch of [burst(T0, 5, 'LINK-UPDOWN', 'r1'), ahead, burst(T0 + 5000, 5, 'LINK-UPDOWN', 'r1')]) h.bolt.executeBatch(batch);
    expect(h.alerts().map((a) => [(a.details as { windowStart: number }).windowStart, (a.details as { count: number }).count])).toEqual([[T0, 10]]);
    expect(h.context.counted('late')).toBe(0);
    // Once the newest window is more than `lateness` past that window's end, it is closed.
    h.bolt.executeBatch([ev(T0 + 16 * MIN, 'LINK-UPDOWN', 'r1')]);
    h.bolt.executeBatch([ev(T0 + 1000, 'LINK-UPDOWN', 'r1')]);
    expect(h.context.counted('late')).toBe(0);
    h.bolt.executeBatch([ev(T0 + 20 * MIN, 'LINK-UPDOWN', 'r1')]);
    h.bolt.executeBatch([ev(T0 + 2000, 'LINK-UPDOWN', 'r1')]);
    expect(h.context.counted('late')).toBe(1);
    expect(h.alerts()).toHaveLength(1);
  });

  it('a window stays open until every parse task is past it: a replay split over two tasks hours apart loses nothing', async () => {
    // A replay: parse task 2 got a batch two hours later in the file than task 1's, and its
    // events for r1 arrive first. Task 1's burst is late for r1's newest window, not for the
    // watermark (the lowest of the tasks' newest event times).
    const h = await harness({ strategies }, undefined, { parse: [1, 2] });
    const fromTask = (task: number, events: TestTuple[]) => events.map((e) => new TestTuple(e.fields, e.values, e.stream, e.sourceComponent, task));
    h.bolt.executeBatch(fromTask(2, burst(T0 + 120 * MIN, 3, 'LINK-UPDOWN', 'r1')));
    h.bolt.executeBatch(fromTask(1, burst(T0, 10, 'LINK-UPDOWN', 'r1')));
    expect(h.alerts().map((a) => [a.key, (a.details as { windowStart: number }).windowStart, (a.details as { count: number }).count])).toEqual([
      ['r1', T0, 10],
    ]);
    expect(h.context.counted('late')).toBe(0);
    // Both tasks move on past that window: now it is closed, and one more of task 1's events is late.
    h.bolt.executeBatch(fromTask(1, [ev(T0 + 150 * MIN, 'LINK-UPDOWN', 'r2')]));
    h.bolt.executeBatch(fromTask(2, [ev(T0 + 150 * MIN, 'LINK-UPDOWN', 'r3')]));
    h.bolt.executeBatch(fromTask(1, [ev(T0 + 1000, 'LINK-UPDOWN', 'r1')]));
    expect(h.context.counted('late')).toBe(1);
    // The same replay as before this rule (one task, or windows closed by the key's newest alone) loses the burst.
    const one = await harness({ strategies });
    one.bolt.executeBatch(burst(T0 + 120 * MIN, 3, 'LINK-UPDOWN', 'r1'));
    one.bolt.executeBatch(burst(T0, 10, 'LINK-UPDOWN', 'r1'));
    expect(one.alerts()).toEqual([]);
    expect(one.context.counted('late')).toBe(10);
  });

  it("a key's window stays open whatever other keys' clocks say: a device an hour ahead does not reset the others", async () => {
    const h = await harness({ strategies });
    // r1's burst is split by an event of a device whose clock runs an hour ahead.
    h.bolt.executeBatch([...burst(T0, 6, 'LINK-UPDOWN', 'r1'), ev(T0 + 60 * MIN, 'LINK-UPDOWN', 'skewed'), ...burst(T0 + 6000, 4, 'LINK-UPDOWN', 'r1')]);
    expect(h.alerts().map((a) => [a.key, (a.details as { count: number }).count])).toEqual([['r1', 10]]);
    expect(h.context.counted('late')).toBe(0);
  });

  it('forgets a key once it is silent for two windows (and lateness) in event time and on the wall clock', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(T0);
      const h = await harness({ strategies });
      h.bolt.executeBatch(burst(T0, 9, 'LINK-UPDOWN', 'r1'));
      // Far ahead in event time, but r1 spoke a moment ago: kept, its 10th event fires.
      vi.setSystemTime(T0 + 1000);
      h.bolt.executeBatch([ev(T0 + 30 * MIN, 'LINK-UPDOWN', 'r2'), ev(T0 + 10_000, 'LINK-UPDOWN', 'r1')]);
      expect(h.alerts().map((a) => a.key)).toEqual(['r1']);
      const counted = () => JSON.stringify(h.context.snapshotStates()['counts/link-flap']);
      expect(counted()).toContain('"r1"');
      // Silent for 10 minutes on the wall clock too: the next sweep forgets it.
      vi.setSystemTime(T0 + 11 * MIN);
      h.bolt.executeBatch([ev(T0 + 60 * MIN, 'LINK-UPDOWN', 'r2')]);
      expect(counted()).not.toContain('"r1"');
      expect(counted()).toContain('"r2"');
    } finally {
      vi.useRealTimers();
    }
  });

  it('counts late events and skips input it does not know', async () => {
    const h = await harness({ strategies });
    h.bolt.executeBatch(burst(T0 + 10 * MIN, 3, 'LINK-UPDOWN'));
    h.bolt.executeBatch([ev(T0, 'LINK-UPDOWN'), new TestTuple(['foo'], [1], 'default', 'odd')]);
    expect(h.context.counted('late')).toBe(1);
    expect(h.context.counted('skipped', 'unknown_input')).toBe(1);
    expect(h.context.logger.records.some((r) => r.msg.includes('"odd"'))).toBe(true);
  });
});

describe('alert bolt: rate-of-change', () => {
  const strategies = [
    { name: 'surge', severity: 'minor', 'rate-of-change': { where: { eventType: 'SEC-LOGIN_FAILED' }, window: '5m', factor: 3, minCount: 20, by: ['host'] } },
  ];

  it("fires when a window reaches factor x the previous one, not one event short, and not in a key's first window", async () => {
    const h = await harness({ strategies });
    h.bolt.executeBatch(burst(T0, 40, 'SEC-LOGIN_FAILED', 'r1')); // r1's first window: a baseline, however many
    h.bolt.executeBatch(burst(T0, 10, 'SEC-LOGIN_FAILED', 'r2'));
    h.bolt.executeBatch(burst(T0 + 5 * MIN, 29, 'SEC-LOGIN_FAILED', 'r2'));
    expect(h.alerts()).toEqual([]);
    h.bolt.executeBatch(burst(T0 + 5 * MIN + 29_000, 1, 'SEC-LOGIN_FAILED', 'r2'));
    expect(h.alerts().map((a) => [a.key, a.summary])).toEqual([
      ['r2', '30 matching events in the 5m window from 2024-05-01T10:05:00.000Z against 10 in the previous one (x3.0), factor 3'],
    ]);
    expect(h.alerts()[0]!.details).toMatchObject({ count: 30, previous: 10, ratio: 3, by: { host: 'r2' } });
  });

  it('a key silent for two whole windows starts over in event time, so a replay raises what a live run does', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      for (const wallClockGap of [0, 11 * MIN]) {
        vi.setSystemTime(T0);
        const h = await harness({ strategies });
        h.bolt.executeBatch(burst(T0, 10, 'SEC-LOGIN_FAILED', 'r1'));
        h.bolt.executeBatch(burst(T0 + 5 * MIN, 10, 'SEC-LOGIN_FAILED', 'r1'));
        // Nothing in 10:10 and 10:15; 10:20 is a first window again, a baseline. A replay (no
        // wall-clock gap) kept r1's counter and compared 30 with the empty 10:15 window.
        vi.setSystemTime(T0 + wallClockGap);
        h.bolt.executeBatch(burst(T0 + 20 * MIN, 30, 'SEC-LOGIN_FAILED', 'r1'));
        expect(h.alerts()).toEqual([]);
        // Its next window is compared with it.
        h.bolt.executeBatch(burst(T0 + 25 * MIN, 90, 'SEC-LOGIN_FAILED', 'r1'));
        expect(h.alerts().map((a) => a.details)).toMatchObject([{ count: 90, previous: 30 }]);
      }
    } finally {
      vi.useRealTimers();
    }
  });

  it('needs minCount even after a quiet window', async () => {
    const h = await harness({ strategies });
    h.bolt.executeBatch(burst(T0, 1, 'SEC-LOGIN_FAILED', 'r1'));
    h.bolt.executeBatch(burst(T0 + 10 * MIN, 19, 'SEC-LOGIN_FAILED', 'r1')); // previous window (5m) was empty
    expect(h.alerts()).toEqual([]);
    h.bolt.executeBatch(burst(T0 + 10 * MIN + 19_000, 1, 'SEC-LOGIN_FAILED', 'r1'));
    expect(h.alerts().map((a) => a.details)).toMatchObject([{ count: 20, previous: 0, ratio: null }]);
  });
});

describe('alert bolt: several upstream tasks, decided in event-time order', () => {
  const fromTask = (task: number, events: TestTuple[]) => events.map((e) => new TestTuple(e.fields, e.values, e.stream, e.sourceComponent, task));
  /** A replay parsed by two tasks: each gets every other event, and sends its share in batches of `size`. */
  function interleaved(events: TestTuple[], size: number): TestTuple[][] {
    const shares = [events.filter((_, i) => i % 2 === 0), events.filter((_, i) => i % 2 === 1)];
    const batches: TestTuple[][] = [];
    for (let at = 0; at < Math.max(shares[0]!.length, shares[1]!.length); at += size) {
      for (const task of [0, 1]) {
        const part = shares[task]!.slice(at, at + size);
        if (part.length > 0) batches.push(fromTask(task + 1, part));
      }
    }
    return batches;
  }

  it("rate-of-change compares whole windows, not one task's share of them", async () => {
    const strategies = [
      { name: 'surge', severity: 'minor', 'rate-of-change': { where: { eventType: 'LINK-UPDOWN' }, window: '1m', factor: 3, minCount: 20, by: ['host'] } },
    ];
    // 10 events in 10:01, 30 in 10:02: a surge of x3. Each task sends 20 at a time, so in arrival
    // order one task's 10:02 share (15) came before the other's 10:01 events.
    const events = [
      ...burst(T0 + MIN, 10, 'LINK-UPDOWN'),
      ...burst(T0 + 2 * MIN, 30, 'LINK-UPDOWN').map((_e, i) => ev(T0 + 2 * MIN + i * 1500, 'LINK-UPDOWN')),
    ];
    const h = await harness({ strategies }, undefined, { parse: [1, 2] });
    for (const batch of interleaved(events, 20)) h.bolt.executeBatch(batch);
    h.bolt.finish();
    expect(h.alerts().map((a) => [a.time, (a.details as { count: number }).count, (a.details as { previous: number }).previous])).toEqual([
      [T0 + 2 * MIN + 29 * 1500, 30, 10],
    ]);
  });

  it("a threshold alert's time is when the count was reached in event time, whatever order the tasks' batches came in", async () => {
    const strategies = [{ name: 'flap', severity: 'major', threshold: { where: { eventType: 'LINK-UPDOWN' }, window: '5m', count: 10, by: ['host'] } }];
    const events = burst(T0, 20, 'LINK-UPDOWN');
    const one = await harness({ strategies });
    one.bolt.executeBatch(events);
    const two = await harness({ strategies }, undefined, { parse: [1, 2] });
    // Every batch of task 2 (the odd seconds) before task 1's: in arrival order the 10th event was T0 + 19 s.
    const batches = interleaved(events, 3);
    for (const batch of [...batches.filter((b) => b[0]!.sourceTask === 2), ...batches.filter((b) => b[0]!.sourceTask === 1)]) two.bolt.executeBatch(batch);
    two.bolt.finish();
    expect(one.alerts().map((a) => a.time)).toEqual([T0 + 9000]);
    expect(two.alerts().map((a) => a.time)).toEqual([T0 + 9000]);
  });

  it('holds events until every task has passed them, a quiet task for at most 10 s, and counts what is held at the end', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(T0);
      const strategies = [{ name: 'flap', severity: 'major', threshold: { where: { eventType: 'LINK-UPDOWN' }, window: '5m', count: 3, by: ['host'] } }];
      const h = await harness({ strategies }, undefined, { parse: [1, 2] });
      h.bolt.executeBatch(fromTask(1, burst(T0, 3, 'LINK-UPDOWN')));
      expect(h.alerts()).toEqual([]); // task 2 has not said where it is yet
      vi.setSystemTime(T0 + 10_000);
      h.bolt.executeBatch([]); // a tick
      expect(h.alerts().map((a) => a.time)).toEqual([T0 + 2000]);
      // What is still held when the input ends is counted then.
      const ended = await harness({ strategies }, undefined, { parse: [1, 2] });
      ended.bolt.executeBatch(fromTask(1, burst(T0, 3, 'LINK-UPDOWN')));
      expect(ended.alerts()).toEqual([]);
      ended.bolt.finish();
      expect(ended.alerts().map((a) => a.time)).toEqual([T0 + 2000]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('idleTimeout sets how long a quiet task holds events back', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(T0);
      const strategies = [{ name: 'flap', severity: 'major', threshold: { where: { eventType: 'LINK-UPDOWN' }, window: '5m', count: 3, by: ['host'] } }];
      const h = await harness({ strategies, idleTimeout: '2s' }, undefined, { parse: [1, 2] });
      h.bolt.executeBatch(fromTask(1, burst(T0, 3, 'LINK-UPDOWN')));
      vi.setSystemTime(T0 + 1999);
      h.bolt.executeBatch([]);
      expect(h.alerts()).toEqual([]);
      vi.setSystemTime(T0 + 2000);
      h.bolt.executeBatch([]);
      expect(h.alerts().map((a) => a.time)).toEqual([T0 + 2000]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('held events are keyed state: a restarted bolt counts them', async () => {
    const strategies = [{ name: 'flap', severity: 'major', threshold: { where: { eventType: 'LINK-UPDOWN' }, window: '5m', count: 3, by: ['host'] } }];
    const h = await harness({ strategies }, undefined, { parse: [1, 2] });
    h.bolt.executeBatch(fromTask(1, burst(T0, 2, 'LINK-UPDOWN')));
    const restarted = await harness({ strategies }, h.context.snapshotStates(), { parse: [1, 2] });
    restarted.bolt.executeBatch(fromTask(2, burst(T0 + 5000, 1, 'LINK-UPDOWN')));
    restarted.bolt.finish();
    expect(restarted.alerts().map((a) => [a.key, a.time])).toEqual([['r1', T0 + 5000]]);
  });
});

describe('alert bolt: new-cluster and topn-entry', () => {
  it('raises new-cluster alerts from the cluster bolt, keyed by its key, above minDistance only', async () => {
    const h = await harness({ strategies: [{ name: 'new-behaviour', severity: 'warning', 'new-cluster': { minDistance: 0.4 } }] });
    h.bolt.executeBatch([clusterAlert('r1', T0, 0.39), clusterAlert('r2', T0, 0.55)]);
    const a = h.alerts();
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ time: T0 + 5 * MIN, strategy: 'new-behaviour', key: 'r2' });
    expect(a[0]!.summary).toBe(
      'new behaviour on r2 in the window from 2024-05-01T10:00:00.000Z: cluster 2 is 0.550 from cluster 1; eventType=BGP-ADJCHANGE 0.60 (usually 0.00)',
    );
    expect(a[0]!.details).toMatchObject({ cluster: 2, nearest: 1, distance: 0.55, source: 'behaviour' });
  });

  it('raises topn-entry when a watched key enters the Top-N, not while it stays, and not below the cut', async () => {
    const h = await harness({
      strategies: [
        { name: 'watched', severity: 'critical', suppress: '0s', 'topn-entry': { dimension: 'srcIp', watch: ['10.9.9.9', '/^203\\.0\\.113\\./'], top: 3 } },
      ],
    });
    h.bolt.executeBatch([ranking('srcIp', T0, ['1.1.1.1', '2.2.2.2', '3.3.3.3', '10.9.9.9'])]); // 4th: below the cut
    h.bolt.executeBatch([ranking('dstIp', T0, ['10.9.9.9'])]); // another dimension
    expect(h.alerts()).toEqual([]);
    h.bolt.executeBatch([ranking('srcIp', T0 + MIN, ['1.1.1.1', '203.0.113.7', '10.9.9.9'])]);
    expect(h.alerts().map((a) => [a.key, a.summary])).toEqual([
      ['srcIp=203.0.113.7', '203.0.113.7 entered the Top-3 of srcIp at #2 with 990 of 50000 events in the window from 2024-05-01T10:01:00.000Z'],
      ['srcIp=10.9.9.9', '10.9.9.9 entered the Top-3 of srcIp at #3 with 980 of 50000 events in the window from 2024-05-01T10:01:00.000Z'],
    ]);
    h.bolt.executeBatch([ranking('srcIp', T0 + 2 * MIN, ['10.9.9.9', '1.1.1.1'])]); // stays: nothing new
    h.bolt.executeBatch([ranking('srcIp', T0 + 3 * MIN, ['1.1.1.1', '203.0.113.7'])]); // re-enters
    expect(h.alerts().map((a) => a.key)).toEqual(['srcIp=203.0.113.7', 'srcIp=10.9.9.9', 'srcIp=203.0.113.7']);
  });
});

describe('alert bolt: topn-entry dimension check', () => {
  it('warns once, naming the dimensions there are, when a strategy watches one its Top-N source does not rank', async () => {
    const h = await harness({
      strategies: [
        { name: 'typo', severity: 'minor', 'topn-entry': { dimension: 'sources', watch: ['10.9.9.9'] } },
        { name: 'ok', severity: 'minor', 'topn-entry': { dimension: 'source', watch: ['10.9.9.9'] } },
      ],
    });
    const warnings = () => h.context.logger.records.filter((r) => r.level === 'warn').map((r) => r.msg);
    h.bolt.executeBatch([ranking('source', T0, ['1.1.1.1']), ranking('port', T0, ['22'])]);
    expect(warnings()).toEqual([]); // the first window may not be complete yet
    h.bolt.executeBatch([ranking('source', T0 + MIN, ['10.9.9.9']), ranking('port', T0 + MIN, ['22'])]);
    expect(warnings()).toEqual([
      'alert bolt "alerts": strategy "typo" watches Top-N dimension "sources", which "top" does not rank (it ranks "source", "port"): the strategy cannot fire; check the dimension name',
    ]);
    h.bolt.executeBatch([ranking('source', T0 + 2 * MIN, ['1.1.1.1'])]);
    expect(warnings()).toHaveLength(1);
    expect(h.alerts().map((a) => a.strategy)).toEqual(['ok']);
  });
});

describe('alert bolt: config and notifiers', () => {
  it('rejects bad strategies with the place and a suggestion', () => {
    const bad = (strategies: unknown, notify?: unknown) => () => alertBolt.create(configFor(alertBolt, { strategies, notify }));
    expect(bad([{ name: 'a', threshold: { window: '5m', count: 1, wher: {} } }])).toThrow(
      'strategies[0].threshold.wher: unknown key "wher"; did you mean "where"?',
    );
    expect(bad([{ name: 'a', threshold: { window: '5m' } }])).toThrow('strategies[0].threshold.count: missing count');
    expect(bad([{ name: 'a', severity: 'majr', threshold: { window: '5m', count: 1 } }])).toThrow('did you mean "major"?');
    expect(bad([{ name: 'a', threshold: { window: '5m', count: 1, where: { severity: 'eror' } } }])).toThrow(
      'strategies[0].threshold.where.severity: "eror" is not one of emerg, alert, crit, err',
    );
    expect(bad([{ name: 'a', treshold: {} }])).toThrow(
      'strategies[0]: a strategy needs one of threshold, rate-of-change, new-cluster, topn-entry; strategies[0].treshold: unknown key "treshold"; did you mean "threshold"?',
    );
    expect(bad([{ name: 'a', threshold: { window: '5m', count: 1, by: ['hots'] } }])).toThrow('"hots" is not an event field; did you mean "host"?');
    expect(bad([{ name: 'a', 'new-cluster': {} }], [{ type: 'webhook', url: 'ftp://x' }])).toThrow('notify[0].url: expected an http:// or https:// URL');
    // A subject the server refuses failed every alert at run time.
    for (const subject of ['qt bad.{strategy}', 'noc..alerts', 'noc.alerts.>', 'noc.*']) {
      expect(bad([{ name: 'a', 'new-cluster': {} }], [{ type: 'nats', subject }])).toThrow(`notify[0].subject: "${subject}" is no subject to publish on`);
    }
    expect(bad([{ name: 'a', 'new-cluster': {} }], [{ type: 'nats', subject: 'noc.alerts.{severity}.{strategy}' }])).not.toThrow();
    expect(bad([{ name: 'a', 'new-cluster': {} }])).not.toThrow();
    try {
      bad([
        { name: 'a', 'new-cluster': {} },
        { name: 'a', 'new-cluster': {} },
      ])();
    } catch (err) {
      expect(err).toBeInstanceOf(StrategyConfigError);
      expect((err as StrategyConfigError).path).toEqual(['strategies', 1, 'name']);
    }
  });

  it('prints one readable line per alert on stdout and appends JSON lines to a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qitian-alert-'));
    const path = join(dir, 'alerts.jsonl');
    const h = await harness({
      strategies: [{ name: 'link-flap', severity: 'major', threshold: { where: { eventType: 'LINK-UPDOWN' }, window: '5m', count: 2, by: ['host'] } }],
      notify: ['stdout', { type: 'file', path }, { type: 'stdout', minSeverity: 'critical' }],
    });
    h.bolt.executeBatch(burst(T0, 2, 'LINK-UPDOWN', 'r1'));
    await h.bolt.cleanup();
    expect(h.out.text).toBe('2024-05-01T10:00:01.000Z MAJOR link-flap [r1] 2 matching events in the 5m window from 2024-05-01T10:00:00.000Z (threshold 2)\n');
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ time: T0 + 1000, strategy: 'link-flap', severity: 'major', key: 'r1', details: { count: 2 } });
    expect(h.context.counted('notified', 'stdout')).toBe(1);
    expect(h.context.counted('notified', 'file')).toBe(1);
  });

  it('every spec example builds a bolt with valid strategies and notifiers', () => {
    for (const ex of alertBolt.spec.examples ?? []) {
      const entry = parse(ex.yaml) as { type: string; config: unknown };
      expect(entry.type).toBe('alert');
      const bolt = alertBolt.create(configFor(alertBolt, entry.config)) as AlertBolt;
      expect(bolt.strategies.length).toBeGreaterThan(1);
    }
    const ex = parse(alertBolt.spec.examples![1]!.yaml) as { config: unknown };
    const bolt = alertBolt.create(configFor(alertBolt, ex.config)) as AlertBolt;
    const watch = bolt.strategies[1]!;
    expect(watch.kind === 'topn-entry' && watch.watch('203.0.113.9') && watch.watch('198.51.100.7') && !watch.watch('203.0.114.1')).toBe(true);
  });
});
