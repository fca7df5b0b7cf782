import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { defineBolt, defineSink, defineSpout, field } from '@qitian/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidTopologyError } from './errors.js';
import { type LoadOptions, loadTopology, parseTopology } from './load.js';
import { createRegistry } from './registry.js';

const lineSpout = defineSpout({
  spec: {
    summary: 'Reads lines from a file',
    fields: {
      path: field.string({ description: 'the file to read', required: true }),
      rate: field.int({ description: 'lines per second', min: 1, default: 100 }),
    },
  },
  outputs: () => ({ default: ['line'] }),
  create: () => ({ next: () => 'end' as const }),
});

const splitBolt = defineBolt({
  spec: { summary: 'Splits lines into words', fields: { separator: field.string({ description: 'separator', default: ' ' }) } },
  outputs: () => ({ default: ['word'], error: ['line', 'reason'] }),
  create: () => ({ execute() {} }),
});

const countBolt = defineBolt({
  spec: {
    summary: 'Counts words per window',
    fields: {
      window: field.duration({ description: 'window length', default: '1m' }),
      topN: field.int({ description: 'how many to emit', min: 1, default: 10 }),
    },
  },
  outputs: () => ({ default: ['word', 'count'] }),
  tickMs: (c) => c.window,
  autoAck: false,
  create: () => ({ execute() {} }),
});

const stdoutSink = defineSink({
  spec: { summary: 'Prints tuples', fields: { format: field.enum({ description: 'output format', values: ['json', 'text'], default: 'text' }) } },
  create: () => ({ execute() {} }),
});

const fileSink = defineSink({ spec: { summary: 'Writes a file', fields: {} }, create: () => ({ execute() {} }) });

const builtin = (name: string) => ({ url: 'file:///qitian/netops/index.js', export: name });
const registry = createRegistry([
  { type: 'file', definition: lineSpout, ref: builtin('fileSpout') },
  { type: 'split', definition: splitBolt, ref: builtin('splitBolt') },
  { type: 'count', definition: countBolt, ref: builtin('countBolt') },
  { type: 'stdout', definition: stdoutSink, ref: builtin('stdoutSink') },
  { type: 'file', definition: fileSink, ref: builtin('fileSink') },
]);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qitian-load-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;
const opts = (extra: Partial<LoadOptions> = {}): LoadOptions => ({ registry, env: {}, ...extra });

async function write(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

/** The issues of a topology that must fail, as `file:line:col: message` with the file's base name. */
async function issuesOf(text: string, options: LoadOptions = opts(), name = 'topo.yaml'): Promise<string[]> {
  const err = await parseTopology(text, join(dir, name), options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidTopologyError);
  return (err as InvalidTopologyError).issues.map((i) =>
    i.location ? `${basename(i.location.file)}:${i.location.line}:${i.location.col}: ${i.message}` : i.message,
  );
}

/** A valid tail that gives a topology one spout feeding one sink. */
const wiring = [
  'spouts:',
  '  - id: lines',
  '    type: file',
  '    config: { path: /in }',
  'sinks:',
  '  - id: out',
  '    type: stdout',
  'streams:',
  '  - from: lines',
  '    to: out',
  '    grouping: { type: shuffle }',
].join('\n');

const WORDCOUNT = yaml(
  'name: wordcount',
  'config:',
  '  workers: 2',
  '  messageTimeout: 10s',
  '  batchLinger: 2ms',
  'spouts:',
  '  - id: lines',
  '    type: file',
  '    config: { path: ${input}, rate: ${RATE:-50} }',
  'bolts:',
  '  - id: count',
  '    type: count',
  '    parallelism: ${P:-2}',
  '    config:',
  '      window: 30s',
  '  - id: split',
  '    type: split',
  '    parallelism: 4',
  '    tick: 500ms',
  'sinks:',
  '  - id: out',
  '    type: stdout',
  'streams:',
  '  - from: lines',
  '    to: split',
  '    grouping: { type: SHUFFLE }',
  '  - from: split',
  '    to: count',
  '    grouping: { type: fields, fields: [word] }',
  '  - from: count',
  '    to: out',
  '    grouping: { type: LOCAL_OR_SHUFFLE }',
  '  - from: split',
  '    to: out',
  '    grouping: { type: global, stream: error }',
);

describe('parseTopology: a valid topology', () => {
  it('resolves types, defaults, durations and order', async () => {
    const spec = await parseTopology(WORDCOUNT, join(dir, 'wc.yaml'), opts({ vars: { input: '/data/in.log' } }));
    expect(spec.name).toBe('wordcount');
    expect(spec.file).toBe(join(dir, 'wc.yaml'));
    expect(spec.config).toEqual({
      maxParallelism: 1024,
      workers: 2,
      acking: true,
      messageTimeoutMs: 10_000,
      maxSpoutPending: 5000,
      maxRetries: -1,
      batchSize: 500,
      batchBytes: 1_048_576,
      batchLingerMs: 2,
      credits: 32,
      loadAware: true,
      drainTimeoutMs: 30_000,
      latencySampling: 100,
      stateSnapshotIntervalMs: 10_000,
      stateAcks: 'immediate',
    });
    // Spouts first, every component after its upstreams (count is declared before split).
    expect(spec.components.map((c) => c.id)).toEqual(['lines', 'split', 'count', 'out']);
    const [lines, split, count, out] = spec.components;
    expect(lines).toEqual({
      id: 'lines',
      kind: 'spout',
      type: 'file',
      ref: builtin('fileSpout'),
      parallelism: 1,
      config: { path: '/data/in.log', rate: 50 },
      outputs: { default: ['line'] },
      autoAck: false,
      location: { file: join(dir, 'wc.yaml'), line: 7, col: 5 },
    });
    expect(split).toMatchObject({ kind: 'bolt', parallelism: 4, tickMs: 500, autoAck: true, config: { separator: ' ' } });
    expect(count).toMatchObject({ parallelism: 2, tickMs: 30_000, autoAck: false, config: { window: 30_000, topN: 10 } });
    expect(out).toMatchObject({ kind: 'sink', type: 'stdout', ref: builtin('stdoutSink'), outputs: {}, config: { format: 'text' } });
    expect(out!.tickMs).toBeUndefined();
    expect(spec.streams).toEqual([
      { from: 'lines', to: 'split', grouping: { type: 'shuffle', stream: 'default' }, location: { file: join(dir, 'wc.yaml'), line: 24, col: 5 } },
      { from: 'split', to: 'count', grouping: { type: 'fields', stream: 'default', fields: ['word'] }, location: expect.anything() },
      { from: 'count', to: 'out', grouping: { type: 'local-or-shuffle', stream: 'default' }, location: expect.anything() },
      { from: 'split', to: 'out', grouping: { type: 'global', stream: 'error' }, location: expect.anything() },
    ]);
    // Plain data: survives structured cloning unchanged.
    expect(structuredClone(spec)).toEqual(spec);
  });

  it('loadTopology reads the file', async () => {
    const file = await write('wc-file.yaml', WORDCOUNT);
    const spec = await loadTopology(file, opts({ vars: { input: '/x' } }));
    expect(spec.components).toHaveLength(4);
  });

  it('loadTopology reports a missing file', async () => {
    const err = await loadTopology(join(dir, 'nope.yaml'), opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidTopologyError);
    expect((err as Error).message).toBe(`cannot read topology file ${join(dir, 'nope.yaml')}: no such file`);
  });
});

describe('substitution', () => {
  it('takes --set vars before the environment, defaults otherwise, and types whole plain scalars', async () => {
    const spec = await parseTopology(WORDCOUNT, join(dir, 'wc.yaml'), {
      registry,
      vars: { input: '/from/vars' },
      env: { input: '/from/env', P: '3', RATE: '' },
    });
    const byId = Object.fromEntries(spec.components.map((c) => [c.id, c]));
    expect(byId.lines!.config).toEqual({ path: '/from/vars', rate: 50 }); // RATE empty -> default
    expect(byId.count!.parallelism).toBe(3);
  });

  it('a plain ${VAR} set but empty is the empty string, not "not given": a field of another type rejects it', async () => {
    const text = yaml(
      'name: t',
      'spouts:',
      '  - id: lines',
      '    type: file',
      '    config: { path: x, rate: ${RATE} }',
      'sinks:',
      '  - { id: out, type: stdout }',
      'streams:',
      '  - { from: lines, to: out, grouping: { type: shuffle } }',
    );
    expect(await issuesOf(text, opts({ env: { RATE: '' } }))).toEqual(['topo.yaml:5:30: spout "lines" config: rate: expected an integer, got ""']);
  });

  it('a variable given (--set) that the files never use is an error with the nearest one they do use', async () => {
    const text = yaml(
      'name: t',
      'spouts:',
      '  - { id: lines, type: file, config: { path: ${input}, rate: ${RATE:-5} } }',
      'sinks:',
      '  - { id: out, type: stdout }',
      'streams:',
      '  - { from: lines, to: out, grouping: { type: shuffle } }',
    );
    expect(await issuesOf(text, opts({ vars: { input: '/in', inptu: 'x' } }))).toEqual([
      'topo.yaml:1:1: variable "inptu" is given a value, but the topology uses no ${inptu}; did you mean "input"? (its variables: RATE, input)',
    ]);
  });

  it('keeps quoted and partial substitutions strings, and supports nested defaults and $${', async () => {
    const text = yaml(
      'name: t',
      'spouts:',
      '  - id: lines',
      '    type: file',
      '    config:',
      '      path: "${DIR:-/var/log}/${FILE:-${BASE}.log}"',
      '      rate: "${N}"',
      'sinks:',
      '  - id: out',
      '    type: stdout',
      '    config: { format: "$${x}" }',
      'streams:',
      '  - { from: lines, to: out, grouping: { type: shuffle } }',
    );
    const issues = await issuesOf(text, opts({ env: { BASE: 'messages', N: '5' } }));
    expect(issues).toEqual([
      'topo.yaml:7:13: spout "lines" config: rate: expected an integer, got "5"',
      'topo.yaml:11:23: sink "out" config: format: expected one of json, text, got "${x}"',
    ]);
    const ok = await parseTopology(text.replace('"${N}"', '${N}').replace('"$${x}"', 'json'), join(dir, 't.yaml'), opts({ env: { BASE: 'messages', N: '5' } }));
    expect(ok.components[0]!.config).toEqual({ path: '/var/log/messages.log', rate: 5 });
  });

  it('reports every unset variable at its scalar, once, without follow-on errors', async () => {
    const text = yaml(
      'name: t',
      'spouts:',
      '  - id: lines',
      '    type: file',
      '    parallelism: ${P}',
      '    config: { path: ${input} }',
      'sinks:',
      '  - id: out',
      '    type: stdout',
      '    config: { format: "${FMT:-${STYLE}}" }',
      'streams:',
      '  - { from: lines, to: out, grouping: { type: shuffle } }',
    );
    expect(await issuesOf(text)).toEqual([
      'topo.yaml:5:18: variable ${P} is not set; pass --set P=... or export P',
      'topo.yaml:6:21: variable ${input} is not set; pass --set input=... or export input',
      'topo.yaml:10:23: variable ${STYLE} is not set; pass --set STYLE=... or export STYLE',
    ]);
  });

  it('reports a malformed reference', async () => {
    const text = yaml('name: t', 'spouts:', '  - id: lines', '    type: file', '    config: { path: "${1x}" }', wiring.split('\n').slice(4).join('\n'));
    expect(await issuesOf(text)).toEqual([
      'topo.yaml:5:21: malformed reference "${1x}": write ${NAME} or ${NAME:-default} (NAME: letters, digits, _), or $${ for a literal "${"',
    ]);
  });
});

describe('errors', () => {
  it('reports malformed YAML with its position', async () => {
    const text = yaml('name: t', 'spouts:', '  - id: lines', '    type: file', '  type: file', '    parallelism: [1, 2');
    const issues = await issuesOf(text);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toBe('topo.yaml:5:1: invalid YAML: All mapping items must start at the same column');
  });

  it('reports duplicate keys as YAML errors', async () => {
    expect(await issuesOf(yaml('name: t', 'name: u', wiring))).toEqual(['topo.yaml:2:1: invalid YAML: Map keys must be unique']);
  });

  it('says a file holds one YAML document, at the start of the second (not the YAML library API to call)', async () => {
    expect(await issuesOf(yaml('name: t', wiring, '---', 'name: u'))).toEqual([
      'topo.yaml:13:1: a topology file holds one YAML document; found a second one here ("---")',
    ]);
    expect(await issuesOf(yaml('name: t', wiring, '...', 'name: u'))).toEqual([
      'topo.yaml:14:1: a topology file holds one YAML document; found a second one here (after the "..." that ends the first)',
    ]);
    // One document with its markers is one document.
    await expect(parseTopology(yaml('---', 'name: t', wiring, '...'), 'topo.yaml', opts())).resolves.toMatchObject({ name: 't' });
  });

  it('reports an empty file and a file that is not a mapping', async () => {
    expect(await issuesOf('')).toEqual(['topo.yaml:1:1: the file is empty; a topology has a name, spouts, bolts and streams']);
    expect(await issuesOf('- a\n')).toEqual([
      'topo.yaml:1:1: a topology file is a mapping of name, includes, config, spouts, bolts, sinks, streams; got a list',
    ]); // A log file given by mistake is one long plain scalar: quoted in part, not whole.
    const log = Array.from({ length: 5000 }, (_, i) => `10.0.0.1 - - [22/Nov/2026 08:00] GET /page/${i} HTTP/1.1 200`).join('\n');
    const [issue] = await issuesOf(`${log}\n`);
    expect(issue!.length).toBeLessThan(300);
    expect(issue).toMatch(
      /^topo\.yaml:1:1: a topology file is a mapping .*; got "10\.0\.0\.1 - - \[22\/Nov\/2026 08:00\] GET \/page\/0 .*\.\.\." \(a string of \d+ characters\)$/,
    );
  });

  it('finds every problem in one pass, each at its place', async () => {
    const text = yaml(
      'nme: broken topo', // 1
      'config:', // 2
      '  workres: 2', // 3
      '  messageTimeout: 30', // 4
      '  maxParallelism: 16', // 5
      'spouts:', // 6
      '  - id: lines', // 7
      '    type: fiel', // 8
      '    tick: 1s', // 9
      '  - id: lines', // 10
      '    type: file', // 11
      '    module: ./x.ts', // 12
      'bolts:', // 13
      '  - id: split', // 14
      '    type: split', // 15
      '    parallelsm: 2', // 16
      '    parallelism: 32', // 17
      '    tick: 5', // 18
      '    config: { separator: "," }', // 19
      '  - id: count', // 20
      '    type: count', // 21
      '    parallelism: 0', // 22
      '    config:', // 23
      '      window: 5 minutes', // 24
      '      topN: -1', // 25
      '  - { id: lonely, type: split, config: { separatr: "," } }', // 26
      '    # lonely has no input', // 27
      '  - id: __sys', // 28
      '    type: stdout', // 29
      '  - type: split', // 30
      'sinks:', // 31
      '  - id: out', // 32
      '    type: stdout', // 33
      '    config: { format: xml }', // 34
      'streams:', // 35
      '  - from: lines', // 36
      '    to: split', // 37
      '    grouping: { type: shufle }', // 38
      '  - from: split', // 39
      '    to: count', // 40
      '    grouping: { type: fields, fields: [wrd, word] }', // 41
      '  - from: split', // 42
      '    to: count', // 43
      '    grouping: { type: fields }', // 44
      '  - from: split', // 45
      '    to: out', // 46
      '    grouping: { type: global, stream: errors, fields: [x] }', // 47
      '  - from: count', // 48
      '    to: lines', // 49
      '    grouping: { type: shuffle }', // 50
      '  - from: out', // 51
      '    to: ghost', // 52
      '    grouping: { type: all, args: { a: 1 } }', // 53
      '  - from: count', // 54
      '    to: out', // 55
      '    grouping: { type: direct, streamId: default }', // 56
      '  - from: lines', // 57
      '    to: out', // 58
    );
    expect(await issuesOf(text)).toEqual([
      'topo.yaml:1:1: unknown key "nme" in the topology file; did you mean "name"?',
      'topo.yaml:1:1: the topology has no "name"; add e.g. name: my-topology',
      'topo.yaml:3:3: config: unknown config key "workres"; did you mean "workers"?',
      'topo.yaml:4:19: config: messageTimeout: durations need a unit, e.g. "30s" or "30ms"',
      'topo.yaml:8:11: unknown spout type "fiel"; did you mean "file"?; known spout types: file',
      'topo.yaml:9:5: tick is for bolts and sinks; spout "lines" is a spout and is never sent tick tuples',
      'topo.yaml:10:9: duplicate component id "lines"; spout "lines" is already defined at ' + `${join(dir, 'topo.yaml')}:7:5`,
      'topo.yaml:12:5: spout "lines" has both "type" and "module"; use type for a built-in spout or module for your own code, not both',
      'topo.yaml:16:5: unknown key "parallelsm" in bolt "split"; did you mean "parallelism"?',
      'topo.yaml:17:18: parallelism 32 of bolt "split" exceeds maxParallelism 16 (the number of key groups); lower it or raise config.maxParallelism',
      'topo.yaml:18:11: tick of bolt "split" needs a unit, e.g. "5s" or "5ms"',
      'topo.yaml:22:18: parallelism of bolt "count" must be an integer >= 1, got number 0',
      'topo.yaml:24:15: bolt "count" config: window: "5 minutes" is not a duration; write a number and a unit (ms, s, m, h, d), e.g. "30s", "1.5h" or "1h30m"',
      'topo.yaml:25:13: bolt "count" config: topN: must be >= 1, got -1',
      'topo.yaml:26:5: bolt "lonely" has no input stream; add one under streams: with to: lonely',
      'topo.yaml:26:42: bolt "lonely" config: unknown config key "separatr"; did you mean "separator"?',
      'topo.yaml:28:5: bolt "__sys" has no input stream; add one under streams: with to: __sys',
      'topo.yaml:28:9: id "__sys" starts with "__", which is reserved for the engine\'s own components',
      'topo.yaml:29:11: "stdout" is a sink type, not a bolt; move bolt "__sys" under sinks:',
      'topo.yaml:30:5: bolts[4] has no "id"; every component needs an id, unique in the topology',
      'topo.yaml:34:23: sink "out" config: format: expected one of json, text, got "xml"',
      'topo.yaml:38:23: unknown grouping type "shufle" in stream lines -> split; did you mean "shuffle"?; known: shuffle, fields, all, global, direct, local-or-shuffle, custom',
      'topo.yaml:41:40: field "wrd" is not declared by stream "default" of bolt "split"; did you mean "word"?; it declares: word',
      'topo.yaml:42:5: duplicate stream split -> count (stream "default"); already declared at ' + `${join(dir, 'topo.yaml')}:39:5`,
      'topo.yaml:44:15: fields grouping in stream split -> count needs "fields": the upstream fields to hash on, e.g. fields: [key]',
      'topo.yaml:47:39: bolt "split" declares no stream "errors"; did you mean "error"?; it declares: default, error',
      'topo.yaml:47:47: "fields" is only for fields grouping; the grouping of stream split -> out is global',
      'topo.yaml:49:9: stream count -> lines: "to" names spout "lines"; spouts take no input',
      'topo.yaml:51:11: stream out -> ghost: "from" names sink "out"; sinks emit nothing',
      'topo.yaml:52:9: stream out -> ghost: "to" names no component "ghost"; components: lines, split, count, lonely, __sys, out',
      'topo.yaml:53:28: "args" is only for custom grouping; the grouping of stream out -> ghost is all',
      'topo.yaml:56:31: unknown key "streamId" in the grouping of stream count -> out; did you mean "stream"?',
      'topo.yaml:57:5: stream lines -> out has no "grouping"; e.g. grouping: { type: shuffle }',
    ]);
  });

  it('checks select: fields the upstream stream declares, and not with direct grouping', async () => {
    const text = yaml(
      'name: picky',
      'spouts:',
      '  - { id: lines, type: file, config: { path: /in } }',
      'bolts:',
      '  - { id: split, type: split }',
      'sinks:',
      '  - { id: out, type: stdout }',
      '  - { id: direct, type: stdout }',
      'streams:',
      '  - { from: lines, to: split, grouping: { type: shuffle }, select: [line] }',
      '  - { from: split, to: out, grouping: { type: shuffle }, select: [wrd] }',
      '  - { from: split, to: direct, grouping: { type: direct }, select: [word] }',
    );
    expect(await issuesOf(text)).toEqual([
      'topo.yaml:11:67: field "wrd" is not declared by stream "default" of bolt "split"; did you mean "word"?; it declares: word',
      'topo.yaml:12:60: "select" does not apply to direct grouping (emitDirect sends whole tuples); remove it from stream split -> direct',
    ]);
  });

  it('says "got an empty list" for an empty select or fields, not "got a list"', async () => {
    const text = yaml(
      'name: t',
      'spouts:',
      '  - { id: lines, type: file, config: { path: /in } }',
      'bolts:',
      '  - { id: split, type: split }',
      'sinks:',
      '  - { id: out, type: stdout }',
      'streams:',
      '  - { from: lines, to: split, grouping: { type: fields, fields: [] } }',
      '  - { from: split, to: out, grouping: { type: shuffle }, select: [] }',
    );
    expect(await issuesOf(text)).toEqual([
      'topo.yaml:9:65: "fields" of stream lines -> split must be a non-empty list of field names, e.g. [key]; got an empty list',
      'topo.yaml:10:66: "select" of stream split -> out must be a non-empty list of field names, e.g. [key]; got an empty list',
    ]);
  });

  it('names a cycle', async () => {
    const text = yaml(
      'name: loop',
      'spouts:',
      '  - { id: lines, type: file, config: { path: /in } }',
      'bolts:',
      '  - { id: a, type: split }',
      '  - { id: b, type: split }',
      '  - { id: c, type: split }',
      'streams:',
      '  - { from: lines, to: a, grouping: { type: shuffle } }',
      '  - { from: a, to: b, grouping: { type: shuffle } }',
      '  - { from: b, to: c, grouping: { type: shuffle } }',
      '  - { from: c, to: a, grouping: { type: shuffle } }',
      '  - { from: c, to: c, grouping: { type: shuffle } }',
      '  - { from: c, to: a, grouping: { type: shuffle, stream: error } }', // the same cycle again: said once
    );
    expect(await issuesOf(text)).toEqual([
      'topo.yaml:12:5: streams form a cycle: a -> b -> c -> a; a topology must be acyclic',
      'topo.yaml:13:5: streams form a cycle: c -> c; a topology must be acyclic',
    ]);
  });

  it("points Flux's NONE grouping to shuffle", async () => {
    const text = yaml(
      'name: flux',
      'spouts:',
      '  - { id: lines, type: file, config: { path: /in } }',
      'sinks:',
      '  - { id: out, type: stdout }',
      'streams:',
      '  - { from: lines, to: out, grouping: { type: NONE } }',
    );
    expect(await issuesOf(text)).toEqual([
      'topo.yaml:7:47: unknown grouping type "NONE" in stream lines -> out; did you mean "shuffle"?; known: shuffle, fields, all, global, direct, local-or-shuffle, custom',
    ]);
  });

  it("puts errors a definition's hooks throw at the config value they name (configPath), all of them", async () => {
    class RuleError extends Error {
      constructor(
        readonly configPath: (string | number)[],
        message: string,
      ) {
        super(message);
      }
    }
    const rulesBolt = defineBolt({
      spec: { summary: 'Checks rules', fields: { rules: field.list({ description: 'rules', items: 'string', default: [] }) } },
      outputs: (c) => {
        const bad = c.rules.flatMap((r, i) => (r.startsWith('ok') ? [] : [new RuleError(['rules', i], `rule "${r}" does not start with ok`)]));
        if (bad.length === 1) throw bad[0];
        if (bad.length > 1) throw new AggregateError(bad, 'bad rules');
        if (c.rules.length === 0) throw new Error('no rules at all');
        return { default: ['x'] };
      },
      create: () => ({ execute() {} }),
    });
    const withRules = createRegistry([
      { type: 'file', definition: lineSpout, ref: builtin('fileSpout') },
      { type: 'rules', definition: rulesBolt, ref: builtin('rulesBolt') },
    ]);
    const topo = (rules: string) =>
      yaml(
        'name: hooks',
        'spouts:',
        '  - { id: lines, type: file, config: { path: /in } }',
        'bolts:',
        '  - id: check',
        '    type: rules',
        `    config: { rules: ${rules} }`,
        'streams:',
        '  - { from: lines, to: check, grouping: { type: shuffle } }',
      );
    expect(await issuesOf(topo('[ok1, bad, ok2, worse]'), opts({ registry: withRules }))).toEqual([
      'topo.yaml:7:28: bolt "check" config: rule "bad" does not start with ok',
      'topo.yaml:7:38: bolt "check" config: rule "worse" does not start with ok',
    ]);
    // An error that does not say where is the hook's own fault: reported at the component.
    expect(await issuesOf(topo('[]'), opts({ registry: withRules }))).toEqual([
      'topo.yaml:5:5: bolt "check": its definition\'s outputs() threw: no rules at all',
    ]);
  });

  it('rejects bad names, ids, sections and a topology without spouts', async () => {
    const text = yaml(
      'name: "my topo"',
      'bolts:',
      '  - id: "a b"',
      '    type: split',
      '  - id: 7',
      '    type: split',
      '  - just a string',
      'sinks: { id: out }',
      'streams:',
      '  - { from: "a b", to: x, grouping: shuffle }',
    );
    expect(await issuesOf(text)).toEqual([
      'topo.yaml:1:7: topology name "my topo" may contain only ASCII letters, digits, ".", "_" and "-"',
      'topo.yaml:3:9: id "a b" may contain only ASCII letters, digits, "_" and "-"',
      'topo.yaml:5:9: "id" of bolts[1] must be a string, got number 7; quote it: "7"',
      'topo.yaml:7:5: bolts[2] must be a mapping with an id and a type (or module), got "just a string"',
      'topo.yaml:8:8: sinks must be a list (each item starting with "- "), got a mapping',
      'topo.yaml:10:37: the grouping of stream a b -> x must be a mapping such as { type: shuffle }, got "shuffle"',
    ]);
  });

  it('requires a spout, and an input for every bolt and sink', async () => {
    const text = yaml('name: t', 'sinks:', '  - id: out', '    type: stdout');
    expect(await issuesOf(text)).toEqual([
      'topo.yaml:1:1: the topology has no spouts; declare at least one under spouts:',
      'topo.yaml:3:5: sink "out" has no input stream; add one under streams: with to: out',
    ]);
  });

  it('reports no spouts at the spouts: key when there is one', async () => {
    const sink = ['sinks:', '  - id: out', '    type: stdout'];
    expect(await issuesOf(yaml('name: t', 'config:', '  acking: false', 'spouts: []', ...sink))).toEqual([
      'topo.yaml:4:1: the topology has no spouts; declare at least one under spouts:',
      'topo.yaml:6:5: sink "out" has no input stream; add one under streams: with to: out',
    ]);
    // Without a spouts: key, at the start of the topology (after leading comments).
    expect((await issuesOf(yaml('# a comment', 'name: t', ...sink)))[0]).toBe('topo.yaml:2:1: the topology has no spouts; declare at least one under spouts:');
  });

  it('takes a bare 0 as a duration (the same in every unit), and no other bare number', async () => {
    const text = (v: string) =>
      yaml(
        'name: t',
        'spouts:',
        '  - { id: lines, type: file, config: { path: /in } }',
        'bolts:',
        `  - { id: counter, type: count, config: { window: ${v} } }`,
        'streams:',
        '  - { from: lines, to: counter, grouping: { type: shuffle } }',
      );
    const spec = await parseTopology(text('0'), 'topo.yaml', opts());
    expect(spec.components.find((c) => c.id === 'counter')!.config.window).toBe(0);
    expect(await issuesOf(text('5'))).toEqual(['topo.yaml:5:51: bolt "counter" config: window: durations need a unit, e.g. "5s" or "5ms"']);
  });

  it('refuses a duration longer than a timer can wait (it would fire at once), in config, topology config and tick', async () => {
    const text = yaml(
      'name: t',
      'config: { drainTimeout: 25d, messageTimeout: 24d }',
      'spouts:',
      '  - { id: lines, type: file, config: { path: /in } }',
      'bolts:',
      '  - { id: counter, type: count, tick: 600h, config: { window: 2147483648ms } }',
      'streams:',
      '  - { from: lines, to: counter, grouping: { type: shuffle } }',
    );
    const issues = await issuesOf(text);
    expect(issues).toHaveLength(3);
    expect(issues[0]).toMatch(/^topo\.yaml:2:25: .*drainTimeout: must be at most 24\.8 days \(2147483647ms, the longest a timer can wait\), got "25d"$/);
    expect(issues[1]).toBe('topo.yaml:6:39: tick of bolt "counter" must be at most 24.8 days (2147483647ms, the longest a timer can wait)');
    expect(issues[2]).toMatch(/^topo\.yaml:6:63: bolt "counter" config: window: must be at most 24\.8 days/);
  });

  it('takes tick: 0 as no ticks, also turning off the tick the component asks for', async () => {
    const text = (tick: string) =>
      yaml(
        'name: t',
        'spouts:',
        '  - { id: lines, type: file, config: { path: /in } }',
        'bolts:',
        `  - { id: counter, type: count${tick ? `, tick: ${tick}` : ''} }`,
        'streams:',
        '  - { from: lines, to: counter, grouping: { type: shuffle } }',
      );
    const tickOf = async (tick: string) => (await parseTopology(text(tick), 'topo.yaml', opts())).components.find((c) => c.id === 'counter')!.tickMs;
    // countBolt asks for a tick every window (1m by default).
    expect(await tickOf('')).toBe(60_000);
    expect(await tickOf('2s')).toBe(2000);
    for (const zero of ['0', '"0"', '0s', '0ms', '0.0m']) expect(await tickOf(zero), zero).toBeUndefined();
    // Only zero itself: what rounds to 0ms, a negative, a bare number, a word stay errors.
    expect(await issuesOf(text('0.4ms'))).toEqual(['topo.yaml:5:39: tick of bolt "counter" must be at least 1ms, or 0 for no ticks; got "0.4ms"']);
    expect(await issuesOf(text('-5'))).toEqual([
      'topo.yaml:5:39: tick of bolt "counter" must be a duration: a number and a unit (ms, s, m, h, d) such as "1s", or 0 for no ticks; got number -5',
    ]);
    expect(await issuesOf(text('-1s'))).toEqual([
      'topo.yaml:5:39: tick of bolt "counter" must be a duration: a number and a unit (ms, s, m, h, d) such as "1s", or 0 for no ticks; got "-1s"',
    ]);
    expect(await issuesOf(text('5'))).toEqual(['topo.yaml:5:39: tick of bolt "counter" needs a unit, e.g. "5s" or "5ms"']);
  });

  it('refuses a duration below 1ms or below its minimum instead of rounding it up to it; rounds others to whole ms', async () => {
    const text = (config: string, tick: string, window: string) =>
      yaml(
        'name: t',
        `config: { ${config} }`,
        'spouts:',
        '  - { id: lines, type: file, config: { path: /in } }',
        'bolts:',
        `  - { id: counter, type: count, tick: ${tick}, config: { window: ${window} } }`,
        'streams:',
        '  - { from: lines, to: counter, grouping: { type: shuffle } }',
      );
    expect(await issuesOf(text('batchLinger: 0.5ms, messageTimeout: 0.0005s', '0.5ms', '0.5ms'))).toEqual([
      'topo.yaml:2:24: config: batchLinger: must be 0 or at least 1ms (no timer waits less than 1ms), got "0.5ms"',
      'topo.yaml:2:47: config: messageTimeout: must be at least 1ms, got "0.0005s"',
      'topo.yaml:6:39: tick of bolt "counter" must be at least 1ms, or 0 for no ticks; got "0.5ms"',
      'topo.yaml:6:64: bolt "counter" config: window: must be 0 or at least 1ms (no timer waits less than 1ms), got "0.5ms"',
    ]);
    // A zero below a minimum names the value too.
    expect(await issuesOf(text('messageTimeout: 0s', '1s', '1s'))).toEqual(['topo.yaml:2:27: config: messageTimeout: must be at least 1ms, got "0s"']);
    // At or above the minimum, fractions round to the nearest whole millisecond; 0 stays 0.
    const spec = await parseTopology(text('batchLinger: 0, messageTimeout: 1.5ms', '1.4ms', '2.5ms'), 'topo.yaml', opts());
    expect(spec.config).toMatchObject({ batchLingerMs: 0, messageTimeoutMs: 2 });
    expect(spec.components.find((c) => c.id === 'counter')).toMatchObject({ tickMs: 1, config: { window: 3 } });
  });

  it('checks the topology config', async () => {
    const text = yaml('name: t', 'config:', '  maxParallelism: 40000', '  acking: yes', '  batchSize: 0', '  drainTimeout: 1 minute', wiring);
    expect(await issuesOf(text)).toEqual([
      'topo.yaml:3:19: config: maxParallelism: must be <= 32768, got 40000',
      'topo.yaml:4:11: config: acking: expected true or false, got "yes"',
      'topo.yaml:5:14: config: batchSize: must be >= 1, got 0',
      'topo.yaml:6:17: config: drainTimeout: "1 minute" is not a duration; write a number and a unit (ms, s, m, h, d), e.g. "30s", "1.5h" or "1h30m"',
    ]);
  });

  it('limits the topology to 4096 tasks', async () => {
    const big = yaml(
      'name: t',
      'config: { maxParallelism: 4096 }',
      'spouts:',
      '  - { id: lines, type: file, parallelism: 3000, config: { path: /in } }',
      'sinks:',
      '  - { id: out, type: stdout, parallelism: 1097 }',
      'streams:',
      '  - { from: lines, to: out, grouping: { type: shuffle } }',
    );
    const issues = await issuesOf(big);
    expect(issues).toEqual([
      'topo.yaml:6:43: the topology has more than 4096 tasks from sink "out" on (parallelism summed over all components); lower some parallelism',
    ]);
  });

  it('lists the known types when nothing is near', async () => {
    const text = yaml(
      'name: t',
      wiring,
      '  - { from: lines, to: b, grouping: { type: shuffle } }',
      '  - { from: lines, to: c, grouping: { type: shuffle } }',
      'bolts:',
      '  - id: b',
      '    type: quantum',
      '  - id: c',
    );
    expect(await issuesOf(text)).toEqual([
      'topo.yaml:17:11: unknown bolt type "quantum"; known bolt types: count, split',
      'topo.yaml:18:5: bolt "c" needs a "type" (a built-in bolt: count, split) or a "module" (the path of your own .ts or .js file)',
    ]);
  });
});

describe('config keys', () => {
  it('a key that is no name (null, a list, a mapping) is reported at its place, nested too, with no warning from the YAML reader', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const text = yaml(
        'name: keys',
        'spouts:',
        '  - id: lines',
        '    type: file',
        '    config:',
        '      path: /in',
        '      null: z',
        '      ? [a, b]',
        '      : y',
        'sinks:',
        '  - id: out',
        '    type: stdout',
        '    config:',
        '      ? { x: 1 }',
        '      : y',
        'streams:',
        '  - { from: lines, to: out, grouping: { type: shuffle } }',
      );
      expect(await issuesOf(text)).toEqual([
        'topo.yaml:7:7: keys in the config of spout "lines" must be names, got null',
        'topo.yaml:8:9: keys in the config of spout "lines" must be names, got a list',
        'topo.yaml:14:9: keys in the config of sink "out" must be names, got a mapping',
      ]);
      await new Promise((r) => setImmediate(r));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('merge keys', () => {
  it("merge the named mappings in, the mapping's own keys and the first source winning; x- keys are ignored", async () => {
    const text = yaml(
      'name: merged',
      'x-spout: &spout', // 2
      '  type: file',
      '  parallelism: 2',
      '  config: &cfg { path: /a, rate: 5 }',
      'x-fast: &fast { config: { path: /b, rate: 500 } }', // 6
      'spouts:',
      '  - { <<: *spout, id: one }',
      '  - { <<: [*fast, *spout], id: two, parallelism: 3 }',
      '  - { <<: *spout, id: three, config: { <<: *cfg, rate: 9 } }',
      'sinks:',
      '  - { id: out, type: stdout }',
      'streams:',
      '  - { from: one, to: out, grouping: { type: shuffle } }',
      '  - { from: two, to: out, grouping: { type: shuffle } }',
      '  - { from: three, to: out, grouping: { type: shuffle } }',
    );
    const spec = await parseTopology(text, join(dir, 'merge.yaml'), opts());
    const byId = Object.fromEntries(spec.components.map((c) => [c.id, c]));
    expect(byId.one).toMatchObject({ type: 'file', parallelism: 2, config: { path: '/a', rate: 5 } });
    expect(byId.two).toMatchObject({ type: 'file', parallelism: 3, config: { path: '/b', rate: 500 } });
    expect(byId.three).toMatchObject({ type: 'file', parallelism: 2, config: { path: '/a', rate: 9 } });
  });

  it('report a bad merged value where it is written, and a << of something that is not a mapping', async () => {
    const text = yaml(
      'name: merged',
      'x-spout: &spout',
      '  type: file',
      '  config: { path: /a, rate: 0 }', // 4: rate below its minimum, merged into both spouts
      'spouts:',
      '  - { <<: *spout, id: one }',
      '  - { <<: 3, id: two, type: file, config: { path: /b } }', // 7
      'sinks:',
      '  - { id: out, type: stdout }',
      'streams:',
      '  - { from: one, to: out, grouping: { type: shuffle } }',
      '  - { from: two, to: out, grouping: { type: shuffle } }',
    );
    const issues = await issuesOf(text);
    expect(issues).toContain('topo.yaml:7:11: merge key << takes a mapping or a list of mappings (e.g. <<: *defaults), got the value 3');
    expect(issues).toContain('topo.yaml:4:29: spout "one" config: rate: must be >= 1, got 0');
    expect(issues.filter((i) => i.includes('unknown key "<<"'))).toEqual([]);
  });
});

describe('stateAcks', () => {
  const topo = (config: string) =>
    yaml(
      'name: t',
      `config: { ${config} }`,
      'spouts:',
      '  - { id: gen, type: file, config: { path: /a } }',
      'sinks:',
      '  - { id: out, type: stdout }',
      'streams:',
      '  - { from: gen, to: out, grouping: { type: shuffle } }',
    );

  it('after-copy needs acking, state copies, and copies more often than messageTimeout', async () => {
    expect(await issuesOf(topo('stateAcks: after-copy, acking: false'))).toEqual([
      'topo.yaml:2:22: config: stateAcks: after-copy holds acks, and acking is off (acking: false): set acking: true, or drop stateAcks',
    ]);
    expect(await issuesOf(topo('stateAcks: after-copy, stateSnapshotInterval: 0'))).toEqual([
      'topo.yaml:2:22: config: stateAcks: after-copy releases acks at each state copy, and stateSnapshotInterval is 0 (no copies)',
    ]);
    expect(await issuesOf(topo('stateAcks: after-copy, stateSnapshotInterval: 30s'))).toEqual([
      'topo.yaml:2:22: config: stateAcks: after-copy holds acks up to stateSnapshotInterval (30000ms), which is not under messageTimeout (30000ms): every tree would time out',
    ]);
    const ok = await parseTopology(topo('stateAcks: after-copy, stateSnapshotInterval: 1s'), join(dir, 'ok.yaml'), opts());
    expect(ok.config.stateAcks).toBe('after-copy');
  });
});

describe('numbers', () => {
  it('refuse infinity (.inf, 1e400) where a number is expected', async () => {
    const text = yaml(
      'name: inf',
      'spouts:',
      '  - { id: gen, type: file, config: { path: /a, rate: .inf } }',
      '  - { id: big, type: file, config: { path: /b, rate: 1e400 } }',
      'sinks:',
      '  - { id: out, type: stdout }',
      'streams:',
      '  - { from: gen, to: out, grouping: { type: shuffle } }',
      '  - { from: big, to: out, grouping: { type: shuffle } }',
    );
    const issues = await issuesOf(text);
    expect(issues).toContain('topo.yaml:3:54: spout "gen" config: rate: expected a finite number, got Infinity');
    expect(issues).toContain('topo.yaml:4:54: spout "big" config: rate: expected a finite number, got Infinity');
  });
});

describe('aliases', () => {
  it('an anchor on a block mapping set after its alias is placed at the anchor, not at the mapping', async () => {
    const text = yaml(
      'name: anchors',
      'spouts:',
      '  - { <<: *gen, id: lines }', // 3
      'x-gen:', // 4
      '  &gen', // 5
      '  type: file', // 6
      '  config: { path: /in }',
      'sinks:',
      '  - { id: out, type: stdout }',
      'streams:',
      '  - { from: lines, to: out, grouping: { type: shuffle } }',
    );
    expect((await issuesOf(text))[0]).toBe(
      'topo.yaml:3:11: unknown alias "*gen" (no anchor &gen before it; &gen is set later, at line 5: an anchor must come before its aliases)',
    );
  });

  it('report an alias with no anchor before it at the alias, without follow-on errors', async () => {
    const text = yaml(
      'name: t',
      'spouts:',
      '  - id: lines',
      '    type: *nope', // 4: not "type must be a string, got nothing"
      '    config: { path: /in }',
      'bolts:',
      '  - { <<: *base, id: split }', // 7: not "merge key << takes a mapping... got nothing", nor "needs a type"
      '  - { <<: [*later, *base], id: count }', // 8
      'sinks:',
      '  - { id: out, type: stdout, config: *cfg }', // 10
      'streams:',
      '  - { from: lines, to: split, grouping: { type: shuffle } }',
      '  - { from: split, to: count, grouping: { type: shuffle, stream: *s } }', // 13: not 'declares no stream "default"'
      '  - { from: count, to: out, grouping: { type: shuffle }, select: *sel }', // 14
      'x-later: &later { type: count }',
    );
    expect(await issuesOf(text)).toEqual([
      'topo.yaml:4:11: unknown alias "*nope" (no anchor &nope before it)',
      'topo.yaml:7:11: unknown alias "*base" (no anchor &base before it)',
      'topo.yaml:8:12: unknown alias "*later" (no anchor &later before it; &later is set later, at line 15: an anchor must come before its aliases)',
      'topo.yaml:8:20: unknown alias "*base" (no anchor &base before it)',
      'topo.yaml:10:38: unknown alias "*cfg" (no anchor &cfg before it)',
      'topo.yaml:13:66: unknown alias "*s" (no anchor &s before it)',
      'topo.yaml:14:66: unknown alias "*sel" (no anchor &sel before it)',
    ]);
  });

  it('skip the whole-graph checks when an unknown alias may hold an id or an edge', async () => {
    const text = yaml(
      'name: t',
      'spouts:',
      '  - { id: lines, type: file, config: { path: /in } }',
      'bolts:',
      '  - { id: *nope, type: split }', // 5: the stream to split must not be "names no component"
      'sinks:',
      '  - { id: out, type: stdout }',
      'streams:',
      '  - { from: lines, to: split, grouping: { type: shuffle } }',
      '  - *edge', // 10: out must not be "has no input stream"
    );
    expect(await issuesOf(text)).toEqual([
      'topo.yaml:5:11: unknown alias "*nope" (no anchor &nope before it)',
      'topo.yaml:10:5: unknown alias "*edge" (no anchor &edge before it)',
    ]);
  });
});

describe('includes', () => {
  it('variables used only by an included part that the including file replaces are neither used nor needed', async () => {
    await write(
      'replaced-base.yaml',
      yaml(
        'config:',
        '  batchSize: ${BATCH}',
        'spouts:',
        '  - { id: lines, type: file, config: { path: "${input}" } }',
        'sinks:',
        '  - { id: out, type: stdout, config: { format: "${FMT:-text}" } }',
        'streams:',
        '  - { from: lines, to: out, grouping: { type: "${GROUPING}" } }',
      ),
    );
    const root = await write(
      'replacing.yaml',
      yaml(
        'name: inc',
        'includes: [replaced-base.yaml]',
        'config:',
        '  batchSize: 10',
        'spouts:',
        '  - { id: lines, type: file, config: { path: /root } }',
        'streams:',
        '  - { from: lines, to: out, grouping: { type: shuffle } }',
      ),
    );
    // BATCH, input and GROUPING are not set, and need not be: what used them is replaced.
    const spec = await loadTopology(root, opts({ vars: { FMT: 'json' } }));
    expect(spec.components.map((c) => c.config)).toEqual([expect.objectContaining({ path: '/root' }), expect.objectContaining({ format: 'json' })]);
    // Given, they are misspelt or stale: the topology does not use them.
    const err = await loadTopology(root, opts({ vars: { input: '/in' } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidTopologyError);
    expect((err as InvalidTopologyError).issues.map((i) => i.message)).toEqual([
      'variable "input" is given a value, but the topology uses no ${input} (its variables: FMT)',
    ]);
  });

  it('appends components and streams, merges config with the including file winning, and reads a diamond once', async () => {
    await write(
      'common.yaml',
      yaml(
        'includes: [base.yaml]',
        'config:',
        '  workers: 4',
        '  batchSize: 100',
        'spouts:',
        '  - id: lines',
        '    type: file',
        '    config: { path: /common }',
        'sinks:',
        '  - id: out',
        '    type: stdout',
        'streams:',
        '  - { from: lines, to: out, grouping: { type: shuffle } }',
      ),
    );
    await write('base.yaml', yaml('config:', '  credits: 3', '  workers: 1'));
    const root = await write(
      'root.yaml',
      yaml(
        'name: inc',
        'includes: [common.yaml, base.yaml]',
        'config:',
        '  batchSize: 50',
        'spouts:',
        '  - id: lines', // overrides the included spout of the same id
        '    type: file',
        '    config: { path: /root }',
        'bolts:',
        '  - { id: split, type: split }',
        'streams:',
        '  - { from: lines, to: split, grouping: { type: shuffle } }',
      ),
    );
    const spec = await loadTopology(root, opts());
    expect(spec.config).toMatchObject({ workers: 4, batchSize: 50, credits: 3 });
    expect(spec.components.map((c) => [c.id, c.location?.file])).toEqual([
      ['lines', root],
      ['split', root],
      ['out', join(dir, 'common.yaml')],
    ]);
    expect(spec.components[0]!.config).toEqual({ path: '/root', rate: 100 });
    expect(spec.streams.map((s) => `${s.from}->${s.to}`)).toEqual(['lines->split', 'lines->out']);
  });

  it('locates errors in the included file and names include cycles', async () => {
    await write('bad-inc.yaml', yaml('includes: [cyc.yaml]', 'bolts:', '  - id: split', '    type: split', '    parallelsm: 2'));
    await write('cyc.yaml', yaml('includes: [bad-inc.yaml]'));
    const text = yaml('name: t', 'includes: [bad-inc.yaml, missing.yaml]', wiring, '  - { from: lines, to: split, grouping: { type: shuffle } }');
    expect(await issuesOf(text)).toEqual([
      'topo.yaml:2:26: cannot read included file ' + `${join(dir, 'missing.yaml')}: no such file`,
      'bad-inc.yaml:5:5: unknown key "parallelsm" in bolt "split"; did you mean "parallelism"?',
      `cyc.yaml:1:12: include cycle: ${join(dir, 'bad-inc.yaml')} -> ${join(dir, 'cyc.yaml')} -> ${join(dir, 'bad-inc.yaml')}`,
    ]);
  });

  it('stops at a YAML error in an included file without false graph errors', async () => {
    await write('broken.yaml', yaml('bolts:', '  - id: split', '   type: split'));
    const text = yaml('name: t', 'includes: [broken.yaml]', wiring, '  - { from: lines, to: split, grouping: { type: shuffle } }');
    const issues = await issuesOf(text);
    expect(issues.length).toBeGreaterThan(0);
    for (const i of issues) expect(i).toMatch(/^broken\.yaml:3:\d+: invalid YAML: /);
  });
});

describe('user modules', () => {
  const boltModule = yaml(
    'interface Cfg { factor: number }',
    'const factorField: { type: "int"; description: string; default: number } = { type: "int", description: "factor", default: 2 };',
    'export const scale = {',
    '  kind: "bolt" as const,',
    '  spec: { summary: "scales", fields: { factor: factorField } },',
    '  outputs: (c: Cfg) => ({ default: ["value"], [`x${c.factor}`]: ["value"] }),',
    '  create: () => ({ execute() {} }),',
    '};',
  );

  it('loads a .ts component and a custom grouping', async () => {
    await write('scale.ts', boltModule);
    await write('by-site.ts', yaml('export default (args: Record<string, unknown>) => ({ prepare() {}, chooseTasks: () => [Number(args.k)] });'));
    const text = yaml(
      'name: t',
      wiring,
      '  - { from: lines, to: scale, grouping: { type: custom, module: ./by-site.ts, args: { k: 1 } } }',
      '  - { from: scale, to: out, grouping: { type: shuffle, stream: x3 } }',
      'bolts:',
      '  - id: scale',
      '    module: ./scale.ts',
      '    config: { factor: 3 }',
    );
    const spec = await parseTopology(text, join(dir, 'mod.yaml'), opts());
    const scale = spec.components.find((c) => c.id === 'scale')!;
    expect(scale).toMatchObject({
      kind: 'bolt',
      module: './scale.ts',
      ref: { url: pathToFileURL(join(dir, 'scale.ts')).href, export: 'scale' },
      config: { factor: 3 },
      outputs: { default: ['value'], x3: ['value'] },
    });
    expect(scale.type).toBeUndefined();
    expect(spec.streams[1]!.grouping).toEqual({
      type: 'custom',
      stream: 'default',
      custom: { ref: { url: pathToFileURL(join(dir, 'by-site.ts')).href, export: 'default' }, args: { k: 1 } },
    });
  });

  it('loads a .ts module from a folder without package.json in plain Node (no vitest transform)', async () => {
    // vitest compiles every import itself; this runs the loader as `qitian run` does, in a child
    // process where only tsx's hooks can compile the user's TypeScript.
    const sub = await mkdtemp(join(dir, 'plain-'));
    await writeFile(join(sub, 'scale.ts'), boltModule);
    const text = yaml(
      'name: t',
      'spouts: [{ id: g, type: gen }]',
      'bolts: [{ id: s, module: ./scale.ts }]',
      'streams: [{ from: g, to: s, grouping: { type: shuffle } }]',
    );
    const script = `
      const { parseTopology } = await import(${JSON.stringify(new URL('./load.ts', import.meta.url).href)});
      const { createRegistry } = await import(${JSON.stringify(new URL('./registry.ts', import.meta.url).href)});
      const gen = { kind: 'spout', spec: { summary: 'g', fields: {} }, outputs: () => ({ default: ['n'] }), create: () => ({ next: () => 'end' }) };
      const registry = createRegistry([{ type: 'gen', definition: gen, ref: { url: 'file:///gen.js', export: 'default' } }]);
      const spec = await parseTopology(${JSON.stringify(text)}, ${JSON.stringify(join(sub, 't.yaml'))}, { registry, env: {} });
      console.log(JSON.stringify(spec.components[1]));
    `;
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx/esm', '--input-type=module', '-e', script], { cwd: root });
    expect(JSON.parse(stdout)).toMatchObject({
      id: 's',
      ref: { url: pathToFileURL(join(sub, 'scale.ts')).href, export: 'scale' },
      outputs: { default: ['value'], x2: ['value'] },
    });
  });

  it('picks a named export with module: ./file.ts#name, and suggests a near name', async () => {
    await write('two.ts', yaml(boltModule, 'export const other = { ...scale, spec: { summary: "other", fields: {} } };'));
    const text = yaml(
      'name: t',
      wiring,
      '  - { from: lines, to: scale, grouping: { type: shuffle } }',
      'bolts:',
      '  - id: scale',
      '    module: ./two.ts#other',
    );
    const spec = await parseTopology(text, join(dir, 'named.yaml'), opts());
    const scale = spec.components.find((c: { id: string }) => c.id === 'scale')!;
    expect(scale.ref).toEqual({ url: pathToFileURL(join(dir, 'two.ts')).href, export: 'other' });
    const bad = await issuesOf(yaml('name: t', wiring, 'bolts:', '  - id: scale', '    module: ./two.ts#scal'));
    expect(bad.find((i) => i.includes('#') || i.includes('exported as'))).toMatch(
      /module \.\/two\.ts has no component definition exported as "scal"; did you mean "scale"\?/,
    );
  });

  it('with several definitions and no default, suggests one of the kind the entry needs', async () => {
    // Namespace keys come sorted: the sink "devnull" would be first.
    await write(
      'several.ts',
      yaml(
        'export const upper = { kind: "bolt", spec: { summary: "u", fields: {} }, outputs: () => ({ default: ["x"] }), create() { return { execute() {} }; } };',
        'export const devnull = { kind: "sink", spec: { summary: "d", fields: {} }, create() { return { execute() {} }; } };',
      ),
    );
    const issues = await issuesOf(
      yaml('name: t', wiring, '  - { from: lines, to: up, grouping: { type: shuffle } }', 'bolts:', '  - id: up', '    module: ./several.ts'),
    );
    expect(issues.find((i) => i.includes('several component definitions'))).toMatch(/or name it: \.\/several\.ts#upper$/);
  });

  it('locates a missing module, one that throws, one without a definition, and a kind mismatch', async () => {
    await write('throws.ts', yaml('const x: number = 1;', 'throw new Error(`boom ${x}`);'));
    await write('empty.ts', yaml('export const notADefinition = 42;'));
    await write('spoutish.ts', yaml('export default { kind: "spout", spec: { summary: "s", fields: {} }, create() { return { next: () => "end" }; } };'));
    await write('no-factory.ts', yaml('export const x = 1;'));
    const text = yaml(
      'name: t',
      wiring,
      '  - { from: lines, to: a, grouping: { type: custom, module: ./no-factory.ts } }',
      'bolts:',
      '  - id: a',
      '    module: ./nope.ts',
      '  - id: b',
      '    module: ./throws.ts',
      '  - id: c',
      '    module: ./empty.ts',
      '  - id: d',
      '    module: ./spoutish.ts',
      '  - id: e',
      '    module: ./data.json',
    );
    const issues = (await issuesOf(text)).filter((i) => !i.includes('has no input stream'));
    expect(issues[0]).toBe(
      'topo.yaml:13:61: module ./no-factory.ts must export default a grouping factory: (args) => ({ prepare(targetTasks, fields), chooseTasks(values) })',
    );
    expect(issues[1]).toBe(`topo.yaml:16:13: module file not found: ./nope.ts (looked for ${join(dir, 'nope.ts')})`);
    // With where in the module its top level threw.
    expect(issues[2]).toMatch(
      new RegExp(`^topo\\.yaml:18:13: cannot load module ${join(dir, 'throws.ts')}: boom 1 \\(at ${join(dir, 'throws.ts')}:2:\\d+\\)$`),
    );
    expect(issues.slice(3)).toEqual([
      'topo.yaml:20:13: module ./empty.ts exports no component definition; export default defineBolt({ spec, create }) from @qitian/api',
      'topo.yaml:22:13: module ./spoutish.ts defines a spout, but bolt "d" is listed under bolts:; move it under spouts:',
      'topo.yaml:24:13: module "./data.json" must be a .ts or .js file',
    ]);
  });
});
