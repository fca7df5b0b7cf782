import { describe, expect, it, vi } from 'vitest';
import { TOPN_FIELDS } from '../../bolts/topn/index.js';
import { FakeTopologyContext, RecordingOutputCollector, TestTuple } from '../../testkit.js';
import { ConsoleReport, fitEntries } from './report.js';

const RANKING = TOPN_FIELDS;
const ALERT = ['time', 'strategy', 'severity', 'key', 'summary', 'details'];
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

function harness() {
  const out: string[] = [];
  const report = new ConsoleReport({ show: 2, color: 'never', settle: 1_000_000 }, (t) => out.push(t), false);
  const collector = new RecordingOutputCollector();
  report.prepare(new FakeTopologyContext({ config: {} }), collector);
  return { report, out, collector };
}

describe('console-report sink', () => {
  it('prints an alert at once, on one line', () => {
    const h = harness();
    h.report.execute(new TestTuple(ALERT, [T0, 'link-flap', 'major', 'sw-core-01', 'sw-core-01 LINK-UPDOWN: 120 events in 5m (>= 20)', {}]));
    expect(h.out).toEqual(['10:00:00 ALERT MAJOR [link-flap] sw-core-01 LINK-UPDOWN: 120 events in 5m (>= 20)\n']);
    h.report.execute(new TestTuple(ALERT, [T0, 'port-scan', 'major', '203.0.113.7', '300 matching events in 5m', {}]));
    expect(h.out[1]).toBe('10:00:00 ALERT MAJOR [port-scan] 203.0.113.7: 300 matching events in 5m\n');
    expect(h.collector.acked).toHaveLength(2);
    h.report.cleanup();
  });

  it('a window header gives the date once, and again when the date changes (old logs replayed, windows days apart)', () => {
    const h = harness();
    const day = 86_400_000;
    for (const start of [T0, T0 + 300_000, T0 + 30 * day]) {
      h.report.execute(
        new TestTuple(RANKING, ['severity', start, start + 300_000, [{ key: 6, count: 5, error: 0 }], 5, 1, 0, true, true, true, start + 300_000]),
      );
    }
    h.report.finish();
    const heads = h.out
      .join('')
      .split('\n')
      .filter((l) => l.includes('── window'))
      .map((l) => l.slice(l.indexOf('window'), l.indexOf('  ')));
    expect(heads).toEqual(['window 2026-11-22 10:00:00-10:05:00', 'window 10:05:00-10:10:00', 'window 2026-12-22 10:00:00-10:05:00']);
    h.report.cleanup();
  });

  it('gathers the dimensions of a window and prints them as one block at the end', () => {
    const h = harness();
    const end = T0 + 300_000;
    h.report.execute(
      new TestTuple(RANKING, [
        'severity',
        T0,
        end,
        [
          { key: 6, count: 900, error: 0 },
          { key: 5, count: 90, error: 0 },
          { key: 3, count: 10, error: 0 },
        ],
        1000,
        3,
        0,
        true,
        true,
        true,
        end,
      ]),
    );
    h.report.execute(new TestTuple(RANKING, ['source', T0, end, [{ key: '203.0.113.7', count: 400, error: 3 }], 600, -1, 0, false, false, true, end]));
    expect(h.out).toEqual([]);
    h.report.finish();
    const block = h.out.join('');
    expect(block).toContain('window 2026-11-22 10:00:00-10:05:00  1000 events  (3.3/s event time)');
    // `show: 2` entries per dimension; a Space-Saving ranking shows its error and says it is approximate.
    expect(block).toContain('severity  6 900  ·  5 90\n');
    expect(block).toContain('source    203.0.113.7 400±3  (approximate)');
    h.report.cleanup();
  });

  it('in a terminal, a ranking line shows the entries that fit its width, and says when some did not', () => {
    expect(fitEntries(['a 1', 'b 2', 'c 3'], 100)).toBe('a 1  ·  b 2  ·  c 3');
    expect(fitEntries(['a 1', 'b 2', 'c 3'], 14)).toBe('a 1  ·  b 2  …');
    expect(fitEntries(['a 1', 'b 2', 'c 3'], 13)).toBe('a 1  …');
    expect(fitEntries(['a 1', 'b 2', 'c 3'], 19)).toBe('a 1  ·  b 2  ·  c 3');
    expect(fitEntries(['a long first entry', 'b 2'], 5)).toBe('a long first entry  …');
    const out: string[] = [];
    const report = new ConsoleReport({ show: 5, color: 'never', settle: 1_000_000 }, (t) => out.push(t), true, 44);
    report.prepare(new FakeTopologyContext({ config: {} }), new RecordingOutputCollector());
    const ranking = Array.from({ length: 5 }, (_, i) => ({ key: `10.0.0.${i + 1}`, count: 100 - i, error: 0 }));
    report.execute(new TestTuple(RANKING, ['source', T0, T0 + 300_000, ranking, 500, 5, 0, true, true, true, T0 + 300_000]));
    report.finish();
    const line = out
      .join('')
      .split('\n')
      .find((l) => l.startsWith('  source'))!;
    expect(line).toBe('  source    10.0.0.1 100  ·  10.0.0.2 99  …');
    expect(line.length).toBeLessThanOrEqual(44);
    report.cleanup();
  });

  it('a window the input ended inside: marked, rated over the time it covers, and at the last wall-clock speed', () => {
    vi.useFakeTimers({ now: 0 });
    const out: string[] = [];
    const report = new ConsoleReport({ show: 1, color: 'never', settle: 1000 }, (t) => out.push(t), false);
    report.prepare(new FakeTopologyContext({ config: {} }), new RecordingOutputCollector());
    const window = (start: number, total: number, until = start + 300_000) =>
      report.execute(
        new TestTuple(RANKING, [
          'severity',
          start,
          start + 300_000,
          [{ key: 6, count: total, error: 0 }],
          total,
          1,
          0,
          true,
          true,
          until === start + 300_000,
          until,
        ]),
      );
    try {
      window(T0, 15_000);
      vi.advanceTimersByTime(2500); // printed after `settle`, at 1 s
      window(T0 + 300_000, 15_000);
      vi.advanceTimersByTime(1000); // printed at 3.5 s: 300 s of event time in 2.5 s, 120 times real time
      // The input ends 95 s into the last window; the merge emits it at once, and it prints at the end.
      window(T0 + 600_000, 9500, T0 + 695_000);
      vi.advanceTimersByTime(100);
      report.finish();
      expect(out.map((b) => b.split('\n')[1])).toEqual([
        '── window 2026-11-22 10:00:00-10:05:00  15.0k events  (50/s event time)',
        '── window 10:05:00-10:10:00  15.0k events  (50/s event time, 6000/s wall clock)',
        '── window 10:10:00-10:15:00  9500 events  (incomplete window: input ended at 10:11:35; 100/s event time, 12.0k/s wall clock)',
      ]);
    } finally {
      report.cleanup();
      vi.useRealTimers();
    }
  });

  it('an incomplete window with no speed measured yet has no wall-clock rate; one under a second long has no rate', () => {
    const h = harness();
    h.report.execute(new TestTuple(RANKING, ['severity', T0, T0 + 300_000, [{ key: 6, count: 1, error: 0 }], 1, 1, 0, true, true, false, T0]));
    h.report.finish();
    expect(h.out.join('')).toContain('window 2026-11-22 10:00:00-10:05:00  1 events  (incomplete window: input ended at 10:00:00)\n');
    h.report.cleanup();
  });
});
