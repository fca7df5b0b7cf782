import { describe, expect, it } from 'vitest';
import { FakeTopologyContext, RecordingOutputCollector, TestTuple } from '../../testkit.js';
import { ConsoleReport } from './report.js';

const RANKING = ['dimension', 'windowStart', 'windowEnd', 'ranking', 'total', 'distinct', 'late', 'exact'];
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
      ]),
    );
    h.report.execute(new TestTuple(RANKING, ['source', T0, end, [{ key: '203.0.113.7', count: 400, error: 3 }], 600, -1, 0, false]));
    expect(h.out).toEqual([]);
    h.report.finish();
    const block = h.out.join('');
    expect(block).toContain('window 10:00:00-10:05:00  1000 events  (3.3/s event time)');
    // `show: 2` entries per dimension; a Space-Saving ranking shows its error and says it is approximate.
    expect(block).toContain('severity  6 900  ·  5 90\n');
    expect(block).toContain('source    203.0.113.7 400±3  (approximate)');
    h.report.cleanup();
  });
});
