/**
 * The HTTP endpoint of a running topology: Prometheus metrics at /metrics and a small read-only
 * control API under /api/v1 that `qitian top` and `qitian tap` use (docs/metrics.md).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Engine } from '../engine.js';
import { NodeMetrics } from '../metrics/node-metrics.js';

/** How long a request waits for a thread's figures before using its last ones (a thread restarting). */
const STATS_WAIT_MS = 2000;

/**
 * Bytes a tap stream may hold unsent for a reader that does not take them (`qitian tap | less`,
 * paused); beyond, sampled tuples are skipped and counted, not held in this process's memory.
 */
const TAP_BUFFER_BYTES = 1 << 20;

/** Silence after which an idle tap stream gets a heartbeat; `qitian tap` gives up after four. */
const TAP_HEARTBEAT_MS = 15_000;

export interface ControlServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1: the tap endpoint shows data, so exposing it is a choice. */
  host?: string;
  /** An idle tap stream sends an empty line after this many ms without output (default 15000). */
  tapHeartbeatMs?: number;
}

export interface ControlServer {
  /** Base URL, e.g. http://127.0.0.1:9464 */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** An endpoint that listens before its topology exists: `attach` gives it one. */
export interface PendingControlServer extends ControlServer {
  /** Serves `engine` from now on; until then every request is answered 503. */
  attach(engine: Engine): ControlServer;
}

/** Starts the endpoint; resolves once it listens. */
export async function startControlServer(engine: Engine, opts: ControlServerOptions): Promise<ControlServer> {
  return (await listenControlServer(opts)).attach(engine);
}

/**
 * Binds the endpoint's port before the topology starts, so that a port in use fails the run
 * before any component opens (a file sink would have truncated its output by then).
 */
export async function listenControlServer(opts: ControlServerOptions): Promise<PendingControlServer> {
  let served: { engine: Engine; metrics: NodeMetrics } | undefined;
  const closers = new Set<() => void>();
  const heartbeatMs = opts.tapHeartbeatMs ?? TAP_HEARTBEAT_MS;
  if (!(heartbeatMs > 0)) throw new RangeError(`tapHeartbeatMs must be more than 0, not ${heartbeatMs}`);
  const server = createServer((req, res) => {
    if (served === undefined) {
      json(res, 503, { error: 'the topology is starting' });
      return;
    }
    handle(served.engine, served.metrics, closers, heartbeatMs, req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: (err as Error).message });
      else res.end();
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const endpoint: PendingControlServer = {
    url: `http://${shownHost}:${port}`,
    port,
    close: () => closeServer(server, closers),
    attach: (engine) => {
      served = { engine, metrics: new NodeMetrics(engine) };
      return endpoint;
    },
  };
  return endpoint;
}

async function closeServer(server: Server, closers: Set<() => void>): Promise<void> {
  for (const c of [...closers]) c();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function handle(
  engine: Engine,
  metrics: NodeMetrics,
  closers: Set<() => void>,
  heartbeatMs: number,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    json(res, 405, { error: `${req.method} is not allowed: this endpoint is read-only` });
    return;
  }
  switch (url.pathname) {
    case '/metrics': {
      const text = await metrics.text();
      res.writeHead(200, { 'Content-Type': metrics.contentType });
      res.end(text);
      return;
    }
    case '/api/v1/topology':
      json(res, 200, topology(engine));
      return;
    case '/api/v1/stats': {
      const tasks = await engine.stats(STATS_WAIT_MS);
      json(res, 200, { time: Date.now(), ...engine.info(), tasks });
      return;
    }
    case '/api/v1/tap':
      return tap(engine, closers, heartbeatMs, url, req, res);
    case '/':
      return json(res, 200, {
        topology: engine.plan.spec.name,
        endpoints: {
          '/metrics': 'Prometheus metrics',
          '/api/v1/topology': 'components, streams and groupings',
          '/api/v1/stats': 'counters of every task (what qitian top reads)',
          '/api/v1/tap?component=C&stream=S&sample=R&limit=N': 'tuples C emits on S, as JSON lines',
        },
      });
    default:
      json(res, 404, { error: `no such endpoint: ${url.pathname}`, endpoints: ['/metrics', '/api/v1/topology', '/api/v1/stats', '/api/v1/tap'] });
      return;
  }
}

function topology(engine: Engine): unknown {
  const spec = engine.plan.spec;
  const c = spec.config;
  return {
    ...engine.info(),
    // What bounds a spout besides its consumers: `qitian top` tells a spout held at maxSpoutPending.
    config: { acking: c.acking, maxSpoutPending: c.maxSpoutPending, messageTimeoutMs: c.messageTimeoutMs },
    components: spec.components.map((c) => ({
      id: c.id,
      kind: c.kind,
      parallelism: c.parallelism,
      streams: c.outputs,
      inputs: spec.streams.filter((s) => s.to === c.id).map((s) => ({ from: s.from, stream: s.grouping.stream, grouping: s.grouping.type })),
    })),
    streams: spec.streams.map((s) => ({ from: s.from, to: s.to, stream: s.grouping.stream, grouping: s.grouping.type })),
    // Which thread runs which task: ties a worker's event-loop delay or heap to components.
    tasks: engine.plan.tasks.map((t) => ({ taskId: t.taskId, component: t.componentId, taskIndex: t.taskIndex, worker: t.worker })),
  };
}

/**
 * Streams the tuples a component emits on a stream as JSON lines until `limit` lines were sent,
 * the client goes away or the topology closes. A line `{"skipped": n}` says n sampled tuples
 * were not sent because the reader fell behind; an empty line after `heartbeatMs` of silence says
 * the stream is alive.
 */
function tap(engine: Engine, closers: Set<() => void>, heartbeatMs: number, url: URL, req: IncomingMessage, res: ServerResponse): void {
  const spec = engine.plan.spec;
  const id = url.searchParams.get('component') ?? '';
  const node = spec.components.find((c) => c.id === id);
  const known = spec.components.map((c) => c.id);
  if (!node) {
    json(res, 404, { error: id ? `unknown component "${id}"` : 'component is required', components: known });
    return;
  }
  const streams = Object.keys(node.outputs);
  if (streams.length === 0) {
    const feeders = spec.streams.filter((s) => s.to === id).map((s) => (s.grouping.stream === 'default' ? s.from : `${s.from}:${s.grouping.stream}`));
    json(res, 400, { error: `"${id}" is a ${node.kind} and emits no streams; tap what feeds it`, components: known, feeders });
    return;
  }
  const stream = url.searchParams.get('stream') || 'default';
  if (!streams.includes(stream)) {
    json(res, 400, { error: `"${id}" has no stream "${stream}"`, streams });
    return;
  }
  const sample = Number(url.searchParams.get('sample') ?? '1');
  if (!(sample > 0 && sample <= 1)) {
    json(res, 400, { error: `sample must be a fraction in (0, 1], not "${url.searchParams.get('sample')}"` });
    return;
  }
  const limitParam = url.searchParams.get('limit') ?? '0';
  const limit = Number(limitParam);
  if (!Number.isInteger(limit) || limit < 0) {
    json(res, 400, { error: `limit must be a whole number >= 0, not "${limitParam}"` });
    return;
  }

  res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' });
  res.flushHeaders();
  let sent = 0;
  let ended = false;
  // A rare stream (alerts, errors) can be silent for hours: fetch drops a body silent for 300 s
  // (undici's bodyTimeout), and a reader cannot tell silence from a dead server without a beat.
  const write = (text: string): void => {
    res.write(text);
    heartbeat.refresh();
  };
  const heartbeat = setTimeout(() => write('\n'), heartbeatMs).unref();
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearTimeout(heartbeat);
    untap();
    closers.delete(end);
    res.end();
  };
  // Sampled tuples the reader did not take: said in the next {"skipped"} line.
  let behind = 0;
  const untap = engine.tap(id, stream, sample, limit, (lines, skipped) => {
    if (ended) return;
    if (res.writableLength > TAP_BUFFER_BYTES) {
      behind += lines.length + skipped;
      return;
    }
    skipped += behind;
    behind = 0;
    let out = '';
    for (const line of lines) {
      if (limit > 0 && sent >= limit) break;
      out += `${line}\n`;
      sent++;
    }
    if (skipped > 0) out += `${JSON.stringify({ skipped })}\n`;
    if (out) write(out);
    if (limit > 0 && sent >= limit) end();
  });
  // Caught up: what it missed is said now, not only with the next tuple (a quiet stream).
  res.on('drain', () => {
    if (ended || behind === 0) return;
    write(`${JSON.stringify({ skipped: behind })}\n`);
    behind = 0;
  });
  closers.add(end);
  req.on('close', end);
  void engine.finished.then(end);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}
