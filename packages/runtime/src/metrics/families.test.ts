import { describe, expect, test } from 'vitest';
import { customKey, newStats } from '../stats.js';
import { TASK_METRICS, taskFamilies } from './families.js';
import { observe } from './histogram.js';

describe('task metric families', () => {
  test('counters, gauges and histograms per task, with bounded labels', () => {
    const spout = newStats(0, 'gen', 'spout', 0);
    spout.emitted = 10;
    spout.replayed = 2;
    spout.pending = 3;
    observe(spout.completeLatency, 0.004, 10);
    const bolt = newStats(3, 'parse', 'bolt', 1);
    bolt.executed = 7;
    bolt.dropped = 5;
    bolt.droppedUncloneable = 2;
    bolt.busyMs = 1500;
    bolt.backpressureMsByTarget = { count: 250 };
    bolt.custom = { lines: 4, 'parse_errors{reason="bad pri"}': 1 };
    const fams = new Map(taskFamilies([bolt, spout], { topology: 't' }).map((f) => [f.name, f]));
    const value = (name: string, labels: Record<string, string>, metricName?: string) =>
      fams
        .get(name)!
        .values.find((v) => (metricName === undefined || v.metricName === metricName) && Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;

    expect(value('qitian_tuples_emitted_total', { component: 'gen', task: '0', topology: 't' })).toBe(10);
    expect(value('qitian_spout_replays_total', { component: 'gen' })).toBe(2);
    expect(value('qitian_spout_pending_trees', { component: 'gen' })).toBe(3);
    expect(value('qitian_tuples_executed_total', { component: 'parse', task: '1' })).toBe(7);
    // Spouts execute nothing: no executed series for them.
    expect(value('qitian_tuples_executed_total', { component: 'gen' })).toBeUndefined();
    expect(value('qitian_tuples_dropped_total', { component: 'parse', reason: 'unrouted' })).toBe(3);
    expect(value('qitian_tuples_dropped_total', { component: 'parse', reason: 'uncloneable' })).toBe(2);
    expect(value('qitian_task_busy_seconds_total', { component: 'parse' })).toBe(1.5);
    expect(value('qitian_backpressure_seconds_total', { component: 'parse', target: 'count' })).toBe(0.25);
    expect(value('qitian_component_lines_total', { component: 'parse' })).toBe(4);
    expect(value('qitian_component_parse_errors_total', { component: 'parse', reason: 'bad pri' })).toBe(1);
    // Histograms: cumulative buckets, +Inf equal to the count.
    expect(value('qitian_complete_latency_seconds', { component: 'gen', le: '0.005' }, 'qitian_complete_latency_seconds_bucket')).toBe(10);
    expect(value('qitian_complete_latency_seconds', { component: 'gen', le: '0.0025' }, 'qitian_complete_latency_seconds_bucket')).toBe(0);
    expect(value('qitian_complete_latency_seconds', { component: 'gen', le: '+Inf' }, 'qitian_complete_latency_seconds_bucket')).toBe(10);
    expect(value('qitian_complete_latency_seconds', { component: 'gen' }, 'qitian_complete_latency_seconds_count')).toBe(10);
    expect(fams.get('qitian_tuples_emitted_total')!.type).toBe('counter');
    expect(fams.get('qitian_task_capacity_ratio')!.type).toBe('gauge');
    expect(fams.get('qitian_execute_latency_seconds')!.type).toBe('histogram');
    // No label but these: bounded cardinality.
    const keys = new Set([...fams.values()].flatMap((f) => f.values.flatMap((v) => Object.keys(v.labels))));
    expect([...keys].sort()).toEqual(['component', 'le', 'reason', 'target', 'task', 'topology']);
  });

  test('component counter names become valid metric names', () => {
    const s = newStats(0, 'x', 'bolt', 0);
    s.custom = { 'bytes-in': 1, '9lives': 2 };
    const names = taskFamilies([s], {}).map((f) => f.name);
    expect(names).toContain('qitian_component_bytes_in_total');
    expect(names).toContain('qitian_component__9lives_total');
  });

  test('a reason with a newline or quotes still makes its series (it was dropped)', () => {
    const s = newStats(0, 'x', 'bolt', 0);
    s.custom = { [customKey('odd', 'a\nb "c"')]: 3 };
    const fam = taskFamilies([s], {}).find((f) => f.name === 'qitian_component_odd_total');
    expect(fam?.values.map((v) => [v.labels.reason, v.value])).toEqual([['a\nb "c"', 3]]);
  });
});

test('the HELP of dropped says what docs/metrics.md says unrouted is, not "no consumer"', () => {
  // A tuple emitted on a stream nobody consumes is not a drop (docs/cli.md, docs/metrics.md):
  // "no consumer" sent an operator looking for a missing stream.
  expect(TASK_METRICS.dropped.help).not.toMatch(/no consumer/);
  expect(TASK_METRICS.dropped.help).toMatch(/unrouted \(a grouping chose no task; a stream nobody consumes is not a drop\)/);
});
