/**
 * The `qitian` command as a user runs it: a child process on the built bin, its exit code,
 * stdout and stderr.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { stateFile } from '@qitian/runtime';
import { describe, expect, test } from 'vitest';
import { main } from '../src/bin.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'packages/cli/bin/qitian.js');
const WORDCOUNT = join(ROOT, 'examples/wordcount/topology.yaml');

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[]): { child: ChildProcess; done: Promise<Result> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Result>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

const qitian = (...args: string[]) => start(args).done;

function tmp(name: string, text?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'qitian-cli-'));
  const path = join(dir, name);
  if (text !== undefined) writeFileSync(path, text);
  return path;
}

/** A topology `t.yaml` beside the user module `name` it runs, in a folder of their own: the topology's path. */
function withModule(name: string, module: readonly string[], topology: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'qitian-cli-'));
  writeFileSync(join(dir, name), `${module.join('\n')}\n`);
  writeFileSync(join(dir, 't.yaml'), `${topology.join('\n')}\n`);
  return join(dir, 't.yaml');
}

/**
 * A topology whose sink blocks its thread in a read from a FIFO nobody writes, on its first tuple:
 * the topology's path, and the file the sink writes just before it blocks.
 */
function blockedInSyscall(config = ''): { file: string; blocked: string } {
  const dir = mkdtempSync(join(tmpdir(), 'qitian-cli-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const blocked = join(dir, 'blocked');
  const file = withModule(
    'block.ts',
    [
      "import { readFileSync, writeFileSync } from 'node:fs';",
      "import { defineSink } from '@qitian/api';",
      'export default defineSink({',
      "  spec: { summary: 'blocks its thread in a read from a FIFO nobody writes', fields: {} },",
      '  create() {',
      '    return {',
      '      execute() {',
      `        writeFileSync(${JSON.stringify(blocked)}, 'x');`,
      `        readFileSync(${JSON.stringify(fifo)});`,
      '      },',
      '    };',
      '  },',
      '});',
    ],
    [
      'name: blocked',
      ...(config ? [config] : []),
      'spouts: [{ id: gen, type: generator, config: { format: words, rate: 100 } }]',
      'sinks: [{ id: block, module: ./block.ts }]',
      'streams: [{ from: gen, to: block, grouping: { type: shuffle } }]',
    ],
  );
  return { file, blocked };
}

/** `qitian validate` of a file that must fail (exit 1): its error lines without the file name, and the count line. */
async function validateErrors(file: string): Promise<{ errors: string[]; count: string }> {
  const r = await qitian('validate', file);
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n');
  const count = lines.pop()!;
  return { errors: lines.map((l) => (l.startsWith(`${file}:`) ? l.slice(file.length + 1) : l)), count };
}

describe('qitian validate', () => {
  test('a valid topology exits 0 and says so', async () => {
    const r = await qitian('validate', WORDCOUNT, '--set', 'input=a', '--set', 'output=b');
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('topology "wordcount" is valid: 4 components, 3 streams, 6 tasks');
    expect(r.code).toBe(0);
  });

  test('counts of one are singular', async () => {
    const file = tmp('one.yaml', 'name: one\nspouts:\n  - { id: gen, type: generator }\n');
    const r = await qitian('validate', file);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${file}: topology "one" is valid: 1 component, 0 streams, 1 task\n`);
    expect(r.code).toBe(0);
  });

  test('config that names input fields no input stream declares is an error at its place, with the near field', async () => {
    const file = tmp(
      'fields.yaml',
      [
        'name: fields',
        'spouts:',
        '  - { id: gen, type: generator, config: { count: 1 } }',
        'bolts:',
        '  - { id: parse, type: syslog-parse }',
        '  - id: top',
        '    type: topn',
        '    config:',
        '      dimensions:',
        '        - { name: src, fields: [srcIP] }',
        '  - id: behaviour',
        '    type: cluster',
        '    config: { keyBy: hostname, features: [eventType, sev] }',
        '  - id: alerts',
        '    type: alert',
        '    config:',
        '      strategies:',
        '        - name: flaps',
        '          threshold: { window: 5m, count: 5, by: [hots], where: { eventType: LINK-UPDOWN } }',
        'sinks:',
        '  - { id: out, type: stdout }',
        'streams:',
        '  - { from: gen, to: parse, grouping: { type: shuffle } }',
        '  - { from: parse, to: top, grouping: { type: global } }',
        '  - { from: parse, to: behaviour, grouping: { type: fields, fields: [host] } }',
        '  - { from: parse, to: alerts, grouping: { type: global } }',
        '  - { from: top, to: out, grouping: { type: global } }',
        '',
      ].join('\n'),
    );
    const { errors, count } = await validateErrors(file);
    expect(count).toBe('4 errors');
    expect(errors[0]).toMatch(
      /^10:33: bolt "top" config: dimension "src" counts field "srcIP", which no input stream declares; did you mean "srcIp"\?; its input declares: "default" of "parse" \(time, host,/,
    );
    expect(errors[1]).toMatch(/^13:22: bolt "behaviour" config: keyBy names field "hostname", which no input stream declares; its input declares:/);
    expect(errors[2]).toMatch(/^13:54: bolt "behaviour" config: feature field "sev" is in no input stream; its input declares:/);
    expect(errors[3]).toBe('19:51: bolt "alerts" config: strategies[0].threshold.by[0]: "hots" is not an event field; did you mean "host"?');
  });

  test('config only a component can judge is checked too (checkConfig), with everything else in the same pass', async () => {
    const file = tmp(
      'judged.yaml',
      [
        'name: judged',
        'spouts:',
        '  - { id: tls, type: syslog, config: { protocol: tls, port: 0 } }',
        'bolts:',
        '  - id: parse',
        '    type: syslog-parse',
        '    config: { timezone: Mars/Olympus, field: msg }',
        'sinks:',
        '  - { id: out, type: file, config: { path: /tmp/x.jsonl, fields: [host, hots] } }',
        'streams:',
        '  - { from: tls, to: parse, grouping: { type: shuffle } }',
        '  - { from: parse, to: out, grouping: { type: shuffle } }',
        '',
      ].join('\n'),
    );
    const { errors, count } = await validateErrors(file);
    expect(count).toBe('4 errors');
    expect(errors[0]).toBe(
      '3:50: spout "tls" config: protocol tls needs tlsCert and tlsKey (paths of the PEM certificate and key); tlsCert is missing; tlsKey is missing',
    );
    expect(errors[1]).toMatch(/^7:25: bolt "parse" config: unknown time zone "Mars\/Olympus"/);
    expect(errors[2]).toMatch(/^7:46: bolt "parse" config: the message is read from field "msg", which no input stream declares/);
    expect(errors[3]).toMatch(/^9:73: sink "out" config: field "hots" is in no input stream; did you mean "host"\?/);
  });

  test("one pass lists every problem of a component's config, even beside an unknown key", async () => {
    const file = tmp(
      'pass.yaml',
      [
        'name: pass',
        'spouts: [{ id: g, type: generator, config: { count: 3 } }]',
        'bolts:',
        '  - { id: p, type: syslog-parse }',
        '  - id: t',
        '    type: topn',
        '    config:',
        '      slide: 10m',
        '      separatr: "|"',
        '      dimensions:',
        '        - { name: src, fields: [srcIp], n: 0 }',
        '        - { name: src, fields: [] }',
        '  - id: a',
        '    type: alert',
        '    config:',
        '      strategies:',
        '        - { name: s1, severity: urgent, threshold: { where: { sevrity: err, host: "/(/" }, window: 5, count: x } }',
        '        - { name: s1, threshold: { window: 1m, count: 10, by: [hots] } }',
        '      notify:',
        '        - { type: webhook, url: "not a url", timeout: 0.5ms }',
        '        - { type: email }',
        'streams:',
        '  - { from: g, to: p, grouping: { type: shuffle } }',
        '  - { from: p, to: t, grouping: { type: shuffle } }',
        '  - { from: p, to: a, grouping: { type: shuffle } }',
        '',
      ].join('\n'),
    );
    const { errors, count } = await validateErrors(file);
    expect(count).toBe('15 errors');
    expect(errors).toEqual([
      '8:14: bolt "t" config: slide: must not exceed window (300000ms), got 600000ms',
      '9:7: bolt "t" config: unknown config key "separatr"; did you mean "separator"?',
      '11:44: bolt "t" config: dimensions[0].n: expected an integer >= 1, got 0',
      '12:19: bolt "t" config: dimensions[1].name: dimension "src" is named twice',
      '12:32: bolt "t" config: dimensions[1].fields: expected a non-empty list of field names',
      '17:33: bolt "a" config: strategies[0].severity: expected one of critical, major, minor, warning, info, got "urgent"',
      '17:72: bolt "a" config: strategies[0].threshold.where.sevrity: "sevrity" is not an event field; did you mean "severity"?',
      '17:83: bolt "a" config: strategies[0].threshold.where.host: bad pattern /(/: Invalid regular expression: /(/: Unterminated group',
      '17:100: bolt "a" config: strategies[0].threshold.window: expected a duration such as "5m" (ms, s, m, h, d), got number 5',
      '17:110: bolt "a" config: strategies[0].threshold.count: expected a number, got "x"',
      '18:19: bolt "a" config: strategies[1].name: strategy name "s1" is used twice; names must be unique',
      '18:64: bolt "a" config: strategies[1].threshold.by[0]: "hots" is not an event field; did you mean "host"?',
      '20:33: bolt "a" config: notify[0].url: expected an http:// or https:// URL, got "not a url"',
      '20:55: bolt "a" config: notify[0].timeout: must be 0 or at least 1ms (no timer waits less than 1ms), got "0.5ms"',
      '21:19: bolt "a" config: notify[1].type: expected one of stdout, file, webhook, nats, got "email"',
    ]);
  });

  test('errors exit 1 with file:line:col for each problem', async () => {
    const file = tmp(
      'bad.yaml',
      [
        'name: bad',
        'spouts:',
        '  - id: gen',
        '    type: generator',
        '    parallelsm: 2',
        'sinks:',
        '  - id: out',
        '    type: stdout',
        'streams:',
        '  - from: gen',
        '    to: out',
        '    grouping: { type: fields, fields: [nope] }',
        '',
      ].join('\n'),
    );
    const r = await qitian('validate', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:5:5: `);
    expect(r.stderr).toContain('did you mean "parallelism"?');
    expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:12:\\d+: .*nope`));
    expect(r.stdout).toBe('');
  });

  test('--json prints the validated spec', async () => {
    const r = await qitian('validate', WORDCOUNT, '--set', 'input=a', '--set', 'output=b', '--json');
    expect(r.code).toBe(0);
    const spec = JSON.parse(r.stdout);
    expect(spec.components.map((c: { id: string }) => c.id)).toEqual(['lines', 'split', 'count', 'out']);
    expect(spec.config.maxParallelism).toBe(1024);
  });
});

describe('usage', () => {
  test('an unknown option exits 2', async () => {
    const r = await qitian('run', WORDCOUNT, '--wrokers', '2');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--wrokers'");
  });

  test('help for an unknown command says so and exits 2; help for a known one exits 0', async () => {
    const r = await qitian('help', 'bogus');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown command 'bogus'; the commands are run, validate, graph, tap, top");
    const ok = await qitian('help', 'top');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Usage: qitian top');
  });

  test('a bad --workers exits 2 with the reason', async () => {
    for (const bad of ['zero', '0x2', '1e1', '1.5']) {
      const r = await qitian('run', WORDCOUNT, '--workers', bad);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain(`--workers expects a positive integer, got "${bad}"`);
    }
  });

  test('a --duration longer than a timer can wait exits 2 instead of stopping at once', async () => {
    const r = await qitian('run', WORDCOUNT, '--set', 'input=x', '--set', 'output=y', '--duration', '3000000');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--duration can be at most 2147483.647 seconds (24.8 days');
    expect((await qitian('run', WORDCOUNT, '--duration', '0x10')).stderr).toContain('--duration expects a positive number of seconds, got "0x10"');
    // An exponent is a number too: too long, not malformed.
    expect((await qitian('run', WORDCOUNT, '--duration', '1e9')).stderr).toContain('--duration can be at most 2147483.647 seconds');
    const both = await qitian('run', WORDCOUNT, '--json', '-q');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--json and --quiet exclude each other');
  });

  test('more --workers than tasks runs one thread per task, and says so', async () => {
    const input = tmp('in.txt', 'a b a\n');
    const output = tmp('out.jsonl');
    const r = await qitian('run', WORDCOUNT, '--set', `input=${input}`, '--set', `output=${output}`, '--workers', '64', '--json');
    expect(r.code, r.stderr).toBe(0);
    const tasks = JSON.parse(r.stdout).tasks.length as number;
    expect(r.stderr).toContain(`64 workers asked for, but the topology has ${tasks} tasks: running ${tasks} worker threads`);
    expect(JSON.parse(r.stdout).workers).toBe(tasks);
  });

  test('a malformed --set exits 2', async () => {
    const r = await qitian('validate', WORDCOUNT, '--set', 'novalue');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--set expects name=value');
  });

  test('--help on every command exits 0', async () => {
    for (const cmd of [[], ['run'], ['validate'], ['graph']]) {
      const r = await qitian(...cmd, '--help');
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: qitian');
    }
  });
});

describe('qitian graph', () => {
  test('text and DOT', async () => {
    const text = await qitian('graph', WORDCOUNT, '--set', 'input=a', '--set', 'output=b');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('split --[default: fields(word)]--> count');
    const dot = await qitian('graph', WORDCOUNT, '--set', 'input=a', '--set', 'output=b', '--dot');
    expect(dot.code).toBe(0);
    expect(dot.stdout).toMatch(/^digraph /);
    expect(dot.stdout).toContain('"split" -> "count"');
  });

  test("shows a stream's select: in text and DOT", async () => {
    const file = tmp(
      'select.yaml',
      [
        'name: picked',
        'spouts: [{ id: gen, type: generator }]',
        'sinks: [{ id: out, type: stdout }]',
        'streams:',
        '  - { from: gen, to: out, grouping: { type: shuffle }, select: [line] }',
        '',
      ].join('\n'),
    );
    const text = await qitian('graph', file);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('gen --[default: shuffle, select: [line]]--> out');
    const dot = await qitian('graph', file, '--dot');
    expect(dot.code, dot.stderr).toBe(0);
    expect(dot.stdout).toContain('"gen" -> "out" [label="default: shuffle, select: [line]"];');
  });
});

describe('qitian run', () => {
  test('word count gives exact counts', async () => {
    const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta'];
    const expected = new Map<string, number>();
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const n = 1 + (i % 5);
      const line: string[] = [];
      for (let j = 0; j < n; j++) {
        const w = words[(i * 7 + j * 3) % words.length]!;
        line.push(w);
        expected.set(w, (expected.get(w) ?? 0) + 1);
      }
      lines.push(line.join(i % 2 ? '\t ' : ' '));
    }
    const input = tmp('input.txt', `${lines.join('\n')}\n`);
    const output = tmp('counts.jsonl');
    const r = await qitian('run', WORDCOUNT, '--set', `input=${input}`, '--set', `output=${output}`, '--workers', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('topology completed');
    const got = new Map<string, number>(
      readFileSync(output, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { word: string; count: number })
        .map((o) => [o.word, o.count]),
    );
    expect(got).toEqual(expected);
  });

  test("a run that cannot start leaves the last run's output as it was: a metrics port in use, an input that is missing", async () => {
    const input = tmp('input.txt', 'a b a\n');
    const output = tmp('counts.jsonl', '{"word":"last","count":1}\n');
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const r = await qitian('run', WORDCOUNT, '--set', `input=${input}`, '--set', `output=${output}`, '--metrics-port', String(port));
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`cannot serve metrics on 127.0.0.1:${port}`);
      // Refused before any component opened: no thread started, nothing read or written.
      expect(r.stderr).not.toContain('worker');
      expect(readFileSync(output, 'utf8')).toBe('{"word":"last","count":1}\n');
    } finally {
      busy.close();
    }
    const missing = await qitian('run', WORDCOUNT, '--set', `input=${input}.gone`, '--set', `output=${output}`);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('ENOENT');
    expect(readFileSync(output, 'utf8')).toBe('{"word":"last","count":1}\n');
  });

  test('word count killed (SIGKILL) between keyed state copies and resumed with --state-dir counts every word at least once', async () => {
    const expected = new Map<string, number>();
    const lines: string[] = [];
    for (let i = 0; i < 1_500_000; i++) {
      const a = `w${(i * 31) % 500}`;
      const b = `w${(i * 17 + 3) % 500}`;
      expected.set(a, (expected.get(a) ?? 0) + 1);
      expected.set(b, (expected.get(b) ?? 0) + 1);
      lines.push(`${a} ${b}`);
    }
    const input = tmp('input.txt', `${lines.join('\n')}\n`);
    const output = tmp('counts.jsonl');
    const state = tmp('state');
    const args = ['run', WORDCOUNT, '--set', `input=${input}`, '--set', `output=${output}`, '--state-dir', state, '--workers', '2'];
    // Killed once positions have been saved (every second) and before the first periodic copy of
    // the counts (10 s): resumed from those positions, the lines before them were never counted.
    const { child, done } = start(args);
    const t0 = Date.now();
    while (!existsSync(stateFile(state, 'wordcount')) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 2500));
    child.kill('SIGKILL');
    await done;
    const second = await qitian(...args);
    expect(second.code, second.stderr).toBe(0);
    const counted = new Map(
      readFileSync(output, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { word: string; count: number })
        .map((o) => [o.word, o.count]),
    );
    const short = [...expected].filter(([w, n]) => (counted.get(w) ?? 0) < n);
    expect(short.slice(0, 5), `${short.length} words counted short`).toEqual([]);
  }, 90_000);

  test('word count stopped mid-input emits no partial totals; resumed with --state-dir, each word comes once with its total', async () => {
    const expected = new Map<string, number>();
    const lines: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const line: string[] = [];
      for (let j = 0; j < 5; j++) {
        const w = `w${(i * 31 + j * 17) % 300}`;
        line.push(w);
        expected.set(w, (expected.get(w) ?? 0) + 1);
      }
      lines.push(line.join(' '));
    }
    const input = tmp('input.txt', `${lines.join('\n')}\n`);
    const output = tmp('counts.jsonl');
    const state = tmp('state');
    const run = (...more: string[]) =>
      qitian('run', WORDCOUNT, '--set', `input=${input}`, '--set', `output=${output}`, '--state-dir', state, '--workers', '2', '--json', ...more);

    // Half a million words take seconds: the stop comes mid-input.
    const first = await run('--duration', '0.3');
    expect(first.code, first.stderr).toBe(0);
    const stopped = JSON.parse(first.stdout);
    expect(stopped.reason).toBe('stopped');
    const read = stopped.components.find((c: { component: string }) => c.component === 'lines').emitted;
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(lines.length);
    expect(readFileSync(output, 'utf8')).toBe('');

    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).reason).toBe('completed');
    const rows = readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { word: string; count: number });
    expect(rows).toHaveLength(expected.size);
    expect(new Map(rows.map((o) => [o.word, o.count]))).toEqual(expected);

    // Run again after the end: nothing new read, no total repeated.
    const again = await run();
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(output, 'utf8').trim().split('\n')).toHaveLength(expected.size);
    // Lines appended to the input: only the totals they changed are appended, the latest per word exact.
    appendFileSync(input, 'w1 w1 fresh\n');
    expected.set('w1', expected.get('w1')! + 2).set('fresh', 1);
    const more = await run();
    expect(more.code, more.stderr).toBe(0);
    const appended = readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .slice(expected.size - 1)
      .map((l) => JSON.parse(l) as { word: string; count: number });
    expect(appended.sort((a, b) => a.word.localeCompare(b.word))).toEqual([
      { word: 'fresh', count: 1 },
      { word: 'w1', count: expected.get('w1') },
    ]);
  });

  test('--duration drains an endless topology and exits 0; --json summary', async () => {
    const r = await qitian(
      'run',
      join(ROOT, 'examples/custom/topology.yaml'),
      '--set',
      'count=0',
      '--set',
      `output=${tmp('o.jsonl')}`,
      '--duration',
      '1.5',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.reason).toBe('stopped');
    expect(summary.abandoned).toBe(0);
    const spout = summary.components.find((c: { component: string }) => c.component === 'syslog');
    expect(spout.emitted).toBeGreaterThan(0);
    expect(spout.acked).toBe(spout.emitted);
  });

  test('SIGINT drains in-flight tuples and exits 0; SIGHUP before it is ignored', async () => {
    const output = tmp('o.jsonl');
    const { child, done } = start(['run', join(ROOT, 'examples/custom/topology.yaml'), '--set', 'count=0', '--set', `output=${output}`, '--json']);
    await new Promise<void>((resolve) => {
      // Interrupt once tuples flow: the sink's file has data.
      const poll = setInterval(() => {
        try {
          if (readFileSync(output, 'utf8').length > 0) {
            clearInterval(poll);
            resolve();
          }
        } catch {}
      }, 100);
    });
    // SIGHUP (logrotate's postrotate, a closed terminal) does not end the run.
    child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 300));
    expect(child.exitCode).toBeNull();
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('SIGHUP: ignored');
    expect(r.stderr).toContain('SIGINT: draining');
    const summary = JSON.parse(r.stdout);
    expect(summary.reason).toBe('stopped');
    const out = summary.components.find((c: { component: string }) => c.component === 'out');
    // Everything the sink acknowledged is in the file.
    expect(readFileSync(output, 'utf8').trim().split('\n').length).toBe(out.acked);
  });

  test('SIGTERM while the topology is still starting calls the start off (not lost, not waiting for it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qitian-cli-'));
    const marker = join(dir, 'preparing');
    writeFileSync(
      join(dir, 'slow.ts'),
      [
        "import { writeFileSync } from 'node:fs';",
        "import { defineBolt } from '@qitian/api';",
        'export default defineBolt({',
        "  spec: { summary: 'slow to prepare', fields: {} },",
        "  outputs: () => ({ default: ['n'] }),",
        '  create() {',
        '    return {',
        '      prepare() {',
        `        writeFileSync(${JSON.stringify(marker)}, 'x');`,
        '        const end = Date.now() + 1500;',
        '        while (Date.now() < end) {}',
        '      },',
        '      execute() {},',
        '    };',
        '  },',
        '});',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 't.yaml'),
      [
        'name: slowstart',
        'spouts: [{ id: gen, type: generator, config: { format: words, rate: 100 } }]',
        'bolts: [{ id: slow, module: ./slow.ts }]',
        'streams: [{ from: gen, to: slow, grouping: { type: shuffle } }]',
        '',
      ].join('\n'),
    );
    const { child, done } = start(['run', join(dir, 't.yaml'), '--workers', '1', '--json']);
    // The bolt is preparing, so the engine has not started yet: the signal comes mid-start.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        try {
          readFileSync(marker);
          clearInterval(poll);
          resolve();
        } catch {}
      }, 20);
    });
    child.kill('SIGTERM');
    // Before the fix the stop was lost and the run went on for ever.
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const r = await done;
    clearTimeout(killer);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('SIGTERM: calling off the start');
    expect(r.stderr).not.toContain('draining');
    expect(r.stderr).toContain('stopped while the topology was starting: nothing ran');
    expect(JSON.parse(r.stdout).reason).toBe('stopped');
  });

  test('a second SIGINT ends the process at once by that signal, even with a worker thread blocked in a system call', async () => {
    const { file, blocked } = blockedInSyscall();
    const { child, done } = start(['run', file, '--workers', '1']);
    const deadline = Date.now() + 15_000;
    while (!existsSync(blocked) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    child.kill('SIGINT');
    // Before, process.exit waited for the blocked thread for ever.
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const r = await done;
    clearTimeout(killer);
    expect(r.signal, r.stderr).toBe('SIGINT');
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(r.stderr).toContain('SIGINT: draining');
    expect(r.stderr).toContain('SIGINT: stopping without draining');
  });

  test('one SIGINT with a thread blocked in a system call: the run ends, names the component, and a second signal ends the process', async () => {
    const { file, blocked } = blockedInSyscall('config: { drainTimeout: 1s }');
    const { child, done } = start(['run', file, '--workers', '1']);
    const deadline = Date.now() + 15_000;
    while (!existsSync(blocked) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.kill('SIGINT');
    // Before, the end waited for ever for the thread to be terminated.
    while (!stderr.includes('component  kind') && Date.now() < deadline + 15_000) await new Promise((r) => setTimeout(r, 100));
    expect(stderr).toMatch(/worker 0 did not end within 2s of being terminated: component "block" \(task 0\) holds it in a system call/);
    expect(stderr).toContain('it is stuck in component "block" (task 0)');
    expect(stderr).toContain('component  kind');
    child.kill('SIGINT');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const r = await done;
    clearTimeout(killer);
    expect(r.signal, r.stderr).toBe('SIGINT');
  }, 40_000);

  test('a signal that came while the modules loaded (kept by the bin file) calls the start off once main runs', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    const input = tmp('in.txt', 'a b\n');
    const code = await main(['node', 'qitian', 'run', WORDCOUNT, '--set', `input=${input}`, '--set', `output=${tmp('o.jsonl')}`], io, ['SIGTERM']);
    expect(code, err.join('\n')).toBe(0);
    expect(err).toContain('SIGTERM: calling off the start (send again to stop at once)');
    expect(err).toContain('stopped while the topology was starting: nothing ran');
  });

  test('one SIGTERM ends a run whose spout open() never returns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qitian-cli-'));
    writeFileSync(
      join(dir, 'stuck.ts'),
      [
        "import { defineSpout } from '@qitian/api';",
        'export default defineSpout({',
        "  spec: { summary: 'never opens', fields: {} },",
        "  outputs: () => ({ default: ['n'] }),",
        '  create() {',
        '    return { open: () => new Promise<void>(() => {}), next: () => "idle" as const };',
        '  },',
        '});',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 't.yaml'),
      [
        'name: stuck',
        'spouts: [{ id: s, module: ./stuck.ts }]',
        'sinks: [{ id: out, type: stdout }]',
        'streams: [{ from: s, to: out, grouping: { type: shuffle } }]',
        '',
      ].join('\n'),
    );
    const { child, done } = start(['run', join(dir, 't.yaml'), '--workers', '1']);
    // Once the spout's open() is under way (its log says so after 10 s; a second is plenty to be in it).
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = Date.now();
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const r = await done;
    clearTimeout(killer);
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(r.stderr).toContain('stopped while the topology was starting: nothing ran');
    // Nothing ran: no summary table of empty rows.
    expect(r.stderr).not.toContain('component  kind');
  });

  test('a stdout sink whose reader exits (run ... | head): lines are dropped and counted, the run ends 0', async () => {
    const file = tmp(
      't.yaml',
      [
        'name: piped',
        'spouts: [{ id: gen, type: generator, config: { format: words, count: 300000 } }]',
        'sinks: [{ id: out, type: stdout, config: { format: text } }]',
        'streams: [{ from: gen, to: out, grouping: { type: shuffle } }]',
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [BIN, 'run', file, '--workers', '2'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    // Like head -1: take the first chunk, then close the pipe.
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    child.stdout!.destroy();
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(killer);
    expect(code, stderr).toBe(0);
    expect(stderr).not.toContain('Unhandled');
    expect(stderr).toContain('standard output failed, lines to it are dropped from now on');
    expect(stderr.match(/standard output failed/g)).toHaveLength(1);
    expect(stderr).toContain('topology completed');
    const dropped = /out\s+dropped\{reason="stdout_error"\}\s+(\d+)/.exec(stderr);
    expect(dropped, stderr).not.toBeNull();
    expect(Number(dropped![1])).toBeGreaterThan(0);
    expect(Number(dropped![1])).toBeLessThanOrEqual(300000);
  });

  test('a stderr reader that exits (run ... 2>&1 | head -1): log lines are dropped, the run ends 0 with its output whole', async () => {
    const output = tmp('o.jsonl');
    const file = tmp(
      't.yaml',
      [
        'name: logpipe',
        'spouts: [{ id: gen, type: generator, config: { format: words, count: 200000 } }]',
        `sinks: [{ id: out, type: file, config: { path: ${JSON.stringify(output)} } }]`,
        'streams: [{ from: gen, to: out, grouping: { type: shuffle } }]',
        '',
      ].join('\n'),
    );
    // --metrics-port logs a line at start; the summary is logged at the end, after the pipe closed.
    const child = spawn(process.execPath, [BIN, 'run', file, '--workers', '2', '--metrics-port', '0'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve) => child.stderr!.once('data', () => resolve()));
    child.stderr!.destroy();
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(killer);
    // Before the fix: exit 1, from an unhandled EPIPE on the main thread's stderr.
    expect(code).toBe(0);
    expect(readFileSync(output, 'utf8').trim().split('\n')).toHaveLength(200000);
  });

  test('top and tap stop once their reader is gone (qitian top | head -2)', async () => {
    const file = tmp('live.yaml', 'name: live\nspouts: [{ id: gen, type: generator, config: { rate: 200 } }]\n');
    const run = spawn(process.execPath, [BIN, 'run', file, '--metrics-port', '0'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let said = '';
      const url = await new Promise<string>((resolve) =>
        run.stderr!.on('data', (d) => {
          said += d;
          const m = /http:\/\/127\.0\.0\.1:\d+/.exec(said);
          if (m) resolve(m[0]);
        }),
      );
      for (const args of [
        ['top', '--url', url, '--interval', '0.2'],
        ['tap', 'gen', '--url', url],
      ]) {
        const reader = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let err = '';
        reader.stderr!.on('data', (d) => (err += d));
        await new Promise<void>((resolve) => reader.stdout!.once('data', () => resolve()));
        reader.stdout!.destroy();
        const killer = setTimeout(() => reader.kill('SIGKILL'), 10_000);
        const code = await new Promise<number | null>((resolve) => reader.on('close', resolve));
        clearTimeout(killer);
        expect(code, `${args[0]}: ${err}`).toBe(0);
        expect(err).not.toContain('standard output failed');
      }
    } finally {
      run.kill('SIGTERM');
      await new Promise((resolve) => run.on('close', resolve));
    }
  });

  test('a file sink on a thread started in place of one that died keeps what was written (it emptied its file)', async () => {
    const marker = tmp('crashed');
    const output = tmp('out.jsonl');
    const file = withModule(
      'crash.ts',
      [
        "import { existsSync, writeFileSync } from 'node:fs';",
        "import { defineBolt } from '@qitian/api';",
        'export default defineBolt({',
        "  spec: { summary: 'kills its thread once, 400 ms in', fields: {} },",
        "  outputs: () => ({ default: ['line'] }),",
        '  create() {',
        '    let out: any;',
        '    return {',
        '      prepare(_ctx, collector) {',
        '        out = collector;',
        `        if (!existsSync(${JSON.stringify(marker)})) setTimeout(() => { writeFileSync(${JSON.stringify(marker)}, ''); throw new Error('boom'); }, 400);`,
        '      },',
        '      execute(t) { out.emit([t.values[0]]); },',
        '    };',
        '  },',
        '});',
      ],
      [
        'name: restart',
        'config: { acking: true }',
        'spouts: [{ id: gen, type: generator, config: { format: sequence, count: 3000, rate: 3000 } }]',
        'bolts: [{ id: crash, module: ./crash.ts }]',
        `sinks: [{ id: out, type: file, config: { path: ${JSON.stringify(output)} } }]`,
        'streams:',
        '  - { from: gen, to: crash, grouping: { type: shuffle } }',
        '  - { from: crash, to: out, grouping: { type: shuffle } }',
      ],
    );
    const r = await qitian('run', file, '--workers', '1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('worker 0 died');
    const lines = new Set(readFileSync(output, 'utf8').trim().split('\n'));
    // Every line, the ones written before the crash too (a replay may write some twice).
    expect(lines.size).toBe(3000);
  });

  test('a log message of several lines: each record starts a line, its further lines start with spaces', async () => {
    const file = withModule(
      'say.ts',
      [
        "import { defineBolt } from '@qitian/api';",
        'export default defineBolt({',
        "  spec: { summary: 'says two lines', fields: {} },",
        "  outputs: () => ({ default: ['n'] }),",
        "  create() { return { prepare(ctx) { ctx.logger.warn('first line\\nsecond line'); }, execute() {} }; },",
        '});',
      ],
      [
        'name: say',
        'spouts: [{ id: gen, type: generator, config: { count: 1 } }]',
        'bolts: [{ id: say, module: ./say.ts }]',
        'streams: [{ from: gen, to: say, grouping: { type: shuffle } }]',
      ],
    );
    const r = await qitian('run', file, '--workers', '1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Z WARN say\[0\]: first line\n {2}second line\n/);
  });

  test('a bolt whose async execute never settles: the drain times out and the process still exits 0', async () => {
    const file = withModule(
      'hang.ts',
      [
        "import { defineBolt } from '@qitian/api';",
        'export default defineBolt({',
        "  spec: { summary: 'never settles', fields: {} },",
        "  outputs: () => ({ default: ['n'] }),",
        '  create() { return { execute: () => new Promise<void>(() => {}) }; },',
        '});',
      ],
      [
        'name: hang',
        'config: { drainTimeout: 1s }',
        'spouts: [{ id: gen, type: generator, parallelism: 2, config: { format: words, rate: 20 } }]',
        'bolts: [{ id: stuck, module: ./hang.ts, parallelism: 2 }]',
        'streams: [{ from: gen, to: stuck, grouping: { type: shuffle } }]',
      ],
    );
    const t0 = Date.now();
    const { child, done } = start(['run', file, '--workers', '2', '--duration', '0.5', '--json']);
    // Before the fix the run printed its summary and then never exited: a probe loop kept polling.
    const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    const r = await done;
    clearTimeout(killer);
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(25_000); // about 5 s here; before the fix, never
    expect(r.stderr).toMatch(/drain timed out after 1000ms with \d+ tuple trees pending/);
    expect(r.stderr).toContain('in-flight tuples did not settle within 1000ms');
    const summary = JSON.parse(r.stdout);
    expect(summary.reason).toBe('stopped');
    expect(summary.incomplete).toBe(true);
    expect(summary.abandoned).toBeGreaterThan(0);
  });

  test('--state-dir: a second run of a file resumes after the lines the first one completed', async () => {
    const topology = tmp(
      'tail.yaml',
      [
        'name: tail',
        'config: { acking: true }',
        'spouts:',
        '  - { id: lines, type: file, config: { path: "${input}" } }',
        'sinks:',
        '  - { id: out, type: file, config: { path: "${output}" } }',
        'streams:',
        '  - { from: lines, to: out, grouping: { type: shuffle } }',
      ].join('\n'),
    );
    const input = tmp('in.log', 'one\ntwo\nthree\n');
    const state = tmp('state');
    const outputs = [tmp('1.jsonl'), tmp('2.jsonl')];
    const runWith = (output: string) => qitian('run', topology, '--set', `input=${input}`, '--set', `output=${output}`, '--state-dir', state, '--workers', '1');
    const lines = (path: string) =>
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).line);
    const first = await runWith(outputs[0]!);
    expect(first.code, first.stderr).toBe(0);
    expect(lines(outputs[0]!)).toEqual(['one', 'two', 'three']);
    appendFileSync(input, 'four\nfive\n');
    const second = await runWith(outputs[1]!);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`state restored from ${join(state, 'tail.state')}`);
    expect(lines(outputs[1]!)).toEqual(['four', 'five']);
  });

  test('--state-dir: a state file that cannot be written at the end fails the run (exit 3), saying the end is not saved', async () => {
    const topology = tmp(
      'gen.yaml',
      [
        'name: gen',
        'spouts:',
        '  - { id: gen, type: generator, config: { rate: 200 } }',
        'sinks:',
        '  - { id: out, type: file, config: { path: "${output}" } }',
        'streams:',
        '  - { from: gen, to: out, grouping: { type: shuffle } }',
      ].join('\n'),
    );
    const state = tmp('state');
    mkdirSync(state);
    const run = start(['run', topology, '--set', `output=${tmp('out.jsonl')}`, '--state-dir', state, '--workers', '1', '--duration', '3']);
    // Once it runs, the folder becomes a file: no state file can be written there any more.
    await new Promise((r) => setTimeout(r, 1500));
    rmSync(state, { recursive: true, force: true });
    writeFileSync(state, 'in the way');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('topology stopped after');
    expect(r.stderr).toMatch(/error: cannot write the state file .*gen\.state: .*; the end of this run is not saved/);
  });

  test('--state-dir: a renamed spout stops the start (exit 3) unless --allow-non-restored-state', async () => {
    const topology = (spout: string) =>
      tmp(
        'tail.yaml',
        [
          'name: tail',
          'config: { acking: true }',
          'spouts:',
          `  - { id: ${spout}, type: file, config: { path: "\${input}" } }`,
          'sinks:',
          '  - { id: out, type: file, config: { path: "${output}" } }',
          'streams:',
          `  - { from: ${spout}, to: out, grouping: { type: shuffle } }`,
        ].join('\n'),
      );
    const input = tmp('in.log', 'one\ntwo\n');
    const state = tmp('state');
    const runWith = (file: string, ...more: string[]) =>
      qitian('run', file, '--set', `input=${input}`, '--set', `output=${tmp('o.jsonl')}`, '--state-dir', state, '--workers', '1', ...more);
    expect((await runWith(topology('lines'))).code).toBe(0);
    const renamed = topology('log');
    const refused = await runWith(renamed);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain('positions of "lines" (task 0): the topology has no component "lines" now');
    expect(refused.stderr).toContain('--allow-non-restored-state');
    const allowed = await runWith(renamed, '--allow-non-restored-state');
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr).toContain('dropping saved positions of "lines"');
    const usage = await qitian('run', renamed, '--set', `input=${input}`, '--set', 'output=x', '--allow-non-restored-state');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--allow-non-restored-state needs --state-dir');
  });

  test('a truncated .gz: every complete line is processed, then exit 4 saying the input was not read to its end', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `word${i % 50} w${i}`);
    const whole = gzipSync(`${lines.join('\n')}\n`);
    const input = tmp('cut.gz', '');
    writeFileSync(input, whole.subarray(0, Math.floor(whole.length / 2)));
    const output = tmp('out.jsonl');
    const r = await qitian('run', WORDCOUNT, '--set', `input=${input}`, '--set', `output=${output}`, '--workers', '1');
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain('unexpected end of file');
    expect(r.stderr).toContain('error: input not read to its end by "lines"');
    // The counts of what was read were still written.
    expect(readFileSync(output, 'utf8').trim().split('\n').length).toBeGreaterThan(50);
    // --json says so too, beside the exit code.
    const j = await qitian('run', WORDCOUNT, '--set', `input=${input}`, '--set', `output=${output}`, '--workers', '1', '--json');
    expect(j.code).toBe(4);
    expect(JSON.parse(j.stdout)).toMatchObject({ reason: 'completed', inputIncomplete: ['lines'] });
  });

  test('a component that counts output_lost at the end (a sink that could not write what it held): exit 3 naming it; --json lists it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qitian-lost-'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    writeFileSync(
      join(dir, 'leaky.ts'),
      [
        "import { defineSink, OUTPUT_LOST, type TopologyContext } from '@qitian/api';",
        'export default defineSink({',
        "  spec: { summary: 'takes every tuple, loses the last 3 at close', fields: {} },",
        '  create() {',
        '    let ctx!: TopologyContext;',
        "    return { prepare(c) { ctx = c; }, execute() {}, cleanup() { ctx.logger.error('the store went away'); ctx.count(OUTPUT_LOST, 3); } };",
        '  },',
        '});',
        '',
      ].join('\n'),
    );
    const yaml = join(dir, 't.yaml');
    writeFileSync(
      yaml,
      [
        'name: lost',
        'spouts: [{ id: gen, type: generator, config: { format: words, count: 10 } }]',
        'sinks: [{ id: store, module: ./leaky.ts }]',
        'streams:',
        '  - { from: gen, to: store, grouping: { type: shuffle } }',
        '',
      ].join('\n'),
    );
    const r = await qitian('run', yaml, '--workers', '1');
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('the store went away');
    expect(r.stderr).toContain('error: output not delivered at the end of the run by "store" (3)');
    const j = await qitian('run', yaml, '--workers', '1', '--json');
    expect(j.code).toBe(3);
    expect(JSON.parse(j.stdout)).toMatchObject({ reason: 'completed', outputLost: ['store'], inputIncomplete: [] });
  });

  test('a missing input file fails with the path and exit 3; --json prints the failed run', async () => {
    const r = await qitian('run', WORDCOUNT, '--set', 'input=/nonexistent/in.txt', '--set', `output=${tmp('o')}`);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('/nonexistent/in.txt');
    const j = await qitian('run', WORDCOUNT, '--set', 'input=/nonexistent/in.txt', '--set', `output=${tmp('o')}`, '--json');
    expect(j.code).toBe(3);
    const summary = JSON.parse(j.stdout);
    expect(summary).toMatchObject({ reason: 'failed', tasks: [], components: [], inputIncomplete: [] });
    expect(summary.error).toContain('/nonexistent/in.txt');
    // An invalid file ran nothing: its errors only, no summary.
    const invalid = await qitian('run', WORDCOUNT, '--set', 'input=x', '--json');
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toBe('');
  });

  test('an invalid topology exits 1 before anything runs', async () => {
    const r = await qitian('run', WORDCOUNT, '--set', 'input=x');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/topology\.yaml:\d+:\d+: variable \$\{output\} is not set/);
  });
});

describe('user modules outside the project', () => {
  // A user's topology folder has no node_modules: `import ... from '@qitian/api'` must still
  // resolve (from the engine's installation), whether the folder's .ts files are CommonJS (no
  // package.json) or ES modules ("type": "module").
  for (const kind of ['commonjs', 'module'] as const) {
    test(`a .ts bolt importing @qitian/api runs (${kind} folder)`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'qitian-user-'));
      if (kind === 'module') writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
      writeFileSync(
        join(dir, 'upper.ts'),
        [
          "import { defineBolt, type OutputCollector } from '@qitian/api';",
          'export default defineBolt({',
          "  spec: { summary: 'upper-cases lines', fields: {} },",
          "  outputs: () => ({ default: ['line'] }),",
          '  create() {',
          '    let out!: OutputCollector;',
          '    return { prepare(_c, c) { out = c; }, execute(t) { out.emit([String(t.values[0]).toUpperCase()]); } };',
          '  },',
          '});',
          '',
        ].join('\n'),
      );
      const output = join(dir, 'out.jsonl');
      writeFileSync(
        join(dir, 't.yaml'),
        [
          'name: user',
          'spouts: [{ id: gen, type: generator, config: { format: words, count: 100 } }]',
          'bolts: [{ id: upper, module: ./upper.ts }]',
          `sinks: [{ id: out, type: file, config: { path: ${JSON.stringify(output)} } }]`,
          'streams:',
          '  - { from: gen, to: upper, grouping: { type: shuffle } }',
          '  - { from: upper, to: out, grouping: { type: shuffle } }',
          '',
        ].join('\n'),
      );
      const r = await qitian('run', join(dir, 't.yaml'), '--workers', '2');
      expect(r.code, r.stderr).toBe(0);
      const lines = readFileSync(output, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).line as string);
      expect(lines.length).toBe(100);
      expect(lines.every((l) => l === l.toUpperCase() && l.length > 0)).toBe(true);
    });
  }
});
