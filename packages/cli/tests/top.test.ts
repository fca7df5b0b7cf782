/**
 * `qitian top` against a real running topology with a slow bolt, a fake endpoint that goes away,
 * a dead one, and one that answers the wrong thing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { type ControlServer, Engine, type ExecutorStats, newStats, startControlServer } from '@qitian/runtime';
import { createPlan, loadTopology } from '@qitian/topology';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../src/bin.js';
import { runTop } from '../src/commands/top.js';
import { builtinRegistry } from '../src/registry.js';

const MICROS = 200;
/** Tuples a second from the spout: the bolt is 80% busy at this rate, and nothing queues up. */
const RATE = 4000;

/**
 * Spins MICROS per tuple: at most 1e6 / MICROS tuples a second per task. Plain JavaScript, no
 * import of @qitian/api: loading the topology in this process resolves nothing from /tmp.
 */
const SLOW_BOLT = `export default {
  kind: 'bolt',
  spec: { summary: 'spins on every tuple', fields: {} },
  outputs: () => ({ default: ['line'] }),
  create() {
    let out;
    return {
      prepare(_c, c) { out = c; },
      execute(t) {
        const end = performance.now() + ${MICROS} / 1000;
        while (performance.now() < end) {}
        out.emit([t.values[0]]);
      },
    };
  },
};
`;

const TOPOLOGY = `name: slowpoke
config:
  acking: false
spouts:
  - id: gen
    type: generator
    config: { format: words, rate: ${RATE} }
bolts:
  - id: parse
    module: ./slow.mjs
sinks:
  - id: out
    type: file
    config: { path: \${out} }
streams:
  - { from: gen, to: parse, grouping: { type: shuffle } }
  - { from: parse, to: out, grouping: { type: shuffle } }
`;

interface Captured {
  io: { out(t: string): void; err(t: string): void };
  out: string[];
  err: string[];
}

function capture(): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t) => out.push(t), err: (t) => err.push(t) }, out, err };
}

const top = (args: string[], c: Captured) => main(['node', 'qitian', 'top', ...args], c.io);

async function until<T>(what: string, get: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A port nothing listens on (it just did, and was closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const sum = (tasks: readonly ExecutorStats[], component: string, f: (s: ExecutorStats) => number) =>
  tasks.filter((t) => t.componentId === component).reduce((a, t) => a + f(t), 0);

interface TopJson {
  url: string;
  time: number;
  topology: { name: string; phase: string; uptimeSeconds: number; workers: number; restarts: number };
  intervalSeconds: number;
  components: {
    component: string;
    kind: string;
    tasks: number;
    parallelism: number;
    inPerSecond: number | null;
    outPerSecond: number | null;
    capacity: number;
    capacityMean: number;
    p99Seconds: number | null;
    errors: number;
    backpressure: number;
    pending: number | null;
    queued: number;
  }[];
  bottleneck: { component: string; capacity: number; parallelism: number; suggestedParallelism: number | null } | null;
}

describe('qitian top against a running topology', () => {
  let engine: Engine;
  let server: ControlServer;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qitian-top-'));
    writeFileSync(join(dir, 'slow.mjs'), SLOW_BOLT);
    writeFileSync(join(dir, 'topology.yaml'), TOPOLOGY);
    const spec = await loadTopology(join(dir, 'topology.yaml'), { registry: builtinRegistry(), vars: { out: join(dir, 'out.jsonl') } });
    engine = await Engine.start(createPlan(spec, 2));
    server = await startControlServer(engine, { port: 0 });
    // The engine's capacity gauge needs a second or two of history.
    await until('the slow bolt to look busy', async () => {
      const tasks = await engine.stats();
      return sum(tasks, 'parse', (t) => t.capacity) > 0.5 ? true : undefined;
    });
  });

  afterAll(async () => {
    await server?.close();
    await engine?.stop();
  });

  test('--once --json: rates agree with the engine, the slow bolt is the bottleneck', async () => {
    const before = await engine.stats();
    const t0 = Date.now();
    const c = capture();
    const code = await top(['--url', `${server.url}/metrics`, '--once', '--json', '--interval', '1'], c);
    const after = await engine.stats();
    const seconds = (Date.now() - t0) / 1000;
    expect(c.err).toEqual([]);
    expect(code).toBe(0);
    const json = JSON.parse(c.out.join('\n')) as TopJson;
    expect(json.url).toBe(server.url);
    expect(json.topology).toMatchObject({ name: 'slowpoke', phase: 'running', workers: 2, restarts: 0 });
    expect(json.intervalSeconds).toBeGreaterThan(0.9);
    expect(json.intervalSeconds).toBeLessThan(3);
    expect(json.components.map((r) => [r.component, r.kind, r.tasks, r.parallelism])).toEqual([
      ['gen', 'spout', 1, 1],
      ['parse', 'bolt', 1, 1],
      ['out', 'sink', 1, 1],
    ]);
    const [gen, parse, out] = json.components;
    expect(gen!.inPerSecond).toBeNull();
    expect(gen!.outPerSecond).toBeGreaterThan(0.4 * RATE);
    expect(gen!.outPerSecond).toBeLessThan(1.3 * RATE);
    expect(out!.outPerSecond).toBeNull();
    expect(out!.inPerSecond).toBeGreaterThan(0);

    // top's interval lies inside [t0, now]: it cannot have seen more than the engine counted then,
    // and the bolt cannot beat its own busy time.
    const executed = sum(after, 'parse', (t) => t.executed) - sum(before, 'parse', (t) => t.executed);
    expect(parse!.inPerSecond! * json.intervalSeconds).toBeLessThanOrEqual(executed * 1.02 + 50);
    expect(parse!.inPerSecond!).toBeGreaterThan((0.3 * executed) / seconds);
    expect(parse!.inPerSecond!).toBeLessThan((1e6 / MICROS) * 1.1);
    expect(parse!.p99Seconds).toBeGreaterThanOrEqual(0.0001);
    expect(parse!.capacity).toBeGreaterThan(0.5);

    expect(json.bottleneck).toMatchObject({ component: 'parse', parallelism: 1 });
    expect(json.bottleneck!.capacity).toBe(parse!.capacity);
    expect(json.bottleneck!.suggestedParallelism).toBe(Math.ceil(parse!.capacity / 0.7 - 1e-9) > 1 ? Math.ceil(parse!.capacity / 0.7 - 1e-9) : null);
  });

  test("reaches a port that fetch refuses as 'bad' (6000, 6665-6669, 10080): run serves any port", async () => {
    let blocked: ControlServer | undefined;
    for (const port of [6666, 6667, 6668, 6669, 6665, 6000, 10080]) {
      try {
        blocked = await startControlServer(engine, { port });
        break;
      } catch {
        // in use here: try the next one
      }
    }
    if (!blocked) throw new Error('every port of 6665-6669, 6000 and 10080 is in use on this machine: the test needs one of them free');
    try {
      const c = capture();
      const code = await top(['--url', blocked.url, '--once', '--json', '--interval', '0.5'], c);
      expect(c.err).toEqual([]);
      expect(code).toBe(0);
      expect((JSON.parse(c.out.join('')) as TopJson).topology.name).toBe('slowpoke');
    } finally {
      await blocked.close();
    }
  });

  test('--once prints a table with the bottleneck line', async () => {
    const c = capture();
    const code = await top(['--url', server.url, '--once', '--interval', '0.5', '--sort', 'capacity'], c);
    expect(c.err).toEqual([]);
    expect(code).toBe(0);
    const lines = c.out.join('\n').split('\n');
    expect(lines[0]).toMatch(/^slowpoke {2}running {2}up \d+s {2}2 workers {2}0 restarts {2}http:\/\/127\.0\.0\.1:\d+$/);
    expect(lines.find((l) => l.startsWith('COMPONENT'))).toContain('CAP↓');
    const rows = lines.slice(lines.findIndex((l) => l.startsWith('COMPONENT')) + 1).filter((l) => /^(gen|parse|out)\b/.test(l));
    expect(rows[0]).toMatch(/^parse \*/);
    expect(lines.at(-1)).toMatch(/^bottleneck: parse \(capacity \d\.\d\d, parallelism 1\)/);
  });
});

describe('qitian top when the endpoint is not there', () => {
  test('--once against a closed port retries, then exits 3 saying it cannot connect', async () => {
    const port = await closedPort();
    const c = capture();
    const t0 = Date.now();
    const code = await top(['--url', `127.0.0.1:${port}`, '--once', '--retries', '2', '--interval', '0.2'], c);
    expect(code).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(c.out).toEqual([]);
    expect(c.err[0]).toBe(`cannot connect to http://127.0.0.1:${port}: connection refused (ECONNREFUSED); retrying every 0.2s`);
    expect(c.err.at(-1)).toBe(`error: cannot connect to http://127.0.0.1:${port}: connection refused (ECONNREFUSED) (gave up after 3 attempts)`);
  });

  test('an HTTP error or an answer that is not JSON is reported with the URL, exit 3', async () => {
    const { server, url } = await listen((req, res) => {
      if (req.url === '/api/v1/topology') {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<html>a web page</html>');
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end('{"error":"no such endpoint"}');
      }
    });
    try {
      const c = capture();
      expect(await top(['--url', url, '--once'], c)).toBe(3);
      expect(c.err.join('\n')).toBe(
        `error: ${url}/api/v1/topology answered not JSON (text/html): "<html>a web page</html>"; is this the address qitian run --metrics-port printed?`,
      );
      const d = capture();
      expect(await top(['--url', `${url}/prefix`, '--once'], d)).toBe(3);
      expect(d.err.join('\n')).toBe(
        `error: ${url}/prefix/api/v1/topology answered HTTP 404 Not Found: no such endpoint (is this the address qitian run --metrics-port printed?)`,
      );
    } finally {
      server.close();
    }
  });

  test('usage mistakes exit 2', async () => {
    const c = capture();
    expect(await top(['--sort', 'speed', '--once'], c)).toBe(2);
    expect(c.err.join('\n')).toContain('--sort: "speed" is not a column; one of topology, name, in');
    expect(await top(['--interval', '0', '--once'], capture())).toBe(2);
    expect(await top(['--retries', '-1', '--once'], capture())).toBe(2);
    expect(await top(['--url', 'ftp://host', '--once'], capture())).toBe(2);
  });
});

/** An endpoint serving made-up stats whose counters grow by 100 a request. */
async function fakeEndpoint(): Promise<{ server: Server; url: string }> {
  let n = 0;
  return listen((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (req.url === '/api/v1/topology') {
      res.end(JSON.stringify({ name: 'fake', components: [{ id: 'b', kind: 'bolt', parallelism: 1 }] }));
      return;
    }
    n++;
    const tasks = [{ ...newStats(0, 'b', 'bolt'), executed: 100 * n, emitted: 100 * n, capacity: 0.95 }];
    res.end(JSON.stringify({ time: Date.now(), name: 'fake', workers: 1, restarts: 0, uptimeSeconds: n, startedAt: 1, phase: 'running', tasks }));
  });
}

describe('the live view', () => {
  test('piped: one JSON line per interval; says so when the topology goes away, and keeps trying', async () => {
    const { server, url } = await fakeEndpoint();
    const c = capture();
    const stop = new AbortController();
    const done = runTop({ url, intervalSeconds: 0.1, sort: 'topology', once: false, json: true, retries: 0, signal: stop.signal, io: c.io });
    await until('two snapshots', async () => (c.out.length >= 2 ? true : undefined));
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await until('the goodbye', async () => (c.err.length > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 350));
    stop.abort();
    await done;
    const line = JSON.parse(c.out[0]!) as TopJson;
    expect(line.components[0]).toMatchObject({ component: 'b', capacity: 0.95 });
    expect(line.components[0]!.inPerSecond).toBeGreaterThan(0);
    expect(line.bottleneck).toMatchObject({ component: 'b', suggestedParallelism: 2 });
    // Said once, not at every retry (the first failure may be the open connection closing: reset, closed or refused).
    expect(c.err).toHaveLength(1);
    expect(c.err[0]).toMatch(/^the topology at http:\/\/127\.0\.0\.1:\d+ went away \(connection .+\); retrying every 0\.1s$/);
  });

  test('in a terminal: alternate screen, keys sort, q quits and restores the terminal', async () => {
    const { server, url } = await fakeEndpoint();
    let written = '';
    const stdout = Object.assign(
      new Writable({
        write(chunk, _enc, cb) {
          written += String(chunk);
          cb();
        },
      }),
      { isTTY: true, columns: 120, rows: 30 },
    );
    const raw: boolean[] = [];
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (on: boolean) => raw.push(on) });
    try {
      const c = capture();
      const done = runTop({
        url,
        intervalSeconds: 0.1,
        sort: 'topology',
        once: false,
        json: false,
        retries: 0,
        signal: new AbortController().signal,
        io: c.io,
        terminal: { stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, color: false },
      });
      await until('a frame with figures', async () => (written.includes('bottleneck: b') ? true : undefined));
      stdin.write('c');
      await until('the capacity sort', async () => (written.includes('CAP↓') ? true : undefined));
      stdin.write('q');
      await done;
      expect(c.out).toEqual([]);
      expect(raw).toEqual([true, false]);
      expect(written.startsWith('\x1b[?1049h\x1b[?25l')).toBe(true);
      expect(written.endsWith('\x1b[?25h\x1b[?1049l')).toBe(true);
      expect(written).toContain('fake  running');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
