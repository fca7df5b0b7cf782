import { X509Certificate } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { Spout, SpoutCollector, SpoutContext, SpoutStatus } from '@qitian/api';
import { describeSystemError } from '../../errors.js';
import { SyslogListenError } from './errors.js';
import { FrameDecoder, type FrameSink, type FramingFallback } from './framing.js';
import { UdpKernelDrops } from './kernel-drops.js';
import { DEFAULT_PORTS, type SyslogSpoutConfig } from './spec.js';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
/** Counters not counted by `next` (when the topology is stalled) are counted at least this often. */
const FLUSH_MS = 1000;
const KEEPALIVE_MS = 60_000;
/** A stop reads its connections until none has sent anything for this long (what their buffers held is in by then). */
const QUIET_MS = 50;
/** A drain reads its connections for this long at most: a sender that never pauses keeps the rest. */
const DRAIN_READ_MS = 2000;
/** Close reads what its connections still hold, to count it, for this long at most. */
const CLOSE_READ_MS = 250;
/** Whether a PEM file holds a certificate that parses (a CA file of garbage, or a key, refuses every client). */
function holdsCertificate(pem: Buffer): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

/** How long a TLS client may take to finish its handshake (Node's default is 2 minutes). */
const HANDSHAKE_MS = 10_000;

/**
 * A TLS handshake failure in words: OpenSSL's own text is `<code>:error:<lib>:<routine>:<reason>:<file>:<line>:`
 * with a newline; its reason is what helps, and a plain-text sender on the TLS port is the usual case.
 */
export function tlsFailure(err: Error): string {
  const m = err.message.trim();
  if (/wrong version number|http request|unknown protocol/i.test(m)) return 'the client does not speak TLS (plain syslog sent to the TLS port?)';
  // Also what a client that refused our certificate, or was refused for its own, leaves behind.
  if (/socket hang up/i.test(m)) return 'the client closed the connection during the handshake (it may not trust this certificate, or was refused its own)';
  const openssl = /^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/.exec(m);
  return (openssl ? openssl[1]! : m).replace(/\s+/g, ' ');
}
const INITIAL_RING = 1024;
/** Warnings about bad input from peers: at most this many a minute, then a summary. */
const WARNINGS_PER_MINUTE = 20;

/** Where the spout listens, once open; `port` is the bound port (useful with port 0). */
export interface SyslogAddress {
  readonly protocol: 'udp' | 'tcp' | 'tls';
  readonly host: string;
  readonly port: number;
}

/** `ip:port`, `[ipv6]:port`; IPv4-mapped IPv6 addresses (from a `::` listener) are shown as IPv4. */
export function formatPeer(address: string | undefined, port: number | undefined): string {
  if (!address) return 'unknown';
  if (address.startsWith('::ffff:') && net.isIPv4(address.slice(7))) address = address.slice(7);
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** One TCP or TLS connection: its framing state and where its frames go. */
class Connection implements FrameSink {
  readonly decoder: FrameDecoder;
  /** Receive time of the chunk being decoded. */
  now = 0;
  paused = false;
  /** Why it was closed, when this side closed it. */
  closeReason: string | undefined;

  constructor(
    private readonly spout: SyslogSpout,
    readonly socket: net.Socket,
    readonly peer: string,
    maxBytes: number,
  ) {
    this.decoder = new FrameDecoder(maxBytes, this);
  }

  frame(buf: Buffer, start: number, end: number): void {
    this.spout.accept(this.spout.text(buf, start, end, this.peer), this.peer, this.now);
  }

  tooLong(offset: number, length: number): void {
    this.spout.frameTooLong(this, offset, length);
  }

  empty(): void {
    this.spout.emptyFrame();
  }

  fallback(fallback: FramingFallback): void {
    this.spout.framingFallback(this, fallback);
  }
}

/**
 * Listens on one UDP port or one TCP/TLS port and emits each syslog message raw. I/O callbacks
 * fill a ring buffer (parallel arrays); `next` emits from it and never waits.
 */
export class SyslogSpout implements Spout<SyslogSpoutConfig> {
  private ctx!: SpoutContext<SyslogSpoutConfig>;
  private collector!: SpoutCollector;
  private readonly maxBuffered: number;
  private readonly maxBytes: number;
  private readonly idleMs: number;

  // Ring buffer of messages waiting to be emitted.
  private lines: string[] = new Array<string>(INITIAL_RING).fill('');
  private peers: string[] = new Array<string>(INITIAL_RING).fill('');
  private times: number[] = new Array<number>(INITIAL_RING).fill(0);
  private mask = INITIAL_RING - 1;
  private head = 0;
  private size = 0;
  /** `next` returned 'idle' and the executor waits for wake(). */
  private waiting = false;
  private closed = false;
  /** Deactivated (a drain): connections are paused and new datagrams are not taken. */
  private stopped = false;
  /** A stop's last read of its connections (see `readUntilQuiet`), while it lasts. */
  private lastRead: { started: number; last: number; max: number; timer: ReturnType<typeof setTimeout> | undefined; done: () => void } | undefined;
  /** The drain's read (see `deactivate`), until it is over. */
  private draining: Promise<void> | undefined;
  /** At close: messages read and never emitted, per sender, for the warning that counts them. */
  private readonly unemitted = new Map<string, number>();

  // Listeners.
  private udp: dgram.Socket | undefined;
  private server: net.Server | undefined;
  private readonly conns = new Set<Connection>();
  /** TLS: raw connections from accept until they close (in the handshake, they are in no Connection yet). */
  private readonly raw = new Set<net.Socket>();
  /** TLS: each raw connection's peer, taken at accept: one the client reset has none by the time its handshake failed. */
  private readonly rawPeer = new WeakMap<net.Socket, string>();
  private paused: Connection[] = [];
  private bound: SyslogAddress | undefined;
  private flushTimer: ReturnType<typeof setInterval> | undefined;
  private kernelDrops: UdpKernelDrops | undefined;
  private kernelPoll: Promise<void> | undefined;

  // Counts not yet reported (reported per batch, never per message).
  private nReceived = 0;
  private nBytes = 0;
  private nTruncated = 0;
  private nQueueFull = 0;
  private nTooLong = 0;
  private nEmpty = 0;
  private nIncomplete = 0;
  /** Messages the stop left unemitted: datagrams after deactivate, what the buffer held at close. */
  private nShutdown = 0;
  private nLfFallback = 0;
  private nKernel = 0;
  private nConnections = 0;
  private readonly disconnects = new Map<string, number>();

  // The last UDP sender, so that a run of datagrams from one device builds its peer string once.
  private lastAddr = '';
  private lastPort = -1;
  private lastPeer = '';

  // Rate limit of warnings about peers' input.
  /** Per kind of warning: its minute, how many were logged in it and how many were not. */
  private readonly warnings = new Map<string, { window: number; logged: number; suppressed: number }>();

  constructor(private readonly config: SyslogSpoutConfig) {
    this.maxBuffered = config.maxBuffered;
    this.maxBytes = config.maxMessageBytes;
    this.idleMs = config.idleTimeout;
  }

  /** Where the spout listens, once open. */
  get address(): SyslogAddress | undefined {
    return this.bound;
  }

  /** Messages received and not yet emitted. */
  get bufferedMessages(): number {
    return this.size;
  }

  /** TCP/TLS connections open now. */
  get connectionCount(): number {
    return this.conns.size;
  }

  async open(context: SpoutContext<SyslogSpoutConfig>, collector: SpoutCollector): Promise<void> {
    this.ctx = context;
    this.collector = collector;
    const { protocol, host } = this.config;
    const port = this.config.port ?? DEFAULT_PORTS[protocol];
    const tls = tlsConfigProblem(this.config);
    if (tls) throw new SyslogListenError(protocol, host, port, 'config', `syslog spout: ${tls.message}`);
    if (protocol === 'udp') await this.listenUdp(host, port);
    else await this.listenStream(protocol, host, port);
    this.flushTimer = setInterval(() => {
      this.flushCounts();
      if (this.warnings.size > 0) this.flushWarnings(Date.now());
      if (this.kernelDrops !== undefined && this.kernelPoll === undefined) this.kernelPoll = this.pollKernelDrops();
    }, FLUSH_MS);
    this.flushTimer.unref?.();
    context.logger.info(`syslog spout: listening on ${protocol} ${hostPort(host, this.bound!.port)}`, { ...this.bound });
  }

  next(max: number): SpoutStatus {
    this.emitBuffered(max);
    this.flushCounts();
    if (this.paused.length > 0 && this.size <= this.maxBuffered >>> 1 && !this.stopped) this.resumeAll();
    if (this.size > 0) return 'more';
    this.waiting = true;
    return 'idle';
  }

  /**
   * A drain begins: what was read is emitted now, to go through the topology during the drain
   * (it was received, and a TCP sender counts it delivered). What TCP/TLS senders already sent,
   * in Node's and the kernel's buffers of connections paused by backpressure too, is lost if the
   * connections close unread: they are read until quiet (at most DRAIN_READ_MS) and what comes is
   * emitted at once (`next` is not called any more), then they are paused, so that what a sender
   * sends from then on stays in its queue; a line cut by the stop is emitted as it is. Datagrams
   * are counted as dropped{reason=shutdown}. Settles when that read is over: an executor that
   * waits for it lets the topology process what it emitted.
   */
  deactivate(): Promise<void> {
    if (this.stopped) return this.draining ?? Promise.resolve();
    this.stopped = true;
    this.emitBuffered(this.size);
    this.flushCounts();
    const drain = this.readUntilQuiet(DRAIN_READ_MS).then(() => this.drained());
    this.draining = drain;
    return drain;
  }

  /** The drain's read is over: lines cut by the stop are messages too; the connections stay paused. */
  private drained(): void {
    this.draining = undefined;
    if (this.closed || !this.stopped) return;
    try {
      for (const c of this.conns) this.cutAtStop(c);
      this.emitBuffered(this.size);
    } catch (err) {
      this.collector.reportError(err);
    }
    this.flushCounts();
  }

  activate(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.endRead();
    const held = new Set(this.paused);
    for (const c of this.conns) {
      if (held.has(c) || c.socket.destroyed) continue;
      if (this.idleMs > 0) c.socket.setTimeout(this.idleMs);
      c.socket.resume();
    }
    if (this.size <= this.maxBuffered >>> 1) this.resumeAll();
  }

  /**
   * Reads every connection, paused ones too, until none has sent anything for QUIET_MS or `maxMs`
   * has passed; then pauses them again. What `onData` does with what comes depends on the stop.
   */
  private readUntilQuiet(maxMs: number): Promise<void> {
    let open = 0;
    for (const c of this.conns) {
      if (c.socket.destroyed) continue;
      c.paused = false;
      if (this.idleMs > 0) c.socket.setTimeout(0);
      c.socket.resume();
      open++;
    }
    this.paused = [];
    if (open === 0) return Promise.resolve();
    const now = performance.now();
    return new Promise<void>((done) => {
      this.lastRead = { started: now, last: now, max: maxMs, timer: setTimeout(this.checkQuiet, QUIET_MS), done };
    });
  }

  /** The quiet timer: judged after the next poll phase, so that reads a stalled loop has not yet run count. */
  private readonly checkQuiet = (): void => {
    setImmediate(this.settleQuiet);
  };

  private readonly settleQuiet = (): void => {
    const r = this.lastRead;
    if (r === undefined) return;
    const wait = Math.min(r.last + QUIET_MS, r.started + r.max) - performance.now();
    if (wait > 0 && this.conns.size > 0) r.timer = setTimeout(this.checkQuiet, wait);
    else this.endRead();
  };

  /** Ends a stop's read (if one is going on): its connections are paused again. */
  private endRead(): void {
    const r = this.lastRead;
    if (r === undefined) return;
    this.lastRead = undefined;
    clearTimeout(r.timer);
    for (const c of this.conns) this.hold(c);
    r.done();
  }

  /**
   * A stop leaves `conn` as it is: a line it was inside of is a message (in a drain, emitted; at
   * close, dropped{reason=shutdown} with the rest), as rsyslog's imtcp takes an unterminated last
   * line; the bytes of an octet-counted frame are lost (dropped{reason=incomplete}). Both are said
   * with the sender.
   */
  private cutAtStop(conn: Connection): void {
    if (!conn.decoder.midFrame) return;
    const before = this.size;
    const offset = conn.decoder.offset;
    const lost = conn.decoder.finish();
    if (lost > 0) this.incomplete(conn, lost, `the stop left the connection from ${conn.peer} inside an octet-counted frame at byte ${offset}`);
    else if (this.size > before) {
      const fate = this.closed ? 'dropped (counted as dropped, reason shutdown)' : 'emitted as a message';
      this.warnLimited(
        'incomplete',
        `syslog spout: the stop cut the connection from ${conn.peer} inside a line at byte ${offset}: what it had of it is ${fate}`,
        {
          peer: conn.peer,
          offset,
        },
      );
    }
  }

  /** Stops reading a connection (a paused one is quiet because of us: no idle timeout). */
  private hold(conn: Connection): void {
    if (conn.socket.destroyed) return;
    conn.socket.pause();
    if (this.idleMs > 0) conn.socket.setTimeout(0);
  }

  private emitBuffered(max: number): void {
    const n = Math.min(max, this.size);
    if (n > 0) {
      const collector = this.collector;
      const lines = this.lines;
      const peers = this.peers;
      const times = this.times;
      const mask = this.mask;
      let h = this.head;
      for (let k = 0; k < n; k++) {
        collector.emit([lines[h]!, peers[h]!, times[h]!]);
        lines[h] = '';
        h = (h + 1) & mask;
      }
      this.head = h;
      this.size -= n;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer !== undefined) clearInterval(this.flushTimer);
    this.flushTimer = undefined;
    await this.countKernelDrops(); // the last drops before the socket goes
    this.kernelDrops = undefined;
    // A drain's read still going ends: the topology is closing, nothing emitted now would be processed.
    this.endRead();
    if (this.server !== undefined && this.conns.size > 0) {
      // What the connections hold (in Node's and the kernel's buffers) dies with them: read, to be counted.
      await this.readUntilQuiet(CLOSE_READ_MS);
      for (const c of this.conns) this.cutAtStop(c);
    }
    // Read but never emitted (read after the drain, or no drain at all): counted.
    this.dropUnemitted();
    if (this.unemitted.size > 0) {
      let total = 0;
      for (const n of this.unemitted.values()) total += n;
      const from = [...this.unemitted].slice(0, 5).map(([peer, n]) => `${peer}: ${n}`);
      if (this.unemitted.size > 5) from.push(`${this.unemitted.size - 5} more senders`);
      this.ctx.logger.warn(`syslog spout: closing with ${total} messages read and not emitted (${from.join(', ')}); counted as dropped, reason shutdown`, {
        dropped: total,
        senders: this.unemitted.size,
      });
    }
    this.flushWarnings(Date.now(), true);
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    const server = this.server;
    this.server = undefined;
    if (server) {
      const waits = [new Promise<void>((resolve) => server.close(() => resolve()))];
      for (const c of this.conns) {
        c.closeReason ??= 'shutdown';
        // onClose counts it: wait for it, so that the last count below includes it.
        if (!c.socket.closed) waits.push(new Promise<void>((resolve) => c.socket.once('close', () => resolve())));
        c.socket.destroy();
      }
      // TLS connections still in the handshake hold server.close() too (a client that never sent a hello).
      for (const raw of this.raw) raw.destroy();
      this.raw.clear();
      await Promise.all(waits);
    }
    this.flushCounts();
  }

  /** Counts the buffered messages as dropped{reason=shutdown}, per sender for the warning at close, and empties the buffer. */
  private dropUnemitted(): void {
    const n = this.size;
    if (n === 0) return;
    const peers = this.peers;
    const lines = this.lines;
    const mask = this.mask;
    let h = this.head;
    for (let k = 0; k < n; k++) {
      this.unemitted.set(peers[h]!, (this.unemitted.get(peers[h]!) ?? 0) + 1);
      lines[h] = '';
      h = (h + 1) & mask;
    }
    this.head = h;
    this.size = 0;
    this.nShutdown += n;
  }

  // --- called by connections -------------------------------------------------------------------

  /** @internal A framed TCP/TLS message. */
  /**
   * @internal A message's bytes as text. Bytes that are not UTF-8 become U+FFFD: counted
   * (invalid_utf8) and said, with the sender, within the warning rate limit.
   */
  text(buf: Buffer, start: number, end: number, peer: string): string {
    if (!isUtf8(buf.subarray(start, end))) {
      this.ctx.count('invalid_utf8', 1);
      this.warnLimited('invalid_utf8', `syslog spout: a message from ${peer} is not valid UTF-8; its bad bytes become U+FFFD (counted as invalid_utf8)`, {
        peer,
      });
    }
    return buf.toString('utf8', start, end);
  }

  accept(line: string, peer: string, receivedAt: number): void {
    this.nReceived++;
    this.push(line, peer, receivedAt);
  }

  /** @internal An octet-counted frame with nothing in it: counted as an empty datagram is. */
  emptyFrame(): void {
    this.nReceived++;
    this.nEmpty++;
  }

  /** @internal A frame longer than maxMessageBytes was skipped. */
  frameTooLong(conn: Connection, offset: number, length: number): void {
    this.nReceived++;
    this.nTooLong++;
    this.warnLimited(
      'too_long',
      `syslog spout: skipped a message of ${length} bytes from ${conn.peer} at byte ${offset} of the connection (${conn.decoder.mode}): ` +
        `longer than maxMessageBytes ${this.maxBytes} (counted as dropped, reason too_long)`,
      { peer: conn.peer, offset, length, maxMessageBytes: this.maxBytes },
    );
  }

  /** @internal Digits at the start of a frame were no octet count: the frame is read as a line. */
  framingFallback(conn: Connection, f: FramingFallback): void {
    this.nLfFallback++;
    this.warnLimited('framing', `syslog spout: connection from ${conn.peer}: ${f.message} (counted as framing_errors, reason ${f.reason})`, {
      peer: conn.peer,
      offset: f.offset,
      at: f.at,
      reason: f.reason,
      mode: f.mode,
    });
  }

  // --- buffer ------------------------------------------------------------------------------------

  private push(line: string, peer: string, t: number): void {
    if (this.size === this.lines.length) this.grow();
    const i = (this.head + this.size) & this.mask;
    this.lines[i] = line;
    this.peers[i] = peer;
    this.times[i] = t;
    this.size++;
  }

  /** Doubles the ring (TCP may overshoot maxBuffered by what was already read). */
  private grow(): void {
    const cap = this.lines.length;
    const lines = new Array<string>(cap * 2).fill('');
    const peers = new Array<string>(cap * 2).fill('');
    const times = new Array<number>(cap * 2).fill(0);
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) & this.mask;
      lines[k] = this.lines[i]!;
      peers[k] = this.peers[i]!;
      times[k] = this.times[i]!;
    }
    this.lines = lines;
    this.peers = peers;
    this.times = times;
    this.head = 0;
    this.mask = cap * 2 - 1;
  }

  /** Tells the executor that `next` has something to emit, when it was told there was nothing. */
  private notify(): void {
    if (this.waiting && this.size > 0) {
      this.waiting = false;
      this.ctx.wake();
    }
  }

  // --- counters and warnings ---------------------------------------------------------------------

  private flushCounts(): void {
    const ctx = this.ctx;
    if (this.nReceived > 0) {
      ctx.count('received', this.nReceived);
      this.nReceived = 0;
    }
    if (this.nBytes > 0) {
      ctx.count('bytes', this.nBytes);
      this.nBytes = 0;
    }
    if (this.nTruncated > 0) {
      ctx.count('truncated', this.nTruncated);
      this.nTruncated = 0;
    }
    if (this.nQueueFull > 0) {
      ctx.count('dropped', this.nQueueFull, 'queue_full');
      // Said as kernel drops are: data lost with no line in the log would go unseen at 3 a.m.
      this.warnLimited(
        'queue_full',
        `syslog spout: dropped ${this.nQueueFull} UDP datagram${this.nQueueFull === 1 ? '' : 's'}: ${this.maxBuffered} messages were already ` +
          'waiting to be emitted, the topology takes them slower than they come (counted as dropped, reason queue_full); ' +
          'qitian top names the bottleneck; a larger maxBuffered absorbs bursts',
        { dropped: this.nQueueFull, maxBuffered: this.maxBuffered },
      );
      this.nQueueFull = 0;
    }
    if (this.nTooLong > 0) {
      ctx.count('dropped', this.nTooLong, 'too_long');
      this.nTooLong = 0;
    }
    if (this.nEmpty > 0) {
      ctx.count('dropped', this.nEmpty, 'empty');
      this.nEmpty = 0;
    }
    if (this.nIncomplete > 0) {
      ctx.count('dropped', this.nIncomplete, 'incomplete');
      this.nIncomplete = 0;
    }
    if (this.nShutdown > 0) {
      ctx.count('dropped', this.nShutdown, 'shutdown');
      this.nShutdown = 0;
    }
    if (this.nLfFallback > 0) {
      ctx.count('framing_errors', this.nLfFallback, 'lf_fallback');
      this.nLfFallback = 0;
    }
    if (this.nKernel > 0) {
      ctx.count('dropped', this.nKernel, 'kernel');
      this.nKernel = 0;
    }
    if (this.nConnections > 0) {
      ctx.count('connections', this.nConnections);
      this.nConnections = 0;
    }
    if (this.disconnects.size > 0) {
      for (const [reason, n] of this.disconnects) ctx.count('disconnects', n, reason);
      this.disconnects.clear();
    }
  }

  private disconnected(reason: string): void {
    this.disconnects.set(reason, (this.disconnects.get(reason) ?? 0) + 1);
  }

  /** Warnings caused by what peers send: a flood of bad input must not flood the log. */
  /**
   * Logs a warning about peers' input, at most WARNINGS_PER_MINUTE a minute per `kind`, so that a
   * flood of one kind (refused connections, say) does not hide another (frames cut short).
   */
  private warnLimited(kind: string, msg: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    let w = this.warnings.get(kind);
    if (w === undefined) this.warnings.set(kind, (w = { window: now, logged: 0, suppressed: 0 }));
    else if (now - w.window >= 60_000) this.endWarningMinute(kind, w, now);
    if (w.logged < WARNINGS_PER_MINUTE) {
      w.logged++;
      this.ctx.logger.warn(msg, fields);
    } else {
      w.suppressed++;
    }
  }

  /** Says how many warnings of each kind were not logged, once their minute is over (or at close). */
  private flushWarnings(now: number, all = false): void {
    for (const [kind, w] of this.warnings) if (all || now - w.window >= 60_000) this.endWarningMinute(kind, w, now);
  }

  private endWarningMinute(kind: string, w: { window: number; logged: number; suppressed: number }, now: number): void {
    if (w.suppressed > 0) {
      this.ctx.logger.warn(`syslog spout: ${w.suppressed} more warnings (${kind}) were not logged in the last minute`, { kind, suppressed: w.suppressed });
    }
    w.window = now;
    w.logged = 0;
    w.suppressed = 0;
  }

  // --- UDP ---------------------------------------------------------------------------------------

  private async listenUdp(host: string, port: number): Promise<void> {
    const sock = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind({ port, address: host, exclusive: true }, () => {
          sock.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      try {
        sock.close();
      } catch {
        // never bound
      }
      throw this.listenError(err, 'udp', host, port);
    }
    this.udp = sock;
    const local = sock.address();
    this.bound = { protocol: 'udp', host, port: local.port };
    const drops = new UdpKernelDrops(local.address, local.port);
    if ((await drops.delta()) !== undefined) this.kernelDrops = drops;
    const want = this.config.recvBufferBytes;
    if (want > 0) {
      try {
        sock.setRecvBufferSize(want);
      } catch (err) {
        this.ctx.logger.warn(`syslog spout: cannot set the UDP receive buffer to ${want} bytes: ${describeSystemError(err)}`, { recvBufferBytes: want });
      }
    }
    // Linux reports twice what it set (the rest is its bookkeeping, see socket(7)): what was set is half.
    const reported = sock.getRecvBufferSize();
    const granted = process.platform === 'linux' ? Math.floor(reported / 2) : reported;
    if (want > 0 && granted < want) {
      this.ctx.logger.warn(
        `syslog spout: the UDP receive buffer is ${granted} bytes, less than the ${want} asked for: Linux caps it at net.core.rmem_max ` +
          `(raise it with sysctl -w net.core.rmem_max=${want}); bursts beyond it are dropped by the kernel (counted as dropped, reason kernel)`,
        { recvBufferBytes: want, granted },
      );
    } else {
      this.ctx.logger.info(`syslog spout: UDP receive buffer ${granted} bytes`, { granted });
    }
    sock.on('message', this.onDatagram);
    sock.on('error', (err) => {
      this.ctx.count('errors', 1, 'socket');
      this.ctx.logger.error(`syslog spout: UDP socket error on ${hostPort(host, this.bound!.port)}: ${describeSystemError(err)}`, {
        code: (err as { code?: unknown }).code,
      });
    });
  }

  /**
   * Reads now how many datagrams the kernel dropped since the last read (Linux: /proc/net/udp); it
   * is read every second anyway. They are counted as dropped, reason kernel.
   */
  async countKernelDrops(): Promise<void> {
    while (this.kernelPoll !== undefined) await this.kernelPoll;
    if (this.kernelDrops !== undefined) await (this.kernelPoll = this.pollKernelDrops());
  }

  private async pollKernelDrops(): Promise<void> {
    try {
      const n = await this.kernelDrops?.delta();
      if (n !== undefined && n > 0) {
        this.nKernel += n;
        this.warnLimited(
          'kernel_drops',
          `syslog spout: the kernel dropped ${n} UDP datagrams: the socket receive buffer was full (counted as dropped, reason kernel); ` +
            'raise recvBufferBytes (and net.core.rmem_max) or the parallelism after this spout',
          { dropped: n, recvBufferBytes: this.config.recvBufferBytes },
        );
      }
    } finally {
      this.kernelPoll = undefined;
    }
  }

  private readonly onDatagram = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    this.nReceived++;
    if (this.stopped) {
      this.nShutdown++;
      return;
    }
    let end = msg.length;
    this.nBytes += end;
    // The trailer first: maxMessageBytes is the message's limit, as in TCP framing.
    if (end > 0) {
      const last = msg[end - 1]!;
      if (last === NUL) end--;
      else if (last === LF) {
        end--;
        if (end > 0 && msg[end - 1] === CR) end--;
      }
    }
    if (end > this.maxBytes) {
      end = this.maxBytes;
      this.nTruncated++;
    }
    if (end === 0) {
      this.nEmpty++;
      return;
    }
    if (this.size >= this.maxBuffered) {
      this.nQueueFull++;
      return;
    }
    if (rinfo.port !== this.lastPort || rinfo.address !== this.lastAddr) {
      this.lastAddr = rinfo.address;
      this.lastPort = rinfo.port;
      this.lastPeer = formatPeer(rinfo.address, rinfo.port);
    }
    this.push(this.text(msg, 0, end, this.lastPeer), this.lastPeer, Date.now());
    if (this.waiting) this.notify();
  };

  // --- TCP and TLS -------------------------------------------------------------------------------

  private async listenStream(protocol: 'tcp' | 'tls', host: string, port: number): Promise<void> {
    let server: net.Server;
    if (protocol === 'tls') {
      const read = async (key: string, path: string): Promise<Buffer> => {
        try {
          return await readFile(path);
        } catch (err) {
          throw new SyslogListenError(protocol, host, port, 'tls', `syslog spout: cannot read ${key} "${path}": ${describeSystemError(err)}`, {
            cause: err,
          });
        }
      };
      const cert = await read('tlsCert', this.config.tlsCert!);
      const key = await read('tlsKey', this.config.tlsKey!);
      const ca = this.config.tlsCa === undefined ? undefined : await read('tlsCa', this.config.tlsCa);
      // Node takes a CA file without a certificate in it (a key, garbage) and then refuses every client.
      if (ca !== undefined && !holdsCertificate(ca)) {
        throw new SyslogListenError(
          protocol,
          host,
          port,
          'tls',
          `syslog spout: tlsCa "${this.config.tlsCa}" holds no certificate that can be read (PEM, -----BEGIN CERTIFICATE-----): every client would be refused`,
        );
      }
      try {
        server = tls.createServer(
          // A client that connects and says nothing (a port scan, a health check) is not held for Node's default 2 minutes.
          { cert, key, ca, requestCert: ca !== undefined, rejectUnauthorized: ca !== undefined, minVersion: 'TLSv1.2', handshakeTimeout: HANDSHAKE_MS },
          this.onConnection,
        );
      } catch (err) {
        throw new SyslogListenError(
          protocol,
          host,
          port,
          'tls',
          `syslog spout: the TLS certificate "${this.config.tlsCert}" and key "${this.config.tlsKey}"${ca ? ` (with CA "${this.config.tlsCa}")` : ''} ` +
            `cannot be used: ${describeSystemError(err)}`,
          { cause: err },
        );
      }
      // The peer is taken when the connection is accepted: a client that reset it has none by the time it failed.
      server.on('connection', (raw: net.Socket) => {
        this.raw.add(raw);
        this.rawPeer.set(raw, formatPeer(raw.remoteAddress, raw.remotePort));
        raw.once('close', () => this.raw.delete(raw));
      });
      server.on('tlsClientError', (err, socket) => {
        this.disconnected('tls_handshake');
        const parent = (socket as unknown as { _parent?: net.Socket })._parent;
        const peer = (parent && this.rawPeer.get(parent)) ?? formatPeer(socket.remoteAddress, socket.remotePort);
        this.warnLimited('tls_handshake', `syslog spout: TLS handshake with ${peer} failed: ${tlsFailure(err)}`, {
          peer,
          code: (err as { code?: unknown }).code,
        });
      });
    } else {
      server = net.createServer(this.onConnection);
    }
    server.maxConnections = this.config.maxConnections;
    server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
      this.disconnected('too_many');
      this.warnLimited(
        'too_many',
        `syslog spout: refused a connection from ${formatPeer(data?.remoteAddress, data?.remotePort)}: maxConnections ${this.config.maxConnections} are open`,
        { peer: formatPeer(data?.remoteAddress, data?.remotePort), maxConnections: this.config.maxConnections },
      );
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      server.close();
      throw this.listenError(err, protocol, host, port);
    }
    this.server = server;
    this.bound = { protocol, host, port: (server.address() as net.AddressInfo).port };
    server.on('error', (err) => {
      this.ctx.count('errors', 1, 'socket');
      this.ctx.logger.error(`syslog spout: ${protocol} server error on ${hostPort(host, this.bound!.port)}: ${describeSystemError(err)}`, {
        code: (err as { code?: unknown }).code,
      });
    });
  }

  private readonly onConnection = (socket: net.Socket): void => {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const conn = new Connection(this, socket, formatPeer(socket.remoteAddress, socket.remotePort), this.maxBytes);
    this.conns.add(conn);
    this.nConnections++;
    socket.setKeepAlive(true, KEEPALIVE_MS);
    if (this.idleMs > 0) socket.setTimeout(this.idleMs);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('end', () => this.onEnd(conn));
    socket.on('timeout', () => {
      conn.closeReason ??= 'idle';
      this.ctx.logger.debug(`syslog spout: closing the connection from ${conn.peer}: idle for ${this.idleMs}ms`, { peer: conn.peer });
      socket.destroy();
    });
    socket.on('error', (err) => {
      conn.closeReason ??= 'error';
      this.ctx.logger.debug(`syslog spout: connection from ${conn.peer}: ${describeSystemError(err)}`, { peer: conn.peer });
    });
    socket.on('close', () => this.onClose(conn));
    if (this.stopped) this.hold(conn);
  };

  private onData(conn: Connection, chunk: Buffer): void {
    conn.now = Date.now();
    this.nBytes += chunk.length;
    const before = this.size;
    conn.decoder.push(chunk);
    const r = this.lastRead;
    if (r !== undefined) {
      // A stop's last read: emitted at once in a drain (`next` is not called any more), counted at close.
      r.last = performance.now();
      this.settleLastRead();
      return;
    }
    if (this.size > before) this.notify();
    if (this.size >= this.maxBuffered && !conn.paused && !conn.socket.destroyed) {
      // TCP can be slowed: stop reading until `next` has emitted half of the buffer.
      conn.paused = true;
      conn.socket.pause();
      if (this.idleMs > 0) conn.socket.setTimeout(0); // a paused connection is quiet because of us
      this.paused.push(conn);
    }
  }

  private resumeAll(): void {
    const paused = this.paused;
    this.paused = [];
    for (const conn of paused) {
      conn.paused = false;
      if (conn.socket.destroyed) continue;
      if (this.idleMs > 0) conn.socket.setTimeout(this.idleMs);
      conn.socket.resume();
    }
  }

  private onEnd(conn: Connection): void {
    this.finishConnection(conn);
  }

  private finishConnection(conn: Connection): void {
    const before = this.size;
    const lost = conn.decoder.finish();
    if (lost > 0) this.incomplete(conn, lost, `the connection from ${conn.peer} ended inside a frame at byte ${conn.decoder.offset}`);
    if (this.size > before) {
      // In a stop's last read, emitted or counted at once, as what `onData` reads then.
      if (this.lastRead === undefined) this.notify();
      else this.settleLastRead();
    }
  }

  /** In a stop's last read, what was read goes at once: emitted in a drain (`next` is not called any more), counted at close. */
  private settleLastRead(): void {
    if (this.closed) this.dropUnemitted();
    else this.emitBuffered(this.size);
  }

  /** An octet-counted frame of `conn` will not be finished: its `lost` bytes are counted and said. */
  private incomplete(conn: Connection, lost: number, where: string): void {
    this.nReceived++;
    this.nIncomplete++;
    this.warnLimited('incomplete', `syslog spout: ${where}; its ${lost} bytes are lost (counted as dropped, reason incomplete)`, {
      peer: conn.peer,
      offset: conn.decoder.offset,
      lost,
    });
  }

  private onClose(conn: Connection): void {
    if (!this.conns.delete(conn)) return;
    if (!this.closed) this.finishConnection(conn);
    this.disconnected(conn.closeReason ?? (this.closed ? 'shutdown' : 'peer'));
  }

  private listenError(err: unknown, protocol: string, host: string, port: number): SyslogListenError {
    const code = (err as { code?: unknown } | undefined)?.code;
    let why: string;
    switch (code) {
      case 'EADDRINUSE':
        why =
          'address already in use (EADDRINUSE): another process, or another task of this component, is listening there' +
          (this.ctx.parallelism > 1
            ? `; this component has parallelism ${this.ctx.parallelism}, and Node 20 cannot share one port between tasks ` +
              '(no SO_REUSEPORT): give it parallelism 1 per node, or declare one spout per port'
            : '');
        break;
      case 'EACCES':
      case 'EPERM':
        why =
          `permission denied (${code})` +
          (port > 0 && port < 1024
            ? `: ports below 1024 need root or CAP_NET_BIND_SERVICE; listen on ${DEFAULT_PORTS[protocol as 'udp']} instead, or redirect ${port} to it in the firewall`
            : '');
        break;
      case 'EADDRNOTAVAIL':
        why = `no interface of this machine has the address ${host} (EADDRNOTAVAIL)`;
        break;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        why = `the host "${host}" does not resolve (${code})`;
        break;
      default:
        why = describeSystemError(err);
    }
    return new SyslogListenError(protocol, host, port, 'listen', `syslog spout: cannot listen on ${protocol} ${hostPort(host, port)}: ${why}`, {
      cause: err,
    });
  }
}

/**
 * What is wrong with the TLS keys of a config, and where: protocol tls without a certificate or
 * key, or TLS keys on another protocol. Checked when the topology is validated and again at open.
 */
export function tlsConfigProblem(config: SyslogSpoutConfig): { path: string[]; message: string } | undefined {
  const { protocol, tlsCert, tlsKey, tlsCa } = config;
  if (protocol === 'tls' && (tlsCert === undefined || tlsKey === undefined)) {
    return {
      path: ['protocol'],
      message: `protocol tls needs tlsCert and tlsKey (paths of the PEM certificate and key)${tlsCert === undefined ? '; tlsCert is missing' : ''}${tlsKey === undefined ? '; tlsKey is missing' : ''}`,
    };
  }
  if (protocol !== 'tls' && (tlsCert !== undefined || tlsKey !== undefined || tlsCa !== undefined)) {
    const key = tlsCert !== undefined ? 'tlsCert' : tlsKey !== undefined ? 'tlsKey' : 'tlsCa';
    return {
      path: [key],
      message: `tlsCert, tlsKey and tlsCa apply to protocol tls only, and this spout listens on ${protocol}; set protocol: tls or remove them`,
    };
  }
  return undefined;
}
