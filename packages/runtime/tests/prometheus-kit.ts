/**
 * Helpers for checking the metrics endpoint against the real Prometheus tools: promtool, a
 * Prometheus server in a child process, a parser for the text exposition, and topologies that
 * mix fixture components with the built-in ones of @qitian/netops.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { validateConfig } from '@qitian/api';
import { builtinComponents } from '@qitian/netops';
import type { ComponentNode, Grouping, TopologyConfig, TopologySpec } from '@qitian/topology';
import { type NodeArgs, type StreamArgs, sleep, spec } from './kit.js';

// ---------------------------------------------------------------------------------------------
// The tools

const INSTALL_HINT = 'install the Debian package: `sudo apt-get install -y --no-install-recommends prometheus` (.ci/run does this when they are missing)';

/** Where `name` is on PATH, or undefined. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The paths of `promtool` and `prometheus`. Throws (the test fails, it is not skipped) when
 * either is missing: these tests exist to check the endpoint against the real tools.
 */
export function requireTools(): { promtool: string; prometheus: string } {
  const promtool = onPath('promtool');
  const prometheus = onPath('prometheus');
  const missing = [promtool ? undefined : 'promtool', prometheus ? undefined : 'prometheus'].filter(Boolean);
  if (missing.length > 0 || !promtool || !prometheus) {
    throw new Error(`${missing.join(' and ')} not found on PATH (${process.env.PATH}): ${INSTALL_HINT}`);
  }
  return { promtool, prometheus };
}

/** `promtool check metrics` on `text` (given on stdin): its exit code and everything it printed. */
export function promtoolCheckMetrics(promtool: string, text: string): { code: number | null; output: string } {
  const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw new Error(`could not run ${promtool}: ${r.error.message}`);
  return { code: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Holds a free port (answering 503 to whatever connects) until `release()`, so that a server
 * started later can take it: Prometheus can be told its target before the target exists.
 */
export async function reservePort(): Promise<{ port: number; release(): Promise<void> }> {
  const srv = createHttpServer((_req, res) => {
    res.writeHead(503);
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  let released: Promise<void> | undefined;
  return {
    port,
    release: () =>
      (released ??= new Promise<void>((resolve) => {
        srv.close(() => resolve());
        srv.closeAllConnections();
      })),
  };
}

// ---------------------------------------------------------------------------------------------
// A Prometheus server

export interface PromSample {
  metric: Record<string, string>;
  /** [unix seconds, value as text] */
  value: [number, string];
}

export interface PrometheusServer {
  readonly url: string;
  readonly pid: number | undefined;
  /** An instant query; `time` in unix seconds (default: now). */
  query(expr: string, time?: number): Promise<PromSample[]>;
  /** The single value of a query that yields one sample, or undefined when it yields none. */
  scalar(expr: string, time?: number): Promise<number | undefined>;
  /** What the server printed so far (for failure messages). */
  output(): string;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its data. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts `prometheus` scraping `targets` (host:port) every `intervalSeconds`, with its own
 * config and storage in a temporary directory, and resolves once /-/ready answers 200.
 */
export async function startPrometheus(binary: string, targets: readonly string[], intervalSeconds = 1): Promise<PrometheusServer> {
  // The port is picked free but could be taken before Prometheus binds it: then try another.
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'qitian-prom-'));
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        `  scrape_interval: ${intervalSeconds}s`,
        `  scrape_timeout: ${intervalSeconds}s`,
        `  evaluation_interval: ${intervalSeconds}s`,
        'scrape_configs:',
        '  - job_name: qitian',
        '    static_configs:',
        `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const child = spawn(
      binary,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
        '--storage.tsdb.retention.time=1h',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // Should the test process end without afterAll, take Prometheus along: at its exit, or, when
    // it is killed outright, from a watchdog outside its process group that outlives it.
    const reap = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    if (child.pid !== undefined) {
      const watchdog = 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill "$2" 2>/dev/null; sleep 2; rm -rf "$3"';
      spawn('sh', ['-c', watchdog, 'sh', String(process.pid), String(child.pid), dir], { detached: true, stdio: 'ignore' }).unref();
    }
    const server = wrap(child, `http://127.0.0.1:${port}`, dir);
    try {
      await waitReady(child, server);
      return server;
    } catch (err) {
      await server.stop();
      if (attempt >= 3 || !/address already in use/i.test(server.output())) throw err;
    }
  }
}

function wrap(child: ChildProcess, url: string, dir: string): PrometheusServer {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let stopping: Promise<void> | undefined;
  const query = async (expr: string, time?: number): Promise<PromSample[]> => {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', String(time));
    const res = await fetch(`${url}/api/v1/query?${params}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: PromSample[] } };
    if (res.status !== 200 || body.status !== 'success' || !body.data) {
      throw new Error(`query ${expr} failed: HTTP ${res.status} ${JSON.stringify(body)}`);
    }
    if (body.data.resultType !== 'vector') throw new Error(`query ${expr}: expected a vector, got ${body.data.resultType}`);
    return body.data.result;
  };
  return {
    url,
    pid: child.pid,
    query,
    async scalar(expr, time) {
      const r = await query(expr, time);
      if (r.length > 1) throw new Error(`query ${expr}: expected at most one sample, got ${JSON.stringify(r)}`);
      return r.length === 0 ? undefined : Number(r[0]!.value[1]);
    },
    output: () => out,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

async function waitReady(child: ChildProcess, server: PrometheusServer, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`prometheus exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready:\n${server.output()}`);
    }
    try {
      const res = await fetch(`${server.url}/-/ready`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`prometheus not ready after ${timeoutMs}ms:\n${server.output()}`);
    await sleep(50);
  }
}

/** Polls `read` until `ok` holds of its value; returns the last value read either way. */
export async function pollUntil<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<{ value: T; ok: boolean }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return { value, ok: true };
    if (Date.now() > until) return { value, ok: false };
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// The text exposition

export interface Exposition {
  /** Family name to type, from the # TYPE lines. */
  types: Map<string, string>;
  /** Sample (name and labels, as written) to value. */
  samples: Map<string, number>;
}

/** Parses the Prometheus text format: enough for comparing scrapes (no escapes inside label values). */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (m) types.set(m[1]!, m[2]!);
      continue;
    }
    const m = /^(\S+?(?:\{.*\})?) (\S+)(?: \d+)?$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    samples.set(m[1]!, Number(m[2]));
  }
  return { types, samples };
}

/** The family a sample belongs to: its name, less a histogram suffix when the family is a histogram. */
export function familyOf(sample: string, types: Map<string, string>): string {
  const name = sample.replace(/\{.*$/, '');
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix) && types.get(name.slice(0, -suffix.length)) === 'histogram') return name.slice(0, -suffix.length);
  }
  return name;
}

/** The samples of counters and histograms (every one of them only ever grows) whose family starts with `prefix`. */
export function monotonicSamples(e: Exposition, prefix = 'qitian_'): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of e.samples) {
    const fam = familyOf(k, e.types);
    const type = e.types.get(fam);
    if (fam.startsWith(prefix) && (type === 'counter' || type === 'histogram')) out.set(k, v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Topologies with built-in components

export interface BuiltinArgs {
  id: string;
  /** Export name in @qitian/netops: generatorSpout, fileSpout, fileSink, stdoutSink. */
  builtin: string;
  parallelism?: number;
  config?: Record<string, unknown>;
}

function builtinNode(n: BuiltinArgs): ComponentNode {
  const b = builtinComponents.find((c) => c.export === n.builtin);
  if (!b) throw new Error(`no built-in exported as ${n.builtin}`);
  const def = b.definition;
  const checked = validateConfig(def.spec.fields, n.config ?? {});
  if (checked.issues.length > 0) throw new Error(`${n.id}: ${checked.issues.map((i) => i.message).join('; ')}`);
  const cfg = checked.value as Record<string, unknown>;
  return {
    id: n.id,
    kind: def.kind,
    type: b.type,
    ref: b.ref,
    parallelism: n.parallelism ?? 1,
    config: cfg,
    outputs: def.kind === 'sink' || !def.outputs ? {} : def.outputs(cfg as never),
    autoAck: def.kind === 'spout' ? false : ((def as { autoAck?: boolean }).autoAck ?? true),
  };
}

/** Like kit's spec(), with built-in components too; nodes in topological order. */
export function mixedSpec(name: string, nodes: (NodeArgs | BuiltinArgs)[], streams: StreamArgs[], config: Partial<TopologyConfig> = {}): TopologySpec {
  const base = spec([], [], config);
  return {
    ...base,
    name,
    components: nodes.map((n) => ('builtin' in n ? builtinNode(n) : spec([n], [], config).components[0]!)),
    streams: streams.map((s) => ({ from: s.from, to: s.to, grouping: { type: 'shuffle', stream: 'default', ...s.grouping } as Grouping })),
  };
}
