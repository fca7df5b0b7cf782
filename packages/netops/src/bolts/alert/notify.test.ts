import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
    // The one in flight too: every alert is delivered, failed or dropped, none lost unseen.
    expect(env.counts['notify_dropped{webhook}']).toBe(5);
    // Those left at close are output the run could not deliver (exit 3); a full queue's drops are not.
    expect(env.counts.output_lost).toBe(3);
    await closeServer(silent.server);
  });
});

describe('file notifier', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'qitian-alert-file-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const lines = (p: string) =>
    readFileSync(p, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  const keys = (p: string) => lines(p).map((l) => (JSON.parse(l) as Alert).key);
  const errors = (env: Env) => env.logger.records.filter((r) => r.level === 'error');
  const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('creates missing parent folders, as the file sink does', async () => {
    const path = join(dir, 'no', 'such', 'folder', 'alerts.jsonl');
    const env = new Env();
    const [n] = createNotifiers(parseNotify([{ type: 'file', path }]), env);
    n!.offer(ALERT);
    n!.offer({ ...ALERT, key: 'r3' });
    await n!.close(1000);
    expect(lines(path).map((l) => JSON.parse(l))).toEqual([ALERT, { ...ALERT, key: 'r3' }]);
    expect(env.counts['notified{file}']).toBe(2);
    expect(env.counts['notify_dropped{file}']).toBeUndefined();
    expect(errors(env)).toEqual([]);
  });

  it('makes the file again within a second of logrotate moving it away, and says so', async () => {
    const path = join(dir, 'alerts.jsonl');
    const env = new Env();
    const [n] = createNotifiers(parseNotify([{ type: 'file', path }]), env);
    n!.offer({ ...ALERT, key: 'before' });
    await until(() => env.counts['notified{file}'] === 1);
    renameSync(path, join(dir, 'alerts.jsonl.1'));
    await sleepMs(1100);
    n!.offer({ ...ALERT, key: 'after' });
    await n!.close(1000);
    expect(keys(join(dir, 'alerts.jsonl.1'))).toEqual(['before']);
    expect(keys(path)).toEqual(['after']);
    expect(env.logger.records.find((r) => r.msg.includes('was moved or deleted'))?.fields).toMatchObject({ path });
    expect(errors(env)).toEqual([]);
  });

  it('names the path and the system error when the file cannot be opened, and counts each alert it drops', async () => {
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, '');
    const path = join(blocker, 'alerts.jsonl');
    const env = new Env();
    const [n] = createNotifiers(parseNotify([{ type: 'file', path }]), env);
    n!.offer(ALERT);
    await until(() => env.counts['notify_dropped{file}'] === 1);
    n!.offer(ALERT);
    n!.offer(ALERT);
    await n!.close(1000);
    expect(env.counts['notify_dropped{file}']).toBe(3);
    expect(env.counts['notified{file}']).toBeUndefined();
    expect(errors(env)).toHaveLength(1);
    const msg = errors(env)[0]!.msg;
    expect(msg).toContain(`"${path}"`);
    expect(msg).toMatch(/ENOTDIR|EEXIST/);
    expect(msg).toMatch(/not a directory|already exists/);
  });

  // Node 20.20's mkdir(..., { recursive: true }) never returns for /proc/nope: the timeout turns a hang into a failure.
  it('reports a folder that cannot be made under /proc and drops the alert, instead of hanging', async () => {
    const path = '/proc/qitian-nope-xyz/alerts.jsonl';
    const env = new Env();
    const [n] = createNotifiers(parseNotify([{ type: 'file', path }]), env);
    n!.offer(ALERT);
    await until(() => env.counts['notify_dropped{file}'] === 1);
    await n!.close(1000);
    expect(errors(env)).toHaveLength(1);
    expect(errors(env)[0]!.msg).toContain(`"${path}"`);
    expect(errors(env)[0]!.msg).toContain('ENOENT');
  }, 3000);

  it('names the path and the errno when a write fails (disk full)', async () => {
    const env = new Env();
    const [n] = createNotifiers(parseNotify([{ type: 'file', path: '/dev/full' }]), env);
    n!.offer(ALERT);
    await until(() => env.counts['notify_dropped{file}'] === 1);
    await n!.close(1000);
    expect(errors(env)).toHaveLength(1);
    expect(errors(env)[0]!.msg).toContain('"/dev/full"');
    expect(errors(env)[0]!.msg).toContain('ENOSPC');
    expect(errors(env)[0]!.msg).toContain('no space left on device');
  });

  it('after a failure, tries again with a backoff: one error per outage, a recovery at info, later alerts written in order', async () => {
    const folder = join(dir, 'alerts');
    const path = join(folder, 'alerts.jsonl');
    writeFileSync(folder, ''); // a file where the folder should be: opening fails until it is removed
    const env = new Env();
    const [n] = createNotifiers(parseNotify([{ type: 'file', path }]), env, undefined, { fileRetryMs: 150 });
    n!.offer({ ...ALERT, key: 'a1' });
    await until(() => env.counts['notify_dropped{file}'] === 1);
    const failedAt = performance.now();
    // Within the backoff: dropped at once, without trying the file again or logging again.
    n!.offer({ ...ALERT, key: 'a2' });
    n!.offer({ ...ALERT, key: 'a3' });
    expect(env.counts['notify_dropped{file}']).toBe(3);
    // Still failing after the backoff: tried again, still one error.
    await sleepMs(Math.max(0, 160 - (performance.now() - failedAt)));
    n!.offer({ ...ALERT, key: 'a4' });
    await until(() => env.counts['notify_dropped{file}'] === 4);
    expect(errors(env)).toHaveLength(1);
    // The cause goes away; the next alert after the backoff is written, and so are the ones after it.
    unlinkSync(folder);
    await sleepMs(160);
    n!.offer({ ...ALERT, key: 'b1' });
    n!.offer({ ...ALERT, key: 'b2' });
    await until(() => env.counts['notified{file}'] === 2);
    n!.offer({ ...ALERT, key: 'b3' });
    await n!.close(1000);
    expect(keys(path)).toEqual(['b1', 'b2', 'b3']);
    expect(env.counts['notified{file}']).toBe(3);
    expect(env.counts['notify_dropped{file}']).toBe(4);
    expect(errors(env)).toHaveLength(1);
    const infos = env.logger.records.filter((r) => r.level === 'info');
    expect(infos).toHaveLength(1);
    expect(infos[0]!.msg).toContain(`"${path}"`);
    expect(infos[0]!.msg).toContain('4 alert(s)');
  });

  it('reopens the file after a failed write (a full disk that frees up)', async () => {
    const path = join(dir, 'alerts.jsonl');
    symlinkSync('/dev/full', path);
    const env = new Env();
    const [n] = createNotifiers(parseNotify([{ type: 'file', path }]), env, undefined, { fileRetryMs: 100 });
    n!.offer({ ...ALERT, key: 'a1' });
    await until(() => env.counts['notify_dropped{file}'] === 1);
    unlinkSync(path);
    await sleepMs(120);
    n!.offer({ ...ALERT, key: 'b1' });
    await n!.close(1000);
    expect(keys(path)).toEqual(['b1']);
    expect(env.counts['notified{file}']).toBe(1);
    expect(errors(env)).toHaveLength(1);
  });

  it('close writes everything offered, in order', async () => {
    const path = join(dir, 'alerts.jsonl');
    writeFileSync(path, '{"old":1}\n');
    const env = new Env();
    const [n] = createNotifiers(parseNotify([{ type: 'file', path }]), env);
    for (let i = 0; i < 3000; i++) n!.offer({ ...ALERT, key: `r${i}` });
    await n!.close(1000);
    expect(lines(path)[0]).toBe('{"old":1}');
    expect(keys(path).slice(1)).toEqual(Array.from({ length: 3000 }, (_, i) => `r${i}`));
    expect(env.counts['notified{file}']).toBe(3000);
    n!.offer(ALERT); // after close: dropped, not written
    expect(env.counts['notify_dropped{file}']).toBe(1);
    expect(lines(path)).toHaveLength(3001);
  });

  it('close does not hang on a file that never opens: it gives up at its deadline and counts what is left', async () => {
    const path = join(dir, 'fifo');
    execFileSync('mkfifo', [path]); // opening a FIFO to write waits for a reader
    const env = new Env();
    const [n] = createNotifiers(parseNotify([{ type: 'file', path }]), env);
    n!.offer(ALERT);
    n!.offer(ALERT);
    const t0 = performance.now();
    const closed = await Promise.race([n!.close(100).then(() => true), sleepMs(2000).then(() => false)]);
    // Let the pending open finish (it holds a thread of the pool) before checking.
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    await sleepMs(50);
    closeSync(reader);
    expect(closed).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(env.counts['notify_dropped{file}']).toBe(2);
    expect(env.counts['notified{file}']).toBeUndefined();
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
    await until(() => env.counts['notified{nats}'] === 2);
    await n!.close(1000);
    await sub.close();
  });

  it('publishes again what a server that went away did not confirm, once it is back (it counted such alerts delivered)', async () => {
    const port = await freePort();
    const own = `nats://127.0.0.1:${port}`;
    const startServer = async () => {
      const p = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      p.stderr!.on('data', (c) => {
        log += String(c);
      });
      await until(() => log.includes('Server is ready'), 10_000);
      return p;
    };
    let srv = await startServer();
    const env = new Env();
    const [n] = createNotifiers(parseNotify([{ type: 'nats', servers: own, subject: 'noc.alerts' }]), env);
    n!.offer(ALERT);
    await until(() => env.counts['notified{nats}'] === 1);
    srv.kill('SIGKILL');
    n!.offer({ ...ALERT, key: 'while-down' });
    await until(() => (env.counts['notify_retries{nats}'] ?? 0) >= 1, 15_000);
    expect(env.counts['notified{nats}']).toBe(1);
    srv = await startServer();
    const { connect } = await import('@nats-io/transport-node');
    const sub = await connect({ servers: own });
    const got: string[] = [];
    const s = sub.subscribe('noc.alerts');
    void (async () => {
      for await (const m of s) got.push((m.json() as Alert).key);
    })();
    await sub.flush();
    await until(() => got.length === 1, 20_000);
    expect(got).toEqual(['while-down']);
    // Counted once the server's answer to the PING after it is in, which can come after the subscriber has it.
    await until(() => env.counts['notified{nats}'] === 2);
    await n!.close(1000);
    await sub.close();
    srv.kill();
  }, 40_000);

  it('keeps retrying to connect without blocking, and drops what is left at close', async () => {
    const env = new Env();
    const [n] = createNotifiers(parseNotify([{ type: 'nats', servers: `nats://127.0.0.1:${await freePort()}` }]), env);
    n!.offer(ALERT);
    await until(() => (env.counts['notify_retries{nats}'] ?? 0) >= 1);
    await n!.close(50);
    expect(env.counts['notify_dropped{nats}']).toBe(1);
  });
});
