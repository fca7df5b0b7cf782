import { validateConfig } from '@qitian/api';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ERROR_FIELDS, EVENT, EVENT_FIELDS, SEVERITY_NAMES } from '../../syslog/event.js';
import { configFor, prepareBolt, TestTuple } from '../../testkit.js';
import { PriorityRouteConfigError, priorityRouteBolt, resolveGroups } from './index.js';

/** A parsed event with the given severity; other fields plausible. */
function event(severity: unknown, n = 0): TestTuple {
  const values: unknown[] = EVENT_FIELDS.map(() => null);
  values[EVENT.time] = 1_700_000_000_000 + n;
  values[EVENT.host] = `r${n}`;
  values[EVENT.facility] = 23;
  values[EVENT.severity] = severity;
  values[EVENT.message] = `message ${n}`;
  values[EVENT.raw] = `<${184 + (typeof severity === 'number' ? severity : 0)}>raw ${n}`;
  values[EVENT.peer] = '10.0.0.1:514';
  values[EVENT.parsed] = true;
  return new TestTuple(EVENT_FIELDS, values, 'default', 'parse');
}

const outputsOf = (raw: unknown) => priorityRouteBolt.outputs!(configFor(priorityRouteBolt, raw));

describe('priority-route outputs', () => {
  it('declares the eight severity streams and error by default, each with the event fields', () => {
    const out = outputsOf({});
    expect(Object.keys(out)).toEqual([...SEVERITY_NAMES, 'error']);
    for (const s of SEVERITY_NAMES) expect(out[s]).toEqual(EVENT_FIELDS);
    expect(out.error).toEqual(ERROR_FIELDS);
  });

  it('adds a stream per group, and can leave out the severity streams', () => {
    expect(Object.keys(outputsOf({ groups: { urgent: [0, 1, 2], noise: ['info', 'debug'] } }))).toEqual([...SEVERITY_NAMES, 'urgent', 'noise', 'error']);
    const groupsOnly = outputsOf({ severityStreams: false, groups: { page: ['crit'] } });
    expect(groupsOnly).toEqual({ page: EVENT_FIELDS, error: ERROR_FIELDS });
  });

  it('rejects group names that collide with its streams, and bad severity lists, naming the group', () => {
    const bad: [unknown, RegExp][] = [
      [{ err: [3] }, /groups\.err: "err" is already a stream/],
      [{ error: [3] }, /groups\.error: "error" is already a stream/],
      [{ default: [3] }, /groups\.default/],
      [{ '1st': [3] }, /groups\.1st: a group name must start with a letter/],
      [{ urgent: [] }, /groups\.urgent: expected a non-empty list/],
      [{ urgent: 'crit' }, /groups\.urgent: expected a non-empty list of severities .* got "crit"/],
      [{ urgent: [0, 8] }, /groups\.urgent\[1\]: number 8 is not a severity/],
      [{ urgent: ['critical'] }, /groups\.urgent\[0\]: "critical" is not a severity; write 0\.\.7 or one of emerg/],
    ];
    for (const [groups, re] of bad) {
      const config = configFor(priorityRouteBolt, { groups });
      expect(() => priorityRouteBolt.outputs!(config)).toThrow(re);
      expect(() => priorityRouteBolt.create(config)).toThrow(PriorityRouteConfigError);
    }
  });
});

describe('priority-route bolt', () => {
  it('routes every severity to its own stream, anchored to the input, values unchanged', async () => {
    const h = await prepareBolt(priorityRouteBolt, {});
    const batch = [0, 1, 2, 3, 4, 5, 6, 7].map((s) => event(s, s));
    h.bolt.executeBatch!(batch);
    expect(h.collector.emits.map((e) => e.stream)).toEqual([...SEVERITY_NAMES]);
    for (let s = 0; s < 8; s++) {
      expect(h.collector.emits[s]!.values).toEqual(batch[s]!.values);
      expect(h.collector.emits[s]!.anchors).toBe(batch[s]);
    }
    for (const s of SEVERITY_NAMES) expect(h.context.counted('routed', s)).toBe(1);
  });

  it('sends an event to its severity stream and every group holding that severity', async () => {
    const h = await prepareBolt(priorityRouteBolt, { groups: { urgent: [0, 1, 2], noise: ['info', 'debug'], ops: ['crit', 3, 'info'] } });
    h.bolt.executeBatch!([event(2), event(6), event(4), event(7)]);
    expect(h.collector.emits.map((e) => e.stream)).toEqual(['crit', 'urgent', 'ops', 'info', 'noise', 'ops', 'warning', 'debug', 'noise']);
    expect(h.context.counted('grouped', 'urgent')).toBe(1);
    expect(h.context.counted('grouped', 'noise')).toBe(2);
    expect(h.context.counted('grouped', 'ops')).toBe(2);
  });

  it('emits only on groups when severityStreams is false', async () => {
    const h = await prepareBolt(priorityRouteBolt, { severityStreams: false, groups: { page: [0, 1, 2, 3] } });
    h.bolt.executeBatch!([event(3), event(5)]);
    expect(h.collector.emits.map((e) => e.stream)).toEqual(['page']);
    expect(h.context.counted('routed', 'err')).toBe(1);
    expect(h.context.counted('routed', 'notice')).toBe(1);
  });

  it('sends events without a valid severity to stream error with reason no_severity, counted', async () => {
    const h = await prepareBolt(priorityRouteBolt, { groups: { all: [0, 1, 2, 3, 4, 5, 6, 7] } });
    const bad = [event(null, 1), event(8, 2), event(-1, 3), event(2.5, 4), event('3', 5), event(undefined, 6)];
    h.bolt.executeBatch!([...bad, event(3, 7)]);
    const errors = h.collector.emits.filter((e) => e.stream === 'error');
    expect(errors).toHaveLength(bad.length);
    expect(errors[0]!.values).toEqual(['<184>raw 1', 'no_severity', 0, '10.0.0.1:514', 'priority-route: severity is null, not an integer 0..7', null]);
    expect(errors[4]!.values[4]).toBe('priority-route: severity is "3", not an integer 0..7');
    expect(errors.map((e) => e.anchors)).toEqual(bad);
    expect(h.context.counted('errors', 'no_severity')).toBe(bad.length);
    expect(h.collector.emits.filter((e) => e.stream !== 'error').map((e) => e.stream)).toEqual(['err', 'all']);
  });

  it('handles an input stream without a severity field: every tuple to error, one warning', async () => {
    const h = await prepareBolt(priorityRouteBolt, {});
    const fields = ['line', 'peer'];
    h.bolt.executeBatch!([new TestTuple(fields, ['x', 'p']), new TestTuple(fields, ['y', null])]);
    expect(h.collector.emits.map((e) => e.values)).toEqual([
      // The line goes with it (it was null): what the error stream is for.
      ['x', 'no_severity', 0, 'p', 'priority-route: the input stream of "upstream" has no severity field', null],
      ['y', 'no_severity', 0, null, 'priority-route: the input stream of "upstream" has no severity field', null],
    ]);
    expect(h.context.logger.records.filter((r) => r.level === 'warn')).toHaveLength(1);
  });

  it('counts once per batch per severity, not per tuple; execute counts per call', async () => {
    const h = await prepareBolt(priorityRouteBolt, {});
    const batch: TestTuple[] = [];
    for (let i = 0; i < 1000; i++) batch.push(event(i % 3 === 0 ? 6 : 3, i));
    h.bolt.executeBatch!(batch);
    expect(h.context.countCalls).toEqual([
      { name: 'routed', delta: 666, reason: 'err' },
      { name: 'routed', delta: 334, reason: 'info' },
    ]);
    h.bolt.execute(event(0));
    expect(h.context.countCalls.at(-1)).toEqual({ name: 'routed', delta: 1, reason: 'emerg' });
    expect(h.collector.emits).toHaveLength(1001);
  });
});

describe('spec examples', () => {
  it('every example is a valid component entry whose outputs can be declared', () => {
    expect(priorityRouteBolt.spec.examples!.length).toBeGreaterThan(0);
    for (const ex of priorityRouteBolt.spec.examples!) {
      const entry = parse(ex.yaml) as { type: string; config?: unknown };
      expect(entry.type).toBe('priority-route');
      const { value, issues } = validateConfig(priorityRouteBolt.spec.fields, entry.config);
      expect(issues, ex.title).toEqual([]);
      expect(Object.keys(priorityRouteBolt.outputs!(value))).toContain('error');
    }
  });
});

describe('priority-route groups', () => {
  it('reports every bad entry at once, each with its place', () => {
    let err: unknown;
    try {
      resolveGroups({ noise: ['info', 9, 'warnings'], urgent: [0, 'crt'], ok: ['err'] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AggregateError);
    const problems = (err as AggregateError).errors as PriorityRouteConfigError[];
    expect(problems.map((p) => p.configPath)).toEqual([
      ['groups', 'noise', 1],
      ['groups', 'noise', 2],
      ['groups', 'urgent', 1],
    ]);
    expect(problems[1]!.message).toContain('groups.noise[2]: "warnings" is not a severity');
    // One problem is thrown as it is.
    expect(() => resolveGroups({ err: [3] })).toThrow(PriorityRouteConfigError);
  });
});
