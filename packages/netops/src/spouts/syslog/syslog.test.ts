import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { validateConfig } from '@qitian/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { driveSpout, type FakeSpoutContextOptions, openSpout, type SpoutHarness } from '../../testkit.js';
import { RAW_FIELDS } from '../../syslog/event.js';
import { SyslogListenError, type SyslogSpout, type SyslogSpoutConfig, syslogSpout } from './index.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Harness = SpoutHarness<SyslogSpoutConfig> & { spout: SyslogSpout };
const opened: SyslogSpout[] = [];
const clients: (net.Socket | dgram.Socket)[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) {
    if (c instanceof net.Socket) c.destroy();
    else c.close();
  }
  for (const s of opened.splice(0)) await s.close();
});

async function start(raw: Record<string, unknown>, opts: Omit<FakeSpoutContextOptions<SyslogSpoutConfig>, 'config'> = {}): Promise<Harness> {
  const h = (await openSpout(syslogSpout, { host: '127.0.0.1', port: 0, ...raw }, opts)) as Harness;
  opened.push(h.spout);
  return h;
}

const portOf = (h: Harness): number => h.spout.address!.port;

/** Drives the spout until it has emitted `n` tuples (fails, saying how many came, if they do not). */
async function collect(h: Harness, n: number, timeoutMs = 5000): Promise<unknown[][]> {
  await driveSpout(h, { until: () => h.collector.emits.length >= n, timeoutMs, max: 1000 });
  expect(h.collector.emits.length, `tuples emitted within ${timeoutMs}ms`).toBe(n);
  h.spout.next(0); // reports the counts of the last batch
  return h.collector.emits.map((e) => e.values);
}

/** Asks for tuples for a while and checks that none come. */
async function expectNothingMore(h: Harness, ms = 150): Promise<void> {
  const before = h.collector.emits.length;
  await driveSpout(h, { until: () => false, timeoutMs: ms });
  expect(h.collector.emits.length).toBe(before);
}

/** Waits until `cond` holds (reporting the counts of the last batch before each check), failing after `ms`. */
async function eventually(h: Harness, what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    h.spout.next(0);
    if (cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms}ms waiting for ${what}`);
    await sleep(5);
  }
}

function udpClient(): dgram.Socket {
  const c = dgram.createSocket('udp4');
  clients.push(c);
  return c;
}

function sendUdp(c: dgram.Socket, port: number, msg: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => c.send(msg, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

async function tcpClient(port: number): Promise<net.Socket> {
  const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
  clients.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  s.on('error', () => undefined);
  return s;
}

function write(s: net.Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => s.write(data, (err) => (err ? reject(err) : resolve())));
}

/** Writes `data` in pieces cut at the given byte positions, pausing between them so that they arrive as separate reads. */
async function writeCut(s: net.Socket, data: string, at: number[]): Promise<void> {
  const b = Buffer.from(data);
  let prev = 0;
  for (const p of [...at, b.length]) {
    await write(s, b.subarray(prev, p));
    prev = p;
    await sleep(3);
  }
}

function closed(s: net.Socket): Promise<void> {
  return s.destroyed && s.closed ? Promise.resolve() : new Promise((resolve) => s.once('close', () => resolve()));
}

const octet = (msg: string): string => `${Buffer.byteLength(msg)} ${msg}`;

const LINE_3164 = /^<(\d+)>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+) (.*)$/;
const LINE_5424 = /^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[.*?\]|-) (.*)$/;

describe('syslog spout: spec', () => {
  it('declares RAW_FIELDS on the default stream', () => {
    expect(syslogSpout.kind).toBe('spout');
    expect(syslogSpout.outputs?.(validateConfig(syslogSpout.spec.fields, {}).value)).toEqual({ default: [...RAW_FIELDS] });
  });

  it('every spec example is a valid component entry', () => {
    expect(syslogSpout.spec.examples!.length).toBeGreaterThanOrEqual(1);
    for (const ex of syslogSpout.spec.examples!) {
      const entry = parse(ex.yaml) as { id: string; type: string; config: unknown };
      expect(entry.type).toBe('syslog');
      expect(validateConfig(syslogSpout.spec.fields, entry.config).issues, ex.title).toEqual([]);
    }
    for (const [name, f] of Object.entries(syslogSpout.spec.fields)) expect(f.description.length, name).toBeGreaterThan(10);
  });

  it('rejects TLS keys without protocol tls, and protocol tls without a certificate', async () => {
    await expect(start({ protocol: 'udp', tlsCert: '/x.crt' })).rejects.toThrow(/tlsCert, tlsKey and tlsCa apply to protocol tls only/);
    await expect(start({ protocol: 'tls', tlsCert: '/x.crt' })).rejects.toThrow(/protocol tls needs tlsCert and tlsKey.*tlsKey is missing/);
  });
});

describe('syslog spout: UDP', () => {
  it('emits the exact messages the real logger sends (RFC 3164 and RFC 5424), with the peer and the receive time', async () => {
    const h = await start({ protocol: 'udp' });
    const port = portOf(h);
    const t0 = Date.now();
    await run('logger', [
      '--udp',
      '--server',
      '127.0.0.1',
      '--port',
      String(port),
      '--rfc3164',
      '-p',
      'local3.err',
      '-t',
      'rtr1',
      'LINK-3-UPDOWN: Interface Gi0/1, changed state to down',
    ]);
    await run('logger', [
      '--udp',
      '-n',
      '127.0.0.1',
      '-P',
      String(port),
      '--rfc5424',
      '-p',
      'auth.crit',
      '-t',
      'sshd',
      '--msgid',
      'ID47',
      'Failed password for root from 10.0.0.1 port 22',
    ]);
    const rows = await collect(h, 2);
    const t1 = Date.now();

    const [line1, peer1, at1] = rows[0] as [string, string, number];
    const m1 = LINE_3164.exec(line1);
    expect(m1, line1).not.toBeNull();
    expect(m1![1]).toBe('155'); // local3 (19) * 8 + err (3)
    expect(m1![4]).toBe('rtr1: LINK-3-UPDOWN: Interface Gi0/1, changed state to down');
    expect(peer1).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(at1).toBeGreaterThanOrEqual(t0);
    expect(at1).toBeLessThanOrEqual(t1);

    const [line2, peer2] = rows[1] as [string, string];
    const m2 = LINE_5424.exec(line2);
    expect(m2, line2).not.toBeNull();
    expect(m2![1]).toBe('34'); // auth (4) * 8 + crit (2)
    expect(m2![4]).toBe('sshd');
    expect(m2![6]).toBe('ID47');
    expect(m2![8]).toBe('Failed password for root from 10.0.0.1 port 22');
    expect(peer2).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(peer2).not.toBe(peer1); // two logger processes, two source ports

    expect(h.context.counted('received')).toBe(2);
    expect(h.context.counted('bytes')).toBe(Buffer.byteLength(line1) + Buffer.byteLength(line2));
    expect(h.context.counted('dropped')).toBe(0);
  });

  it('removes one trailing LF, CR LF or NUL, drops empty datagrams, truncates long ones and replaces invalid UTF-8', async () => {
    const h = await start({ protocol: 'udp', maxMessageBytes: 100 });
    const c = udpClient();
    const port = portOf(h);
    for (const m of ['<13>lf\n', '<13>crlf\r\n', '<13>nul\0', '<13>two lf\n\n', '', '\n', `<13>${'L'.repeat(300)}`]) await sendUdp(c, port, m);
    await sendUdp(c, port, Buffer.from([0x3c, 0x31, 0x33, 0x3e, 0x61, 0xff, 0x62]));
    const rows = await collect(h, 6);
    expect(rows.map((r) => r[0])).toEqual(['<13>lf', '<13>crlf', '<13>nul', '<13>two lf\n', `<13>${'L'.repeat(96)}`, '<13>a\uFFFDb']);
    const peer = `127.0.0.1:${c.address().port}`;
    expect(rows.every((r) => r[1] === peer)).toBe(true);
    expect(h.context.counted('received')).toBe(8);
    expect(h.context.counted('dropped', 'empty')).toBe(2);
    expect(h.context.counted('truncated')).toBe(1);
    // The bad byte is counted and said with the sender.
    expect(h.context.counted('invalid_utf8')).toBe(1);
    expect(h.context.logger.records.filter((r) => r.msg.includes(`from ${peer} is not valid UTF-8`))).toHaveLength(1);
  });

  it('does not count the trailer against maxMessageBytes: a message of exactly the maximum with LF or CR LF is whole, not truncated', async () => {
    const h = await start({ protocol: 'udp', maxMessageBytes: 64 });
    const c = udpClient();
    const exact = `<13>${'x'.repeat(60)}`;
    const over = `<13>${'y'.repeat(61)}`;
    for (const m of [`${exact}\n`, `${exact}\r\n`, `${exact}\0`, exact, `${over}\n`]) await sendUdp(c, portOf(h), m);
    const rows = await collect(h, 5);
    expect(rows.map((r) => r[0])).toEqual([exact, exact, exact, exact, over.slice(0, 64)]);
    expect(h.context.counted('truncated')).toBe(1);
  });

  it('under overload drops the newest datagrams and counts them, then goes on', async () => {
    const h = await start({ protocol: 'udp', maxBuffered: 10 });
    const c = udpClient();
    const port = portOf(h);
    const sent = 500;
    for (let i = 0; i < sent; i++) await sendUdp(c, port, `<14>msg ${i}`);
    // Nothing is emitted meanwhile: the spout's buffer fills and overflows.
    const deadline = Date.now() + 3000;
    while (h.context.counted('received') < sent && Date.now() < deadline) {
      h.spout.next(0);
      await sleep(5);
    }
    const received = h.context.counted('received');
    expect(received, 'datagrams the kernel delivered').toBe(sent);
    expect(h.spout.bufferedMessages).toBe(10);
    expect(h.context.counted('dropped', 'queue_full')).toBe(received - 10);
    // Lost data is said in the log too, with how many (the sum of the warnings is the count).
    const warned = h.context.logger.records.filter((r) => r.level === 'warn' && r.msg.includes('reason queue_full'));
    expect(warned.length).toBeGreaterThan(0);
    expect(warned[0]!.msg).toMatch(/^syslog spout: dropped \d+ UDP datagrams?: 10 messages were already waiting to be emitted/);
    const said = warned.reduce((a, r) => a + (r.fields as { dropped: number }).dropped, 0);
    // (Past 20 warnings a minute the rest are only counted, and said at the minute's end.)
    if (warned.length < 20) expect(said).toBe(received - 10);
    else expect(said).toBeLessThan(received - 10);
    const rows = await collect(h, 10);
    // Drop newest: the first ten are kept.
    expect(rows.map((r) => r[0])).toEqual(Array.from({ length: 10 }, (_, i) => `<14>msg ${i}`));

    await sendUdp(c, port, '<14>after the flood');
    const after = await collect(h, 11);
    expect(after[10]![0]).toBe('<14>after the flood');
    expect(h.context.logger.records.filter((r) => r.level === 'error')).toEqual([]);
  });

  it('counts the datagrams the kernel dropped because the socket buffer was full (Linux)', async () => {
    // The smallest receive buffer the kernel grants holds a handful of datagrams.
    const h = await start({ protocol: 'udp', recvBufferBytes: 1 });
    const c = udpClient();
    const port = portOf(h);
    const sent = 2000;
    const msg = Buffer.from(`<14>${'k'.repeat(200)}`);
    // Sent in one go: the spout cannot read before the loop ends, so most overflow the kernel buffer.
    let done = 0;
    await new Promise<void>((resolve) => {
      for (let i = 0; i < sent; i++) c.send(msg, port, '127.0.0.1', () => ++done === sent && resolve());
    });
    await eventually(h, 'every datagram received or counted as dropped by the kernel', () => {
      void h.spout.countKernelDrops();
      return h.context.counted('received') + h.context.counted('dropped', 'kernel') === sent;
    });
    expect(h.context.counted('dropped', 'kernel')).toBeGreaterThan(0);
    expect(h.context.logger.records.some((r) => r.level === 'warn' && r.msg.includes('the kernel dropped'))).toBe(true);
  });

  it('fails to open on a port in use with an error naming the protocol, host and port (and the parallelism hint)', async () => {
    const first = await start({ protocol: 'udp' });
    const port = portOf(first);
    const err = await start({ protocol: 'udp', port }, { parallelism: 2, taskIndex: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyslogListenError);
    expect((err as SyslogListenError).code).toBe('EADDRINUSE');
    expect((err as Error).message).toContain(`cannot listen on udp 127.0.0.1:${port}: address already in use (EADDRINUSE)`);
    expect((err as Error).message).toContain('parallelism 2');
    // The first task is unaffected.
    await sendUdp(udpClient(), port, '<13>still here');
    expect((await collect(first, 1))[0]![0]).toBe('<13>still here');
  });

  it('logs where it listens and the receive buffer it got', async () => {
    const h = await start({ protocol: 'udp', recvBufferBytes: 65536 });
    const listening = h.context.logger.records.find((r) => r.msg.startsWith('syslog spout: listening'));
    expect(listening?.msg).toBe(`syslog spout: listening on udp 127.0.0.1:${portOf(h)}`);
    expect(listening?.fields).toEqual({ protocol: 'udp', host: '127.0.0.1', port: portOf(h) });
    expect(h.context.logger.records.some((r) => /UDP receive buffer \d+ bytes/.test(r.msg))).toBe(true);
  });
});

describe('syslog spout: UDP receive buffer', () => {
  it('says the buffer Linux actually set (half what it reports) and warns when net.core.rmem_max capped it below what was asked', async () => {
    const max = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    // Root may exceed rmem_max only with SO_RCVBUFFORCE, which Node does not use: the cap holds.
    const capped = await start({ protocol: 'udp', recvBufferBytes: max * 2 });
    const warn = capped.context.logger.records.find((r) => r.level === 'warn' && r.msg.includes('UDP receive buffer is'));
    expect(warn?.fields).toEqual({ recvBufferBytes: max * 2, granted: max });
    const fits = await start({ protocol: 'udp', recvBufferBytes: Math.min(max, 262_144) });
    expect(fits.context.logger.records.filter((r) => r.level === 'warn')).toEqual([]);
    expect(fits.context.logger.records.find((r) => r.msg.startsWith('syslog spout: UDP receive buffer'))?.fields).toEqual({ granted: Math.min(max, 262_144) });
  });
});

describe('syslog spout: TCP', () => {
  it('emits the exact messages of the real logger with octet-counting (RFC 5424) and LF framing (RFC 3164)', async () => {
    const h = await start({ protocol: 'tcp' });
    const port = String(portOf(h));
    await run('logger', [
      '--tcp',
      '--octet-count',
      '--rfc5424',
      '-n',
      '127.0.0.1',
      '-P',
      port,
      '-p',
      'local7.warning',
      '-t',
      'bgpd',
      'neighbor 192.0.2.1 Down',
    ]);
    await run('logger', ['--tcp', '--rfc3164', '-n', '127.0.0.1', '-P', port, '-p', 'local0.emerg', '-t', 'kernel', 'panic: out of cheese']);
    const rows = await collect(h, 2);
    const m1 = LINE_5424.exec(rows[0]![0] as string);
    expect(m1, rows[0]![0] as string).not.toBeNull();
    expect(m1![1]).toBe('188'); // local7 (23) * 8 + warning (4)
    expect(m1![4]).toBe('bgpd');
    expect(m1![8]).toBe('neighbor 192.0.2.1 Down');
    const m2 = LINE_3164.exec(rows[1]![0] as string);
    expect(m2, rows[1]![0] as string).not.toBeNull();
    expect(m2![1]).toBe('128'); // local0 (16) * 8 + emerg (0)
    expect(m2![4]).toBe('kernel: panic: out of cheese');
    expect(rows.every((r) => /^127\.0\.0\.1:\d+$/.test(r[1] as string))).toBe(true);
    await eventually(h, 'two disconnects', () => h.context.counted('disconnects', 'peer') === 2);
    expect(h.context.counted('connections')).toBe(2);
  });

  it('takes many messages on one connection from logger -f, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qitian-syslog-'));
    try {
      const file = join(dir, 'msgs.txt');
      const bodies = Array.from({ length: 20 }, (_, i) => `message number ${i} with unicode é`);
      writeFileSync(file, `${bodies.join('\n')}\n`);
      const h = await start({ protocol: 'tcp' });
      await run('logger', ['--tcp', '--octet-count', '--rfc5424', '-n', '127.0.0.1', '-P', String(portOf(h)), '-p', 'user.info', '-t', 'app', '-f', file]);
      const rows = await collect(h, 20);
      expect(rows.map((r) => LINE_5424.exec(r[0] as string)![8])).toEqual(bodies);
      expect(rows.map((r) => (r[0] as string).slice(0, 5))).toEqual(bodies.map(() => '<14>1'));
      expect(new Set(rows.map((r) => r[1])).size).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('frames LF-delimited messages split across writes at awkward places (inside CR LF, inside UTF-8, at the trailer)', async () => {
    const h = await start({ protocol: 'tcp' });
    const s = await tcpClient(portOf(h));
    const text = '<13>first é message\r\n<14>second\n<15>third\0<16>fourth ü\n';
    const b = Buffer.from(text);
    const cr = b.indexOf('\r');
    const eacute = b.indexOf(Buffer.from('é'));
    await writeCut(s, text, [1, 3, eacute + 1, cr + 1, cr + 2, b.indexOf('<15>') - 1, b.length - 3, b.length - 1]);
    const rows = await collect(h, 4);
    expect(rows.map((r) => r[0])).toEqual(['<13>first é message', '<14>second', '<15>third', '<16>fourth ü']);
    expect(rows.every((r) => r[1] === `127.0.0.1:${s.localPort}`)).toBe(true);
    // UTF-8 split across writes is whole again in its frame: nothing invalid.
    expect(h.context.counted('invalid_utf8')).toBe(0);
    h.spout.next(0);
    expect(h.context.counted('bytes')).toBe(b.length);
  });

  it('frames octet-counted messages split inside the length, at the space and inside the body', async () => {
    const h = await start({ protocol: 'tcp' });
    const s = await tcpClient(portOf(h));
    const msgs = ['<165>1 2003-10-11T22:14:15.003Z host app - ID47 - hello', `<13>${'b'.repeat(150)}`, '<13>short'];
    const text = msgs.map(octet).join('');
    // '55 <165>...': cut between the two length digits, right before the space, inside the body and inside the second length '154'.
    const second = Buffer.byteLength(octet(msgs[0]!));
    await writeCut(s, text, [1, 2, 3, 40, second + 1, second + 2, second + 100, text.length - 3]);
    const rows = await collect(h, 3);
    expect(rows.map((r) => r[0])).toEqual(msgs);
  });

  it('skips an over-long octet-counted frame exactly, logs it with peer and offset, and takes the next one', async () => {
    const h = await start({ protocol: 'tcp', maxMessageBytes: 100 });
    const s = await tcpClient(portOf(h));
    const first = octet('<13>before');
    const big = octet(`<13>${'x'.repeat(5000)}`);
    // The big frame arrives in pieces, and the next frame in the same write as its end.
    await write(s, first + big.slice(0, 2000));
    await sleep(5);
    await write(s, big.slice(2000, 4000));
    await sleep(5);
    await write(s, big.slice(4000) + octet('<13>after') + octet('<13>after2'));
    const rows = await collect(h, 3);
    expect(rows.map((r) => r[0])).toEqual(['<13>before', '<13>after', '<13>after2']);
    expect(h.context.counted('dropped', 'too_long')).toBe(1);
    expect(h.context.counted('received')).toBe(4);
    const warn = h.context.logger.records.find((r) => r.level === 'warn' && r.msg.includes('skipped a message'));
    expect(warn?.msg).toContain(`from 127.0.0.1:${s.localPort} at byte ${first.length} of the connection`);
    expect(warn?.fields).toMatchObject({ peer: `127.0.0.1:${s.localPort}`, offset: first.length, length: 5004, maxMessageBytes: 100 });
    expect(s.destroyed).toBe(false);
  });

  it('skips an over-long LF line and goes on', async () => {
    const h = await start({ protocol: 'tcp', maxMessageBytes: 64 });
    const s = await tcpClient(portOf(h));
    await write(s, `<13>ok\n<13>${'y'.repeat(500)}`);
    await sleep(5);
    await write(s, `${'y'.repeat(500)}\n<13>next\n`);
    const rows = await collect(h, 2);
    expect(rows.map((r) => r[0])).toEqual(['<13>ok', '<13>next']);
    expect(h.context.counted('dropped', 'too_long')).toBe(1);
  });

  it('counts an over-long LF line cut off by the peer closing as too long, and warns about it', async () => {
    const h = await start({ protocol: 'tcp', maxMessageBytes: 100 });
    const s = await tcpClient(portOf(h));
    const peer = `127.0.0.1:${s.localPort}`;
    await write(s, `<14>${'q'.repeat(300)}`);
    s.end();
    await eventually(h, 'the over-long frame counted', () => h.context.counted('dropped', 'too_long') === 1);
    await eventually(h, 'the disconnect counted', () => h.context.counted('disconnects', 'peer') === 1);
    expect(h.context.counted('received')).toBe(1);
    expect(h.context.counted('dropped', 'incomplete')).toBe(0);
    const warn = h.context.logger.records.find((r) => r.level === 'warn' && r.msg.includes('skipped a message'));
    expect(warn?.msg).toContain(`skipped a message of 304 bytes from ${peer} at byte 0 of the connection`);
    expect(warn?.fields).toMatchObject({ peer, offset: 0, length: 304, maxMessageBytes: 100 });
    await expectNothingMore(h);
  });

  it('reads lines without PRI that start with digits (nc) as LF-framed lines, and keeps the connection', async () => {
    const h = await start({ protocol: 'tcp' });
    const s = await tcpClient(portOf(h));
    const lines = ['2026-12-03T06:00:00Z host1 app: line 1', '2026-12-03T06:00:01Z host1 app: line 2'];
    await writeCut(s, lines.map((l) => `${l}\n`).join(''), [2]);
    await write(s, '3 more: not an octet count on an LF connection\n');
    const rows = await collect(h, 3);
    expect(rows.map((r) => r[0])).toEqual([...lines, '3 more: not an octet count on an LF connection']);
    expect(s.destroyed).toBe(false);
    expect(h.spout.connectionCount).toBe(1);
    expect(h.context.counted('received')).toBe(3);
    // Counted and said once: the rest of the connection is LF-framed.
    expect(h.context.counted('framing_errors', 'lf_fallback')).toBe(1);
    const warn = h.context.logger.records.filter((r) => r.level === 'warn' && r.msg.includes('not an octet count'));
    expect(warn).toHaveLength(1);
    expect(warn[0]!.msg).toContain(`connection from 127.0.0.1:${s.localPort}: 2026 at byte 0 is followed by '-' (0x2d), not a space`);
    expect(warn[0]!.fields).toMatchObject({ peer: `127.0.0.1:${s.localPort}`, offset: 0, at: 4, reason: 'lf_fallback', mode: 'non-transparent' });
  });

  it('reads one frame of an octet-counted connection whose digits are not followed by a space as a line, and goes on octet-counting', async () => {
    const h = await start({ protocol: 'tcp' });
    const s = await tcpClient(portOf(h));
    await write(s, `${octet('<13>first')}2026-12-03 no pri\n${octet('<13>second')}`);
    const rows = await collect(h, 3);
    expect(rows.map((r) => r[0])).toEqual(['<13>first', '2026-12-03 no pri', '<13>second']);
    expect(s.destroyed).toBe(false);
    expect(h.context.counted('framing_errors', 'lf_fallback')).toBe(1);
  });

  it('keeps a connection whose octet count is garbage: that frame is a line, counted and logged with the sender and offset', async () => {
    const h = await start({ protocol: 'tcp' });
    const good = await tcpClient(portOf(h));
    const bad = await tcpClient(portOf(h));
    const badPort = bad.localPort;
    await write(good, octet('<13>good 1'));
    await write(bad, `${octet('<13>bad 1')}xyz <13>garbage\n${octet('<13>bad 2')}`);
    await write(good, octet('<13>good 2'));
    const rows = await collect(h, 5);
    expect(rows.map((r) => r[0]).sort()).toEqual(['<13>bad 1', '<13>bad 2', '<13>good 1', '<13>good 2', 'xyz <13>garbage']);
    await expectNothingMore(h);
    expect(good.destroyed).toBe(false);
    expect(bad.destroyed).toBe(false);
    expect(h.spout.connectionCount).toBe(2);
    h.spout.next(0);
    expect(h.context.counted('framing_errors', 'lf_fallback')).toBe(1);
    expect(h.context.counted('disconnects')).toBe(0);
    const warn = h.context.logger.records.find((r) => r.msg.includes('the frame is read as a line'));
    expect(warn?.msg).toContain(`from 127.0.0.1:${badPort}`);
    expect(warn?.msg).toContain("'x' (0x78) at byte 11 where an octet count should start: no octet count"); // '7 <13>bad 1' is bytes 0..10
    expect(warn?.fields).toMatchObject({ peer: `127.0.0.1:${badPort}`, offset: 11, reason: 'lf_fallback', mode: 'octet-counting' });
  });

  it('takes 50 connections x 100 messages at once, mixed framings, all arriving in per-connection order', async () => {
    const h = await start({ protocol: 'tcp' });
    const port = portOf(h);
    const conns = 50;
    const per = 100;
    const sockets = await Promise.all(Array.from({ length: conns }, () => tcpClient(port)));
    await Promise.all(
      sockets.map(async (s, c) => {
        const msgs = Array.from({ length: per }, (_, i) => `<134>conn ${c} seq ${i}`);
        // Half of the clients use octet-counting, half LF; each sends in three writes.
        const text = c % 2 === 0 ? msgs.map(octet).join('') : msgs.map((m) => `${m}\n`).join('');
        const third = Math.floor(text.length / 3);
        await write(s, text.slice(0, third));
        await write(s, text.slice(third, 2 * third));
        await write(s, text.slice(2 * third));
        s.end();
      }),
    );
    const rows = await collect(h, conns * per, 10_000);
    const byPeer = new Map<string, number[]>();
    for (const [line, peer] of rows as [string, string][]) {
      const m = /^<134>conn (\d+) seq (\d+)$/.exec(line);
      expect(m, line).not.toBeNull();
      const seqs = byPeer.get(peer) ?? [];
      seqs.push(Number(m![2]));
      byPeer.set(peer, seqs);
    }
    expect(byPeer.size).toBe(conns);
    for (const seqs of byPeer.values()) expect(seqs).toEqual(Array.from({ length: per }, (_, i) => i));
    await Promise.all(sockets.map(closed));
    await eventually(h, 'every connection closed', () => h.context.counted('disconnects', 'peer') === conns);
    expect(h.context.counted('received')).toBe(conns * per);
    expect(h.context.counted('connections')).toBe(conns);
  });

  it('closes a connection quiet for idleTimeout, and not one that keeps talking', async () => {
    const h = await start({ protocol: 'tcp', idleTimeout: '400ms' });
    const quiet = await tcpClient(portOf(h));
    const talker = await tcpClient(portOf(h));
    const t0 = Date.now();
    await write(quiet, '<13>hello then silence\n');
    const quietClosed = closed(quiet).then(() => Date.now() - t0);
    for (let i = 0; i < 12; i++) {
      await write(talker, `<13>tick ${i}\n`);
      await sleep(40);
    }
    const after = await quietClosed;
    expect(after).toBeGreaterThanOrEqual(350);
    expect(talker.destroyed).toBe(false);
    await collect(h, 13);
    await eventually(h, 'the idle disconnect counted', () => h.context.counted('disconnects', 'idle') === 1);
  });

  it('pauses reading when its buffer is full (TCP backpressure) and loses nothing', async () => {
    const h = await start({ protocol: 'tcp', maxBuffered: 100 });
    const s = await tcpClient(portOf(h));
    const total = 20_000;
    const text = Array.from({ length: total }, (_, i) => `<13>backpressure ${i}\n`).join('');
    s.write(text);
    await eventually(h, 'the buffer to fill', () => h.spout.bufferedMessages >= 100);
    await sleep(100);
    // Only what was already read when the buffer filled is held: at most one read (64 KiB) beyond the bound.
    expect(h.spout.bufferedMessages).toBeGreaterThanOrEqual(100);
    expect(h.spout.bufferedMessages).toBeLessThan(100 + 65536 / 20);
    const rows = await collect(h, total, 10_000);
    expect(rows[total - 1]![0]).toBe(`<13>backpressure ${total - 1}`);
    expect(new Set(rows.map((r) => r[0])).size).toBe(total);
    expect(h.context.counted('dropped')).toBe(0);
  });

  it('emits a last line without LF when the peer closes, as rsyslog does', async () => {
    const h = await start({ protocol: 'tcp' });
    const s = await tcpClient(portOf(h));
    await write(s, '<13>first\n<13>last, no LF');
    s.end();
    const rows = await collect(h, 2);
    expect(rows.map((r) => r[0])).toEqual(['<13>first', '<13>last, no LF']);
    expect(h.context.counted('dropped')).toBe(0);
  });

  it('counts a frame cut short by the peer closing as dropped (incomplete)', async () => {
    const h = await start({ protocol: 'tcp' });
    const s = await tcpClient(portOf(h));
    await write(s, `${octet('<13>whole')}40 <13>partial`);
    s.end();
    await collect(h, 1);
    await eventually(h, 'the incomplete frame counted', () => h.context.counted('dropped', 'incomplete') === 1);
    expect(h.context.logger.records.some((r) => r.msg.includes('ended inside a frame'))).toBe(true);
  });

  it('limits warnings per kind: a flood of one kind does not hide another, and what was not logged is said', async () => {
    const h = await start({ protocol: 'tcp' });
    const s = await tcpClient(portOf(h));
    const bad = Buffer.from([0x3c, 0x31, 0x33, 0x3e, 0x61, 0xff, 0x0a]); // "<13>a\xff\n"
    await write(s, Buffer.concat(Array.from({ length: 25 }, () => bad)));
    await collect(h, 25);
    const cut = await tcpClient(portOf(h));
    await write(cut, `${octet('<13>whole')}40 <13>partial`);
    cut.end();
    await eventually(h, 'the incomplete frame counted', () => h.context.counted('dropped', 'incomplete') === 1);
    const warns = () => h.context.logger.records.filter((r) => r.level === 'warn').map((r) => r.msg);
    expect(warns().filter((m) => m.includes('not valid UTF-8'))).toHaveLength(20);
    expect(warns().filter((m) => m.includes('ended inside a frame'))).toHaveLength(1);
    await h.spout.close();
    expect(warns()).toContain('syslog spout: 5 more warnings (invalid_utf8) were not logged in the last minute');
  });

  it('refuses connections beyond maxConnections and counts them', async () => {
    const h = await start({ protocol: 'tcp', maxConnections: 2 });
    const a = await tcpClient(portOf(h));
    const b = await tcpClient(portOf(h));
    await write(a, '<13>a\n');
    await write(b, '<13>b\n');
    await collect(h, 2);
    const c = await tcpClient(portOf(h));
    await closed(c);
    await eventually(h, 'the refused connection counted', () => h.context.counted('disconnects', 'too_many') === 1);
    expect(h.spout.connectionCount).toBe(2);
  });

  it('fails to open on a port in use, naming it', async () => {
    const first = await start({ protocol: 'tcp' });
    const port = portOf(first);
    await expect(start({ protocol: 'tcp', port })).rejects.toThrow(`syslog spout: cannot listen on tcp 127.0.0.1:${port}: address already in use (EADDRINUSE)`);
  });

  it('closes its connections when closed', async () => {
    const h = await start({ protocol: 'tcp' });
    const s = await tcpClient(portOf(h));
    await write(s, '<13>x\n');
    await collect(h, 1);
    await h.spout.close();
    await closed(s);
    expect(h.context.counted('disconnects', 'shutdown')).toBe(1);
    await expect(tcpClient(portOf(h))).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('syslog spout: empty octet-counted frames', () => {
  it('are received and dropped as empty, as empty datagrams are', async () => {
    const h = await start({ protocol: 'tcp' });
    const s = await tcpClient(portOf(h));
    await write(s, '6 <13>ok1 \n2 \r\n6 <13>ok');
    await collect(h, 2);
    await eventually(h, 'the empty frames counted', () => h.context.counted('dropped', 'empty') === 2);
    expect(h.context.counted('received')).toBe(4);
  });
});

describe('syslog spout: a graceful stop', () => {
  it('deactivate emits what was read, reads what is there until quiet, then stops reading: TCP senders keep the rest, datagrams and leftovers are counted as shutdown drops', async () => {
    const tcp = await start({ protocol: 'tcp' });
    const s = await tcpClient(portOf(tcp));
    await write(s, '<13>one\n<13>two\n');
    await eventually(tcp, 'two messages buffered', () => tcp.spout.bufferedMessages === 2);
    expect(tcp.collector.emits).toHaveLength(0);
    const drained = tcp.spout.deactivate();
    // Read before the drain: emitted now, to go through the topology during it.
    expect(tcp.collector.emits.map((e) => e.values[0])).toEqual(['<13>one', '<13>two']);
    await drained;
    await write(s, '<13>three\n');
    await sleep(100);
    // Not read: it stays with the sender (in the socket), not in a buffer the close would lose.
    expect(tcp.spout.bufferedMessages).toBe(0);
    expect(tcp.context.counted('received')).toBe(2);

    const udp = await start({ protocol: 'udp' });
    const c = udpClient();
    await sendUdp(c, portOf(udp), '<13>before');
    await eventually(udp, 'a datagram buffered', () => udp.spout.bufferedMessages === 1);
    udp.spout.deactivate!();
    await sendUdp(c, portOf(udp), '<13>after');
    await eventually(udp, 'the late datagram counted', () => udp.context.counted('dropped', 'shutdown') === 1);
    expect(udp.collector.emits.map((e) => e.values[0])).toEqual(['<13>before']);
    expect(udp.context.counted('received')).toBe(2);
  });

  it('reads and emits what a connection paused by backpressure still holds (Node and kernel buffers), then stops', async () => {
    const h = await start({ protocol: 'tcp', maxBuffered: 100 });
    const s = await tcpClient(portOf(h));
    const total = 20_000;
    s.write(Array.from({ length: total }, (_, i) => `<13>held ${i}\n`).join(''));
    await eventually(h, 'the buffer to fill', () => h.spout.bufferedMessages >= 100);
    await sleep(50);
    expect(h.spout.bufferedMessages).toBeLessThan(total); // paused: the rest is in the socket buffers
    await h.spout.deactivate();
    const lines = h.collector.emits.map((e) => e.values[0]);
    expect(lines).toHaveLength(total);
    expect(lines[total - 1]).toBe(`<13>held ${total - 1}`);
    expect(new Set(lines).size).toBe(total);
    h.spout.next(0);
    expect(h.context.counted('received')).toBe(total);
    expect(h.context.counted('dropped')).toBe(0);
    // Paused again: what comes now stays with the sender.
    await write(s, '<13>after the drain\n');
    await sleep(100);
    expect(h.collector.emits).toHaveLength(total);
  });

  it('a line cut by the stop is emitted as it is, and a cut octet-counted frame is counted (incomplete), both said with the sender', async () => {
    const lf = await start({ protocol: 'tcp' });
    const a = await tcpClient(portOf(lf));
    await write(a, '<13>whole\n<13>partial, no LF yet');
    await eventually(lf, 'the whole line buffered', () => lf.spout.bufferedMessages === 1);
    await lf.spout.deactivate();
    expect(lf.collector.emits.map((e) => e.values[0])).toEqual(['<13>whole', '<13>partial, no LF yet']);
    expect(lf.collector.emits[1]!.values[1]).toBe(`127.0.0.1:${a.localPort}`);
    expect(
      lf.context.logger.records.some((r) => r.level === 'warn' && r.msg.includes(`the stop cut the connection from 127.0.0.1:${a.localPort} inside a line`)),
    ).toBe(true);

    const oc = await start({ protocol: 'tcp' });
    const b = await tcpClient(portOf(oc));
    await write(b, `${octet('<13>whole')}40 <13>partial`);
    await eventually(oc, 'the whole frame buffered', () => oc.spout.bufferedMessages === 1);
    await oc.spout.deactivate();
    oc.spout.next(0);
    expect(oc.collector.emits.map((e) => e.values[0])).toEqual(['<13>whole']);
    expect(oc.context.counted('dropped', 'incomplete')).toBe(1);
    expect(oc.context.counted('received')).toBe(2);
    expect(
      oc.context.logger.records.some((r) =>
        r.msg.includes(`the stop left the connection from 127.0.0.1:${b.localPort} inside an octet-counted frame at byte 25; its 11 bytes are lost`),
      ),
    ).toBe(true);
  });

  it('a close with no drain counts what connections still hold, a cut line included, as shutdown drops, naming the senders', async () => {
    const h = await start({ protocol: 'tcp', maxBuffered: 100 });
    const s = await tcpClient(portOf(h));
    const total = 20_000;
    s.write(`${Array.from({ length: total }, (_, i) => `<13>held ${i}\n`).join('')}<13>cut`);
    await eventually(h, 'the buffer to fill', () => h.spout.bufferedMessages >= 100);
    await h.spout.close();
    expect(h.collector.emits).toHaveLength(0);
    expect(h.context.counted('received')).toBe(total + 1);
    expect(h.context.counted('dropped', 'shutdown')).toBe(total + 1);
    expect(h.context.logger.records.map((r) => r.msg)).toContain(
      `syslog spout: closing with ${total + 1} messages read and not emitted (127.0.0.1:${s.localPort}: ${total + 1}); counted as dropped, reason shutdown`,
    );
  });

  it('what is still buffered when the spout closes is counted as dropped, reason shutdown', async () => {
    const h = await start({ protocol: 'udp' });
    const c = udpClient();
    for (const m of ['<13>a', '<13>b', '<13>c']) await sendUdp(c, portOf(h), m);
    await eventually(h, 'three datagrams buffered', () => h.spout.bufferedMessages === 3);
    await h.spout.close();
    expect(h.context.counted('dropped', 'shutdown')).toBe(3);
    expect(h.context.counted('received')).toBe(3);
  });
});

describe('syslog spout: TLS (RFC 5425)', () => {
  let dir: string;
  let cert: string;
  let key: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qitian-syslog-tls-'));
    cert = join(dir, 'cert.pem');
    key = join(dir, 'key.pem');
    // A self-signed certificate for 127.0.0.1, made with the machine's openssl (node:crypto cannot make X.509 certificates).
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=qitian-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function tlsClient(port: number, opts: import('node:tls').ConnectionOptions = {}): Promise<import('node:tls').TLSSocket> {
    const tls = await import('node:tls');
    const { readFileSync } = await import('node:fs');
    const s = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(cert), ...opts });
    clients.push(s);
    s.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      s.once('secureConnect', resolve);
      s.once('error', reject);
      s.once('close', () => reject(new Error('closed before the handshake ended')));
    });
    return s;
  }

  it('receives octet-counted frames over TLS with a self-signed certificate', async () => {
    const h = await start({ protocol: 'tls', tlsCert: cert, tlsKey: key });
    const s = await tlsClient(portOf(h));
    const msgs = ['<134>1 2024-05-01T10:00:00Z fw1 kernel - - - packet dropped', '<11>over tls é', `<14>${'t'.repeat(3000)}`];
    const text = msgs.map(octet).join('');
    await writeCut(s, text, [1, 50, 70, 200, 2000]);
    const rows = await collect(h, 3);
    expect(rows.map((r) => r[0])).toEqual(msgs);
    expect(rows[0]![1]).toBe(`127.0.0.1:${s.localPort}`);
    h.spout.next(0);
    expect(h.context.counted('bytes')).toBe(Buffer.byteLength(text));
  });

  it('emits a last line without LF when a TLS client closes, and one cut by a drain', async () => {
    const h = await start({ protocol: 'tls', tlsCert: cert, tlsKey: key });
    const s = await tlsClient(portOf(h));
    await write(s, '<13>first\n<13>last, no LF');
    s.end();
    expect((await collect(h, 2)).map((r) => r[0])).toEqual(['<13>first', '<13>last, no LF']);
    const t = await tlsClient(portOf(h));
    await write(t, '<13>before the stop\n<13>cut by it');
    await eventually(h, 'the first line buffered', () => h.spout.bufferedMessages === 1);
    await h.spout.deactivate();
    expect(h.collector.emits.slice(2).map((e) => e.values[0])).toEqual(['<13>before the stop', '<13>cut by it']);
  });

  it('with tlsCa, accepts a client with a certificate and refuses one without (counted)', async () => {
    const { readFileSync } = await import('node:fs');
    const h = await start({ protocol: 'tls', tlsCert: cert, tlsKey: key, tlsCa: cert });
    const withCert = await tlsClient(portOf(h), { cert: readFileSync(cert), key: readFileSync(key) });
    await write(withCert, octet('<13>mutual'));
    expect((await collect(h, 1))[0]![0]).toBe('<13>mutual');
    // TLS 1.3: the client finishes its side before the server checks its certificate; the server then closes.
    const without = await tlsClient(portOf(h)).catch(() => undefined);
    if (without) await closed(without);
    await eventually(h, 'the refused handshake counted', () => h.context.counted('disconnects', 'tls_handshake') === 1);
    await expectNothingMore(h);
  });

  it('names a plain-text sender on the TLS port by its address, and a close does not wait for a client that never sent a hello', async () => {
    const net = await import('node:net');
    const h = await start({ protocol: 'tls', tlsCert: cert, tlsKey: key });
    const plain = net.connect(portOf(h), '127.0.0.1');
    plain.on('error', () => undefined);
    await new Promise((r) => plain.once('connect', r));
    const port = plain.localPort;
    plain.write('<13>Dec  3 10:00:00 h1 app: plain text\n');
    await eventually(h, 'the failed handshake counted', () => h.context.counted('disconnects', 'tls_handshake') === 1);
    const warning = h.context.logger.records.find((r) => r.msg.includes('TLS handshake'))!;
    expect(warning.msg).toBe(`syslog spout: TLS handshake with 127.0.0.1:${port} failed: the client does not speak TLS (plain syslog sent to the TLS port?)`);
    const silent = net.connect(portOf(h), '127.0.0.1');
    silent.on('error', () => undefined);
    await new Promise((r) => silent.once('connect', r));
    const t0 = performance.now();
    await h.spout.close();
    // It waited for the handshake (up to 10 s), or for ever at Node's default of 2 minutes.
    expect(performance.now() - t0).toBeLessThan(1000);
    silent.destroy();
    plain.destroy();
  });

  it('fails to open when tlsCa holds no certificate (Node takes it, then refuses every client)', async () => {
    const { readFileSync, writeFileSync } = await import('node:fs');
    // A certificate block with garbage inside is no certificate either.
    const garbled = join(dir, 'garbled.pem');
    writeFileSync(garbled, readFileSync(cert, 'utf8').replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!!!!!!!!!!!!!!!!!'));
    await expect(start({ protocol: 'tls', tlsCert: cert, tlsKey: key, tlsCa: garbled })).rejects.toThrow('holds no certificate that can be read');
    await expect(start({ protocol: 'tls', tlsCert: cert, tlsKey: key, tlsCa: key })).rejects.toThrow(
      `syslog spout: tlsCa "${key}" holds no certificate that can be read (PEM, -----BEGIN CERTIFICATE-----): every client would be refused`,
    );
  });

  it('fails to open with an error naming an unreadable certificate file', async () => {
    await expect(start({ protocol: 'tls', tlsCert: join(dir, 'missing.pem'), tlsKey: key })).rejects.toThrow(
      `syslog spout: cannot read tlsCert "${join(dir, 'missing.pem')}": no such file or directory (ENOENT)`,
    );
  });
});
