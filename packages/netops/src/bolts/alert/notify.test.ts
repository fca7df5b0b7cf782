import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingLogger } from '../../testkit.js';
import { type Alert, createNotifiers, type NotifierEnv, parseNotify } from './notify.js';

const ALERT: Alert = {
  time: Date.UTC(2024, 4, 1, 10, 0, 9),
  strategy: 'link-flap',
  severity: 'major',
  key: 'r2',
  summary: '10 matching events in the 5m window',
  details: { count: 10, by: { host: 'r2' } },
};

class Env implements NotifierEnv {
  readonly logger = new RecordingLogger();
  readonly counts: Record<string, number> = {};
  count(name: string, delta: number, reason?: string): void {
    const k = reason === undefined ? name : `${name}{${reason}}`;
    this.counts[k] = (this.counts[k] ?? 0) + delta;
  }
}

interface Hit {
  at: number;
  body: string;
  headers: IncomingMessage['headers'];
}

/** A local HTTP server answering with the statuses given, in order (the last one repeats); `hang` never answers. */
async function webhookServer(statuses: (number | 'hang')[]): Promise<{ url: string; hits: Hit[]; server: Server }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += String(c);
    });
    req.on('end', () => {
      hits.push({ at: performance.now(), body, headers: req.headers });
      const status = statuses[Math.min(hits.length - 1, statuses.length - 1)]!;
      if (status === 'hang') return;
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, hits, server };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('webhook notifier', () => {
  it('posts the alert as JSON, retrying after 500s with exponential backoff', async () => {
    const { url, hits, server } = await webhookServer([500, 503, 200]);
    const env = new Env();
    const [n] = createNotifiers(parseNotify([{ type: 'webhook', url, backoff: '40ms', headers: { authorization: 'Bearer t' } }]), env);
    n!.offer(ALERT);
    await until(() => env.counts['notified{webhook}'] === 1);
    expect(hits).toHaveLength(3);
    for (const h of hits) {
      expect(JSON.parse(h.body)).toEqual(ALERT);
      expect(h.headers['content-type']).toBe('application/json');
      expect(h.headers.authorization).toBe('Bearer t');
    }
    // Waits of 40ms, then 80ms (timers may fire a little early or late, never much early).
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(35);
    expect(hits[2]!.at - hits[1]!.at).toBeGreaterThanOrEqual(75);
    expect(env.counts['notify_retries{webhook}']).toBe(2);
    await n!.close(1000);
    await closeServer(server);
  });

  it('gives up after `retries`, does not retry a 400, and times out a silent server', async () => {
    const failing = await webhookServer([500]);
    const rejecting = await webhookServer([400]);
    const silent = await webhookServer(['hang']);
    const env = new Env();
    const ns = createNotifiers(
      parseNotify([
        { type: 'webhook', url: failing.url, retries: 2, backoff: '5ms' },
        { type: 'webhook', url: rejecting.url, retries: 2, backoff: '5ms' },
        { type: 'webhook', url: silent.url, retries: 1, backoff: '5ms', timeout: '100ms' },
      ]),
      env,
    );
    for (const n of ns) n.offer(ALERT);
    await until(() => env.counts['notify_failed{webhook}'] === 3);
    expect(failing.hits).toHaveLength(3);
    expect(rejecting.hits).toHaveLength(1);
    expect(silent.hits).toHaveLength(2);
    expect(env.logger.records.some((r) => r.msg.includes('no answer within 100ms'))).toBe(true);
    await Promise.all(ns.map((n) => n.close(100)));
    await Promise.all([failing, rejecting, silent].map((s) => closeServer(s.server)));
  });

  it('never blocks: a full queue drops and counts, and close gives up at its deadline', async () => {
    const silent = await webhookServer(['hang']);
    const env = new Env();
    const [n] = createNotifiers(parseNotify([{ type: 'webhook', url: silent.url, queueSize: 2, timeout: '10s' }]), env);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) n!.offer({ ...ALERT, key: `r${i}` }); // 1 in flight, 2 queued, 2 dropped
    expect(performance.now() - t0).toBeLessThan(50);
    expect(env.counts['notify_dropped{webhook}']).toBe(2);
    await until(() => silent.hits.length === 1);
    await n!.close(100);
    expect(env.counts['notify_dropped{webhook}']).toBe(4);
    await closeServer(silent.server);
  });
});

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('nats notifier', () => {
  let server: ChildProcess;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    url = `nats://127.0.0.1:${port}`;
    server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    server.stderr!.on('data', (c) => {
      log += String(c);
    });
    await until(() => log.includes('Server is ready'), 10_000).catch(() => {
      throw new Error(`nats-server did not start on port ${port} (is it on PATH?): ${log}`);
    });
  });

  afterAll(() => {
    server?.kill();
  });

  it('publishes the alert JSON on the subject, with {severity} filled in', async () => {
    const { connect } = await import('@nats-io/transport-node');
    const sub = await connect({ servers: url });
    const got: { subject: string; data: unknown }[] = [];
    const s = sub.subscribe('noc.alerts.>');
    void (async () => {
      for await (const m of s) got.push({ subject: m.subject, data: m.json() });
    })();
    await sub.flush();
    const env = new Env();
    const [n] = createNotifiers(parseNotify([{ type: 'nats', servers: url, subject: 'noc.alerts.{severity}' }]), env);
    n!.offer(ALERT);
    n!.offer({ ...ALERT, severity: 'critical', key: 'r3' });
    await until(() => got.length === 2);
    expect(got).toEqual([
      { subject: 'noc.alerts.major', data: ALERT },
      { subject: 'noc.alerts.critical', data: { ...ALERT, severity: 'critical', key: 'r3' } },
    ]);
    expect(env.counts['notified{nats}']).toBe(2);
    await n!.close(1000);
    await sub.close();
  });

  it('keeps retrying to connect without blocking, and drops what is left at close', async () => {
    const env = new Env();
    const [n] = createNotifiers(parseNotify([{ type: 'nats', servers: `nats://127.0.0.1:${await freePort()}` }]), env);
    n!.offer(ALERT);
    await until(() => (env.counts['notify_retries{nats}'] ?? 0) >= 1);
    await n!.close(50);
    expect(env.counts['notify_dropped{nats}']).toBe(1);
  });
});
