/** The checkInputs hooks of the built-in bolts: config naming fields their inputs do not declare. */
import type { InputStream } from '@qitian/api';
import { describe, expect, it } from 'vitest';
import { alertBolt } from './bolts/alert/index.js';
import { clusterBolt } from './bolts/cluster/index.js';
import { syslogParseBolt } from './bolts/parse/index.js';
import { priorityRouteBolt } from './bolts/priority-route/index.js';
import { topnBolt } from './bolts/topn/index.js';
import { severityFilesSink } from './sinks/severity-files/index.js';
import { fileSink } from './sinks/file/index.js';
import { stdoutSink } from './sinks/stdout/index.js';
import { fileSpout } from './spouts/file/index.js';
import { syslogSpout } from './spouts/syslog/index.js';
import { configPathOf } from '@qitian/api';
import { EVENT_FIELDS } from './syslog/event.js';
import { configFor } from './testkit.js';

const input = (from: string, fields: readonly string[], grouping: InputStream['grouping'] = { type: 'shuffle', fields: [] }, parallelism = 1): InputStream => ({
  from,
  stream: 'default',
  fields,
  indexOf: (f) => fields.indexOf(f),
  grouping,
  parallelism,
});
const events = input('parse', EVENT_FIELDS);

describe('checkInputs', () => {
  it('priority-route and severity-files need a severity field (without, every tuple was an error or acked unwritten)', () => {
    const lines = input('lines', ['line']);
    for (const [def, what, raw] of [
      [priorityRouteBolt, 'priority-route', {}],
      [severityFilesSink, 'severity-files', { dir: '/tmp/x' }],
    ] as const) {
      expect(def.checkInputs!(configFor(def as never, raw) as never, [lines])).toEqual([
        {
          path: [],
          message: `${what} reads the syslog severity from field "severity", which no input stream declares (inputs: "lines"); feed it parsed events (syslog-parse)`,
        },
      ]);
      expect(def.checkInputs!(configFor(def as never, raw) as never, [lines, events])).toEqual([]);
    }
  });

  it('file spout: one task (each would read the whole file: every line twice at parallelism 2)', () => {
    expect(fileSpout.parallelismLimit!(configFor(fileSpout, { path: '/x' }))).toMatchObject({ max: 1 });
  });

  it('syslog spout: one task per fixed port (a second task cannot bind it); port 0 gives each its own', () => {
    expect(syslogSpout.parallelismLimit!(configFor(syslogSpout, { protocol: 'tcp' }))).toMatchObject({ max: 1, why: expect.stringContaining('port 5514') });
    expect(syslogSpout.parallelismLimit!(configFor(syslogSpout, { protocol: 'tls', tlsCert: '/c', tlsKey: '/k' }))).toMatchObject({
      why: expect.stringContaining('port 6514'),
    });
    expect(syslogSpout.parallelismLimit!(configFor(syslogSpout, { protocol: 'udp', port: 0 }))).toBeUndefined();
  });

  it('topn: each dimension field and, in event time, the time field must be in some input; a merge is not checked', () => {
    const cfg = configFor(topnBolt, {
      dimensions: [
        { name: 'src', fields: ['srcIP'] },
        { name: 'h', fields: 'hots' },
        { name: 'ok', fields: ['host'] },
      ],
    });
    expect(topnBolt.checkInputs!(cfg, [events])).toEqual([
      { path: ['dimensions', 0, 'fields', 0], field: 'srcIP', message: 'dimension "src" counts field "srcIP", which no input stream declares' },
      { path: ['dimensions', 1, 'fields'], field: 'hots', message: 'dimension "h" counts field "hots", which no input stream declares' },
    ]);
    const lines = input('gen', ['line']);
    expect(topnBolt.checkInputs!(configFor(topnBolt, {}), [lines]).map((p) => p.path)).toEqual([['timeField']]);
    expect(topnBolt.checkInputs!(configFor(topnBolt, { timeMode: 'processing', dimensions: [{ name: 'l', fields: ['line'] }] }), [lines])).toEqual([]);
    expect(topnBolt.checkInputs!(configFor(topnBolt, { stage: 'merge' }), [lines])).toEqual([]);
    // A field one of several inputs declares is enough.
    expect(topnBolt.checkInputs!(configFor(topnBolt, { dimensions: [{ name: 'l', fields: ['line'] }] }), [lines, events])).toEqual([]);
  });

  it('cluster: keyBy, features and the time field', () => {
    const cfg = configFor(clusterBolt, { keyBy: 'hostname', features: ['eventType', 'sev'] });
    expect(clusterBolt.checkInputs!(cfg, [events]).map((p) => [p.path, p.field])).toEqual([
      [['keyBy'], 'hostname'],
      [['features', 1], 'sev'],
    ]);
    expect(clusterBolt.checkInputs!(configFor(clusterBolt, {}), [input('x', ['eventType', 'severity'])]).map((p) => p.path)).toEqual([['time']]);
  });

  it('cluster with keyBy on several tasks: its input must be fields-grouped on that field (or global)', () => {
    const cfg = configFor(clusterBolt, { keyBy: 'host' });
    const shuffled = input('parse', EVENT_FIELDS, { type: 'shuffle', fields: [] }, 2);
    expect(clusterBolt.checkInputs!(cfg, [shuffled])).toEqual([
      {
        path: ['keyBy'],
        message:
          'with parallelism 2, keyBy "host" needs its input fields-grouped on [host]: "default" of "parse" is shuffle-grouped, so a host\'s events would be split between tasks and clustered in pieces',
      },
    ]);
    expect(clusterBolt.checkInputs!(cfg, [input('parse', EVENT_FIELDS, { type: 'fields', fields: ['host', 'eventType'] }, 2)])[0]!.message).toContain(
      'is fields-grouped on [host, eventType]',
    );
    for (const ok of [
      input('parse', EVENT_FIELDS, { type: 'fields', fields: ['host'] }, 2),
      input('parse', EVENT_FIELDS, { type: 'global', fields: [] }, 2),
      input('parse', EVENT_FIELDS, { type: 'shuffle', fields: [] }, 1),
    ]) {
      expect(clusterBolt.checkInputs!(cfg, [ok])).toEqual([]);
    }
  });

  it('topn single stage on several tasks: its one dimension must be what the input is fields-grouped on', () => {
    const cfg = configFor(topnBolt, { dimensions: [{ name: 'src', fields: ['srcIp'] }] });
    expect(topnBolt.checkInputs!(cfg, [input('parse', EVENT_FIELDS, { type: 'fields', fields: ['srcIp'] }, 3)])).toEqual([]);
    expect(topnBolt.checkInputs!(cfg, [input('parse', EVENT_FIELDS, { type: 'shuffle', fields: [] }, 3)])).toEqual([
      {
        path: ['dimensions', 0, 'fields'],
        message:
          'a single stage with parallelism 3 needs its input fields-grouped on [srcIp]: "default" of "parse" is shuffle-grouped, so a key\'s counts would be split between tasks, each ranking a part (or use stage: partial and a merge)',
      },
    ]);
    // A partial stage takes any grouping.
    expect(topnBolt.checkInputs!(configFor(topnBolt, { stage: 'partial' }), [input('parse', EVENT_FIELDS, { type: 'shuffle', fields: [] }, 3)])).toEqual([]);
  });

  it('alert: a count strategy needs its where and by fields in some event input (of its `from`, when set)', () => {
    const cfg = configFor(alertBolt, {
      strategies: [{ name: 'flaps', threshold: { window: '5m', count: 5, by: ['host'], where: { eventType: 'LINK-UPDOWN' } }, from: 'parse' }],
    });
    expect(alertBolt.checkInputs!(cfg, [events])).toEqual([]);
    // A stream of events without host (its select dropped it).
    const thin = input('parse', ['time', 'severity', 'eventType']);
    expect(alertBolt.checkInputs!(cfg, [thin])).toEqual([
      { path: ['strategies', 0, 'threshold', 'by', 0], field: 'host', message: 'strategy "flaps" keys by field "host", which no event input declares' },
    ]);
    // Inputs of other components do not count for a strategy with `from`.
    expect(alertBolt.checkInputs!(cfg, [thin, { ...events, from: 'other' }])).toHaveLength(1);
  });

  it('syslog-parse: the message field must be in some input', () => {
    expect(syslogParseBolt.checkInputs!(configFor(syslogParseBolt, {}), [input('gen', ['line'])])).toEqual([]);
    expect(syslogParseBolt.checkInputs!(configFor(syslogParseBolt, { field: 'msg' }), [input('gen', ['line']), input('udp', ['line', 'peer'])])).toEqual([
      { path: ['field'], field: 'msg', message: 'the message is read from field "msg", which no input stream declares' },
    ]);
  });

  it('file and stdout sinks: each of `fields` must be in some input, and the list not empty', () => {
    for (const sink of [fileSink, stdoutSink]) {
      const raw = sink === fileSink ? { path: '/tmp/x.jsonl' } : {};
      expect(sink.checkInputs!(configFor(sink, raw), [events])).toEqual([]);
      expect(sink.checkInputs!(configFor(sink, { ...raw, fields: ['host', 'nope'] }), [events, input('gen', ['line'])])).toEqual([
        { path: ['fields', 1], field: 'nope', message: 'field "nope" is in no input stream' },
      ]);
      expect(sink.checkInputs!(configFor(sink, { ...raw, fields: ['line', 'host'] }), [events, input('gen', ['line'])])).toEqual([]);
      expect(sink.checkInputs!(configFor(sink, { ...raw, fields: [] }), [events]).map((p) => p.path)).toEqual([['fields']]);
    }
  });
});

describe('config checked when the topology is validated, at its key', () => {
  const thrown = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return { path: configPathOf(err), message: (err as Error).message };
    }
    return undefined;
  };

  it('syslog-parse: an unknown time zone', () => {
    expect(thrown(() => syslogParseBolt.checkConfig!(configFor(syslogParseBolt, { timezone: 'Asia/Shanghai' })))).toBeUndefined();
    expect(thrown(() => syslogParseBolt.checkConfig!(configFor(syslogParseBolt, { timezone: 'Mars/Olympus' })))).toMatchObject({
      path: ['timezone'],
      message: expect.stringContaining('unknown time zone "Mars/Olympus"'),
    });
    expect(thrown(() => syslogParseBolt.checkConfig!(configFor(syslogParseBolt, { timezone: '+25:00' })))?.path).toEqual(['timezone']);
  });

  it('syslog spout: tls without a certificate or key, TLS keys on another protocol', () => {
    expect(thrown(() => syslogSpout.checkConfig!(configFor(syslogSpout, { protocol: 'tls', tlsCert: '/c.pem', tlsKey: '/k.pem' })))).toBeUndefined();
    expect(thrown(() => syslogSpout.checkConfig!(configFor(syslogSpout, { protocol: 'tls', tlsCert: '/c.pem' })))).toMatchObject({
      path: ['protocol'],
      message: expect.stringContaining('tlsKey is missing'),
    });
    expect(thrown(() => syslogSpout.checkConfig!(configFor(syslogSpout, { protocol: 'tcp', tlsCa: '/ca.pem' })))?.path).toEqual(['tlsCa']);
  });
});
