/** `qitian tap` against a real running topology, and its answers to mistakes and a dead endpoint. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ControlServer, Engine, startControlServer } from '@qitian/runtime';
import { createPlan, loadTopology } from '@qitian/topology';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../src/bin.js';
import { tap } from '../src/commands/tap.js';
import { CommandFailed } from '../src/errors.js';
import { builtinRegistry } from '../src/registry.js';

const TOPOLOGY = `name: tapped
config:
  acking: false
spouts:
  - id: gen
    type: generator
    parallelism: 2
    config: { format: sequence, rate: 2000 }
sinks:
  - id: out
    type: file
    config: { path: \${out} }
streams:
  - from: gen
    to: out
    grouping: { type: shuffle }
`;

function capture(): { io: { out(t: string): void; err(t: string): void }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t) => out.push(t), err: (t) => err.push(t) }, out, err };
}

/** A syslog spout nobody sends to: a stream that stays silent, like alerts or errors. */
const QUIET = `name: quiet
spouts:
  - id: quiet
    type: syslog
    config: { protocol: udp, host: 127.0.0.1, port: 0 }
sinks:
  - id: out
    type: file
    config: { path: \${out} }
streams:
  - from: quiet
    to: out
    grouping: { type: shuffle }
`;

async function startTopology(yaml: string, workers: number): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), 'qitian-tap-'));
  const file = join(dir, 'topology.yaml');
  writeFileSync(file, yaml);
  const spec = await loadTopology(file, { registry: builtinRegistry(), vars: { out: join(dir, 'out.jsonl') } });
  return Engine.start(createPlan(spec, workers));
}

let engine: Engine;
let server: ControlServer;

beforeAll(async () => {
  engine = await startTopology(TOPOLOGY, 2);
  server = await startControlServer(engine, { port: 0 });
});

afterAll(async () => {
  await server?.close();
  await engine?.stop();
});

describe('qitian tap', () => {
  test('prints the tuples a component emits as JSON lines, and stops at --limit', async () => {
    const c = capture();
    const code = await main(['node', 'qitian', 'tap', 'gen', '--url', `${server.url}/metrics`, '--limit', '25'], c.io);
    expect(c.err).toEqual([]);
    expect(code).toBe(0);
    expect(c.out).toHaveLength(25);
    const tuples = c.out.map((l) => JSON.parse(l) as { component: string; task: number; stream: string; values: { line: string } });
    for (const t of tuples) {
      expect(t.component).toBe('gen');
      expect(t.stream).toBe('default');
      expect([0, 1]).toContain(t.task);
      expect(t.values.line).toMatch(/^\d+$/);
    }
    // Each task's sequence arrives in order.
    for (const task of [0, 1]) {
      const seq = tuples.filter((t) => t.task === task).map((t) => Number(t.values.line));
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
    }
  });

  test('--sample copies about that fraction', async () => {
    // 2 tasks x 2000 tuples/s for ~1.5 s with a 10% sample: about 600 lines, far from all.
    const c = capture();
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 1500);
    const n = await tap({ url: server.url, component: 'gen', stream: 'default', limit: 0, sample: 0.1, signal: controller.signal, io: c.io, onLine: () => {} });
    const seconds = (Date.now() - started) / 1000;
    expect(n).toBeGreaterThan(4000 * seconds * 0.1 * 0.4);
    expect(n).toBeLessThan(4000 * seconds * 0.1 * 2);
  });

  test('an unknown component exits 2 and lists the known ones', async () => {
    const c = capture();
    expect(await main(['node', 'qitian', 'tap', 'nope', '--url', server.url], c.io)).toBe(2);
    expect(c.err.join('\n')).toContain('unknown component "nope"');
    expect(c.err.join('\n')).toContain('components: gen, out');
  });

  test('a sink has no stream to tap: it says what feeds it', async () => {
    const c = capture();
    expect(await main(['node', 'qitian', 'tap', 'out', '--url', server.url], c.io)).toBe(2);
    expect(c.err.join('\n')).toContain('"out" is a sink and emits no streams');
    expect(c.err.join('\n')).toContain('it is fed by: gen');
  });

  test('an unknown stream exits 2 and lists the streams', async () => {
    const c = capture();
    expect(await main(['node', 'qitian', 'tap', 'gen:errors', '--url', server.url], c.io)).toBe(2);
    expect(c.err.join('\n')).toContain('"gen" has no stream "errors"');
    expect(c.err.join('\n')).toContain('streams of "gen": default');
  });

  test('bad options are usage errors', async () => {
    const c = capture();
    expect(await main(['node', 'qitian', 'tap', 'gen', '--sample', '2', '--url', server.url], c.io)).toBe(2);
    expect(c.err.join('\n')).toContain('--sample expects a fraction in (0, 1]');
  });

  test('a dead endpoint exits 3 and says it cannot connect', async () => {
    const dead = await startControlServer(engine, { port: 0 });
    const url = dead.url;
    await dead.close();
    const c = capture();
    expect(await main(['node', 'qitian', 'tap', 'gen', '--url', url], c.io)).toBe(3);
    expect(c.err.join('\n')).toMatch(/cannot connect to http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });
});

describe('qitian tap against what is not a QiTian endpoint, or a topology that ends', () => {
  test('a web server that answers 404 is an endpoint problem (exit 3), not a usage error', async () => {
    const web = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html>not found</html>');
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    const c = capture();
    expect(await main(['node', 'qitian', 'tap', 'gen', '--url', url], c.io)).toBe(3);
    expect(c.err.join('\n')).toContain(`${url} answered HTTP 404: <html>not found</html> (is this the address qitian run --metrics-port printed?)`);
    web.close();
  });

  test('a port that accepts but never answers is given up on quickly, saying so', async () => {
    const mute = createNetServer(() => {});
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(mute.address() as AddressInfo).port}`;
    const started = Date.now();
    const err = await tap({
      url,
      component: 'gen',
      stream: 'default',
      limit: 0,
      sample: 1,
      signal: new AbortController().signal,
      io: capture().io,
      onLine: () => {},
      idleTimeoutMs: 1000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as CommandFailed).exitCode).toBe(3);
    expect((err as CommandFailed).message).toBe(`${url}: no answer within 1s (is this the address qitian run --metrics-port printed?)`);
    expect(Date.now() - started).toBeLessThan(4000);
    mute.close();
  });

  test('says so when the stream ends because the topology stopped', async () => {
    const ending = await startTopology(TOPOLOGY, 1);
    const endpoint = await startControlServer(ending, { port: 0 });
    const c = capture();
    const run = main(['node', 'qitian', 'tap', 'gen', '--url', endpoint.url], c.io);
    await new Promise((r) => setTimeout(r, 500));
    await ending.stop();
    expect(await run).toBe(0);
    expect(c.out.length).toBeGreaterThan(0);
    expect(c.err.at(-1)).toBe(`tap: the stream ended after ${c.out.length} tuples: the topology stopped`);
    await endpoint.close();
  });
});

describe('qitian tap on a quiet stream', () => {
  let quiet: Engine;
  /** Heartbeats every 200 ms. */
  let beating: ControlServer;
  /** Heartbeats too rare to come within a test: from the client, a server that went silent. */
  let silent: ControlServer;

  beforeAll(async () => {
    quiet = await startTopology(QUIET, 1);
    beating = await startControlServer(quiet, { port: 0, tapHeartbeatMs: 200 });
    silent = await startControlServer(quiet, { port: 0, tapHeartbeatMs: 60_000 });
  });

  afterAll(async () => {
    await beating?.close();
    await silent?.close();
    await quiet?.stop();
  });

  test('the endpoint sends an empty line as a heartbeat while nothing is emitted', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1100);
    const res = await fetch(`${beating.url}/api/v1/tap?component=quiet`, { signal: controller.signal });
    expect(res.status).toBe(200);
    let body = '';
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) body += decoder.decode(chunk, { stream: true });
    } catch {
      // the abort that ends the read
    }
    expect(body).toMatch(/^\n+$/);
    expect(body.length).toBeGreaterThanOrEqual(3);
  });

  test('heartbeats keep the tap open through a silence longer than its idle limit, and print nothing', async () => {
    const c = capture();
    const lines: string[] = [];
    const controller = new AbortController();
    // Ten heartbeats to each idle limit, so that a loaded machine's stalls do not end it; the
    // silence lasts twice the limit.
    setTimeout(() => controller.abort(), 4000);
    const n = await tap({
      url: beating.url,
      component: 'quiet',
      stream: 'default',
      limit: 0,
      sample: 1,
      signal: controller.signal,
      io: c.io,
      onLine: (l) => lines.push(l),
      idleTimeoutMs: 2000,
    });
    expect(n).toBe(0);
    expect(lines).toEqual([]);
    expect(c.err).toEqual([]);
  }, 10_000);

  test('a stream with neither tuples nor heartbeats for the idle limit is reported broken, exit 3', async () => {
    const c = capture();
    const started = Date.now();
    const err = await tap({
      url: silent.url,
      component: 'quiet',
      stream: 'default',
      limit: 0,
      sample: 1,
      signal: new AbortController().signal,
      io: c.io,
      onLine: () => {},
      idleTimeoutMs: 1000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CommandFailed);
    expect((err as CommandFailed).exitCode).toBe(3);
    expect((err as CommandFailed).message).toMatch(/^the tap stream from http:\/\/127\.0\.0\.1:\d+ broke: nothing received for 1 s, not even a heartbeat/);
    expect(Date.now() - started).toBeLessThan(6000);
  }, 15_000);
});

describe('qitian tap whose stdout is not read (a paused pager)', () => {
  test('stops reading until stdout drains, so that the endpoint skips what it misses instead of anyone buffering it', async () => {
    let push: ((lines: string[], skipped: number) => void) | undefined;
    const engine = {
      plan: { spec: { name: 't', components: [{ id: 'gen', kind: 'spout', outputs: { default: ['line'] } }], streams: [] } },
      tap: (_c: string, _s: string, _sample: number, _limit: number, onLines: (lines: string[], skipped: number) => void) => {
        push = onLines;
        return () => {
          push = undefined;
        };
      },
      finished: new Promise(() => {}),
    } as unknown as Engine;
    const server = await startControlServer(engine, { port: 0 });
    const stop = new AbortController();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let blocked = true;
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), outDrained: () => (blocked && out.length > 0 ? gate : undefined) };
    const running = tap({ url: server.url, component: 'gen', stream: 'default', limit: 0, sample: 1, signal: stop.signal, io, onLine: (l) => io.out(l) });
    try {
      while (!push) await new Promise((r) => setTimeout(r, 5));
      const line = JSON.stringify({ component: 'gen', task: 0, stream: 'default', values: { line: 'x'.repeat(1000) } });
      const batch = Array.from({ length: 2000 }, () => line);
      const offered = 50 * batch.length;
      for (let i = 0; i < 50; i++) {
        push(batch, 0);
        await new Promise((r) => setImmediate(r));
      }
      blocked = false;
      release();
      const skippedOf = () => err.reduce((a, e) => a + Number(/^tap: (\d+) sampled tuples? not shown/.exec(e)?.[1] ?? 0), 0);
      const until = Date.now() + 15_000;
      while (out.length + skippedOf() < offered && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(out.length + skippedOf()).toBe(offered);
      // Before, tap read on into its own memory and the endpoint never saw a slow reader.
      expect(skippedOf()).toBeGreaterThan(offered / 2);
    } finally {
      stop.abort();
      await running.catch(() => 0);
      await server.close();
    }
  }, 30_000);
});
