import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { validateConfig } from '@qitian/api';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ERROR_FIELDS, EVENT, EVENT_FIELDS, RAW_FIELDS } from '../../syslog/event.js';
import { prepareBolt, TestTuple, tuples } from '../../testkit.js';
import { syslogParseBolt } from './index.js';

const NOW = Date.UTC(2024, 5, 15, 12, 0, 0);

describe('syslog-parse bolt', () => {
  it('declares EVENT_FIELDS on default and ERROR_FIELDS on error, and acks by itself (auto-ack)', () => {
    const outputs = syslogParseBolt.outputs!(validateConfig(syslogParseBolt.spec.fields, {}).value);
    expect(outputs).toEqual({ default: [...EVENT_FIELDS], error: [...ERROR_FIELDS] });
    expect(syslogParseBolt.kind).toBe('bolt');
    expect(syslogParseBolt.autoAck).not.toBe(false);
  });

  it('every spec example is a valid entry', () => {
    for (const ex of syslogParseBolt.spec.examples!) {
      const entry = parseYaml(ex.yaml) as { type: string; config?: unknown };
      expect(entry.type).toBe('syslog-parse');
      expect(validateConfig(syslogParseBolt.spec.fields, entry.config).issues).toEqual([]);
    }
  });

  it('reads line, peer and receivedAt from a syslog spout stream; emits events in EVENT_FIELDS order, anchored', async () => {
    const h = await prepareBolt(syslogParseBolt, {});
    const input = tuples(
      [...RAW_FIELDS],
      ['<34>Oct 11 22:14:15 mymachine su: failed for lonvick from 10.0.0.5 port 22', '192.0.2.1:514', NOW],
      ['<13>1 - - app - - - no host in the header', '192.0.2.2:514', NOW],
    );
    await h.bolt.executeBatch!(input);
    expect(h.collector.emits).toHaveLength(2);
    const [a, b] = h.collector.emits;
    expect(a!.stream).toBe('default');
    expect(a!.anchors).toBe(input[0]);
    expect(a!.values).toHaveLength(EVENT_FIELDS.length);
    const row = Object.fromEntries(EVENT_FIELDS.map((f, i) => [f, a!.values[i]]));
    expect(row).toEqual({
      time: Date.UTC(2023, 9, 11, 22, 14, 15),
      host: 'mymachine',
      facility: 4,
      severity: 2,
      app: 'su',
      procid: null,
      msgid: null,
      eventType: 'su',
      srcIp: '10.0.0.5',
      dstIp: null,
      srcPort: 22,
      dstPort: null,
      message: 'failed for lonvick from 10.0.0.5 port 22',
      structured: null,
      vendor: null,
      format: 'rfc3164',
      parsed: true,
      raw: '<34>Oct 11 22:14:15 mymachine su: failed for lonvick from 10.0.0.5 port 22',
      peer: '192.0.2.1:514',
    });
    // no HOSTNAME: the peer address; no timestamp: receivedAt
    expect(b!.values[EVENT.host]).toBe('192.0.2.2');
    expect(b!.values[EVENT.time]).toBe(NOW);
    expect(b!.values[EVENT.format]).toBe('rfc5424');
    expect(h.collector.failed).toEqual([]);
  });

  it("works on a file spout stream (only `line`): peer null; a message without a time takes the event before it's (a replay stays in its past), the first one now", async () => {
    const h = await prepareBolt(syslogParseBolt, {});
    const before = Date.now();
    h.bolt.execute(new TestTuple(['line'], ['this line has no syslog header']));
    h.bolt.execute(
      new TestTuple(['line'], ['<190>Apr 15 2007 21:28:13: %PIX-6-302014: Teardown TCP connection for outside:1.2.3.4/8294 to inside:5.6.7.8/3639']),
    );
    h.bolt.execute(new TestTuple(['line'], ['<13>1 - h a - - - x']));
    h.bolt.execute(new TestTuple(['line'], ['no header either']));
    const [first, pix, nil, bare] = h.collector.emits.map((e) => e.values);
    expect(first![EVENT.time]).toBeGreaterThanOrEqual(before);
    expect(pix![EVENT.peer]).toBeNull();
    expect(pix!.slice(EVENT.eventType, EVENT.dstPort + 1)).toEqual(['PIX-302014', '1.2.3.4', '5.6.7.8', 8294, 3639]);
    expect(pix![EVENT.vendor]).toBe('cisco');
    const pixTime = Date.UTC(2007, 3, 15, 21, 28, 13);
    expect(pix![EVENT.time]).toBe(pixTime);
    expect(nil![EVENT.time]).toBe(pixTime);
    expect(bare![EVENT.time]).toBe(pixTime);
  });

  it('a message without a time takes its receive time when the input has one (syslog spouts)', async () => {
    const h = await prepareBolt(syslogParseBolt, {});
    await h.bolt.executeBatch!(
      tuples(['line', 'peer', 'receivedAt'], ['<13>Apr 15 2007 21:28:13 h a: x', '10.0.0.1:514', 5000], ['no header', '10.0.0.1:514', 7000]),
    );
    expect(h.collector.emits.map((e) => e.values[EVENT.time])).toEqual([Date.UTC(2007, 3, 15, 21, 28, 13), 7000]);
  });

  it('the field name is configurable; bytes are decoded', async () => {
    const h = await prepareBolt(syslogParseBolt, { field: 'msg' });
    await h.bolt.executeBatch!(tuples(['id', 'msg'], [1, Buffer.from('<165>1 2003-10-11T22:14:15.003Z h app - ID1 - hello')]));
    expect(h.collector.emits[0]!.values[EVENT.message]).toBe('hello');
    expect(h.collector.emits[0]!.values[EVENT.raw]).toBe('<165>1 2003-10-11T22:14:15.003Z h app - ID1 - hello');
  });

  it('lenient: unparsable lines still flow, with parsed false, counted once per batch as unparsed', async () => {
    const h = await prepareBolt(syslogParseBolt, {});
    await h.bolt.executeBatch!(tuples(['line'], ['gobbledegook one'], ['gobbledegook two'], ['<13>Jan  1 00:00:00 h ok: fine']));
    expect(h.collector.emits.map((e) => [e.stream, e.values[EVENT.parsed], e.values[EVENT.format]])).toEqual([
      ['default', false, 'unknown'],
      ['default', false, 'unknown'],
      ['default', true, 'rfc3164'],
    ]);
    expect(h.collector.emits[0]!.values[EVENT.message]).toBe('gobbledegook one');
    expect(h.context.countCalls).toEqual([{ name: 'unparsed', delta: 2, reason: undefined }]);
  });

  it('strict: rejects go to `error` with reason and column, are counted by reason per batch, and are not failed', async () => {
    const h = await prepareBolt(syslogParseBolt, { strict: true });
    const input = tuples(
      [...RAW_FIELDS],
      ['<1>1000 - - - - - -', '192.0.2.1', NOW],
      ['<192>1 - - - - - -', '192.0.2.1', NOW],
      ['<1>2000 - - - - - -', '192.0.2.1', NOW],
      ['<1>1 - h a - - - good', '192.0.2.1', NOW],
    );
    await h.bolt.executeBatch!(input);
    const errors = h.collector.emits.filter((e) => e.stream === 'error');
    expect(errors.map((e) => e.values)).toEqual([
      ['<1>1000 - - - - - -', 'bad_version', 7, '192.0.2.1', 'expecting a version value in the range 1-999 [col 6]', null],
      ['<192>1 - - - - - -', 'bad_pri', 4, '192.0.2.1', 'expecting a priority value in the range 1-191 or equal to 0 [col 3]', null],
      ['<1>2000 - - - - - -', 'bad_version', 7, '192.0.2.1', 'expecting a version value in the range 1-999 [col 6]', null],
    ]);
    expect(errors[0]!.anchors).toBe(input[0]);
    expect(h.collector.emits.filter((e) => e.stream === 'default')).toHaveLength(1);
    expect(h.context.counted('errors', 'bad_version')).toBe(2);
    expect(h.context.counted('errors', 'bad_pri')).toBe(1);
    expect(h.context.countCalls).toHaveLength(2);
    expect(h.collector.failed).toEqual([]);
  });

  it('strict, on lines of a file spout with position: the error names file:line:column', async () => {
    const h = await prepareBolt(syslogParseBolt, { strict: true });
    await h.bolt.executeBatch!(
      tuples(
        ['line', 'file', 'lineNumber', 'offset'],
        ['<1>1 - h a - - - good', '/var/log/edge.log', 41, 1000],
        ['<192>1 - - - - - -', '/var/log/edge.log', 42, 1022],
        ['<1>1000 - - - - - -', '/var/log/edge.log', null, 1041],
      ),
    );
    const errors = h.collector.emits.filter((e) => e.stream === 'error').map((e) => Object.fromEntries(ERROR_FIELDS.map((f, i) => [f, e.values[i]])));
    expect(errors).toEqual([
      {
        raw: '<192>1 - - - - - -',
        reason: 'bad_pri',
        column: 4,
        peer: null,
        message: '/var/log/edge.log:42:4: expecting a priority value in the range 1-191 or equal to 0 [col 3]',
        location: '/var/log/edge.log:42:4',
      },
      {
        raw: '<1>1000 - - - - - -',
        reason: 'bad_version',
        column: 7,
        peer: null,
        message: '/var/log/edge.log, byte offset 1041: expecting a version value in the range 1-999 [col 6]',
        location: '/var/log/edge.log, byte offset 1041',
      },
    ]);
  });

  it('a tuple without the configured field goes to `error` naming the field, and never throws', async () => {
    const h = await prepareBolt(syslogParseBolt, {});
    await h.bolt.executeBatch!(tuples(['text'], ['<13>x']));
    await h.bolt.executeBatch!(tuples(['line'], [null]));
    const [a, b] = h.collector.emits;
    expect(a!.stream).toBe('error');
    expect(a!.values[1]).toBe('no_message');
    expect(a!.values[4]).toContain('has no field "line" (it has text); set config.field');
    expect(b!.values[4]).toContain('holds null');
    expect(h.context.counted('errors', 'no_message')).toBe(2);
  });

  it('a bad time zone is refused when the bolt is created, naming it', () => {
    expect(() => syslogParseBolt.create(validateConfig(syslogParseBolt.spec.fields, { timezone: 'Nowhere/Land' }).value)).toThrow(
      /unknown time zone "Nowhere\/Land"/,
    );
  });
});

describe('syslog-parse in a topology (engine)', () => {
  it('file spout -> syslog-parse -> file sink, on two workers', async () => {
    const { Engine } = await import('@qitian/runtime');
    const { createPlan, DEFAULT_TOPOLOGY_CONFIG } = await import('@qitian/topology');
    const dir = mkdtempSync(join(tmpdir(), 'qitian-syslog-parse-'));
    try {
      const input = join(dir, 'in.log');
      const output = join(dir, 'out.jsonl');
      const lines = [
        '<189>521: router1: *Nov 14 08:30:56.699: %LINK-5-CHANGED: Interface GigabitEthernet2, changed state to administratively down',
        '<14>Dec 13 13:12:00 srx-firewall RT_FLOW: RT_FLOW_SESSION_CREATE: session created 172.16.0.1/23456->8.8.8.8/443 junos-https',
        'not syslog at all',
      ];
      writeFileSync(input, `${lines.join('\n')}\n`);
      const here = (p: string) => pathToFileURL(join(import.meta.dirname, p)).href;
      const ref = (file: string, name: string) => ({ url: here(file), export: name });
      const config = { ...DEFAULT_TOPOLOGY_CONFIG };
      const spec = {
        name: 'parse-test',
        file: 'parse-test.yaml',
        config,
        components: [
          {
            id: 'lines',
            kind: 'spout' as const,
            ref: ref('../../spouts/file/index.ts', 'fileSpout'),
            parallelism: 1,
            config: validateConfig((await import('../../spouts/file/index.js')).fileSpout.spec.fields, { path: input }).value,
            outputs: { default: ['line'] },
            autoAck: false,
          },
          {
            id: 'parse',
            kind: 'bolt' as const,
            ref: ref('./index.ts', 'syslogParseBolt'),
            parallelism: 2,
            config: validateConfig(syslogParseBolt.spec.fields, {}).value,
            outputs: { default: [...EVENT_FIELDS], error: [...ERROR_FIELDS] },
            autoAck: true,
          },
          {
            id: 'out',
            kind: 'sink' as const,
            ref: ref('../../sinks/file/index.ts', 'fileSink'),
            parallelism: 1,
            config: validateConfig((await import('../../sinks/file/index.js')).fileSink.spec.fields, {
              path: output,
              fields: ['host', 'eventType', 'vendor', 'srcIp', 'dstPort', 'parsed'],
            }).value,
            outputs: {},
            autoAck: false,
          },
        ],
        streams: [
          { from: 'lines', to: 'parse', grouping: { type: 'shuffle' as const, stream: 'default' } },
          { from: 'parse', to: 'out', grouping: { type: 'shuffle' as const, stream: 'default' } },
        ],
      };
      const engine = await Engine.start(createPlan(spec as never, 2));
      const summary = await engine.finished;
      expect(summary.reason).toBe('completed');
      const rows = readFileSync(output, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .sort((x, y) => (String(x.eventType) < String(y.eventType) ? -1 : 1));
      expect(rows).toEqual([
        { host: 'router1', eventType: 'LINK-CHANGED', vendor: 'cisco', srcIp: null, dstPort: null, parsed: true },
        { host: 'srx-firewall', eventType: 'RT_FLOW_SESSION_CREATE', vendor: 'juniper', srcIp: '172.16.0.1', dstPort: 443, parsed: true },
        { host: null, eventType: null, vendor: null, srcIp: null, dstPort: null, parsed: false },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
