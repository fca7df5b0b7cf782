/**
 * Where the alert bolt delivers alerts besides its `default` stream: stdout, a JSON-lines file,
 * a webhook, a NATS subject. Delivery never blocks the executor: `offer` only queues (bounded;
 * what does not fit is dropped and counted) and one asynchronous pump per notifier sends, in
 * order, with retries where the target can fail transiently.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { type Logger, OUTPUT_LOST } from '@qitian/api';
import { describeSystemError } from '../../errors.js';
import { throwErrors } from '../../internal/config-errors.js';
import { ensureDir } from '../../internal/ensure-dir.js';
import { FileIdentity } from '../../internal/file-identity.js';
import { ALERT_SEVERITIES, type AlertSeverity, attempt, checkKeys, duration, enumOf, mapping, num, StrategyConfigError, str } from './strategies.js';

/** One alert, as emitted on the bolt's `default` stream and sent to notifiers. */
export interface Alert {
  /** When it fired, ms since the epoch: the event time that triggered it (see the spec). */
  readonly time: number;
  readonly strategy: string;
  readonly severity: AlertSeverity;
  readonly key: string;
  readonly summary: string;
  readonly details: Record<string, unknown>;
}

/** What a notifier may use of its bolt. */
export interface NotifierEnv {
  count(name: string, delta: number, reason?: string): void;
  readonly logger: Logger;
}

export interface Notifier {
  readonly type: string;
  /** Takes an alert for delivery; never blocks, never throws. */
  offer(alert: Alert): void;
  /** Delivers what is queued within `deadlineMs`, drops (and counts) the rest, and releases resources. */
  close(deadlineMs: number): Promise<void>;
}

export const NOTIFIER_TYPES = ['stdout', 'file', 'webhook', 'nats'] as const;
export type NotifierType = (typeof NOTIFIER_TYPES)[number];

interface CommonOptions {
  /** Alerts less severe than this are not sent. */
  readonly minSeverity: AlertSeverity;
}
export interface StdoutOptions extends CommonOptions {
  readonly type: 'stdout';
}
export interface FileOptions extends CommonOptions {
  readonly type: 'file';
  readonly path: string;
}
export interface WebhookOptions extends CommonOptions {
  readonly type: 'webhook';
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly timeout: number;
  readonly retries: number;
  readonly backoff: number;
  readonly maxBackoff: number;
  readonly queueSize: number;
}
export interface NatsOptions extends CommonOptions {
  readonly type: 'nats';
  readonly servers: string[];
  /** May hold `{severity}` and `{strategy}`. */
  readonly subject: string;
  readonly queueSize: number;
}
export type NotifierOptions = StdoutOptions | FileOptions | WebhookOptions | NatsOptions;

const COMMON_KEYS = ['type', 'minSeverity'];
const TYPE_KEYS: Record<NotifierType, readonly string[]> = {
  stdout: [],
  file: ['path'],
  webhook: ['url', 'headers', 'timeout', 'retries', 'backoff', 'maxBackoff', 'queueSize'],
  nats: ['servers', 'subject', 'queueSize'],
};

/** Checks the `notify` list of the alert bolt's config; throws StrategyConfigError, or an AggregateError of every one found. */
export function parseNotify(raw: unknown): NotifierOptions[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new StrategyConfigError(['notify'], 'expected a list of notifiers, e.g. [{type: stdout}]');
  const errs: StrategyConfigError[] = [];
  const out: NotifierOptions[] = [];
  raw.forEach((item, i) => {
    const before = errs.length;
    const n = parseNotifier(item, ['notify', i], errs);
    if (n !== undefined && errs.length === before) out.push(n);
  });
  throwErrors(errs);
  return out;
}

/** One notifier, or undefined when it is wrong: each of its problems goes to `errs`. */
function parseNotifier(item: unknown, path: (string | number)[], errs: StrategyConfigError[]): NotifierOptions | undefined {
  const o = attempt(errs, undefined, () => (typeof item === 'string' ? { type: item } : mapping(item, path)));
  if (o === undefined) return undefined;
  const type = attempt(errs, undefined, () => enumOf(o.type, [...path, 'type'], NOTIFIER_TYPES));
  if (type === undefined) return undefined;
  attempt(errs, undefined, () => checkKeys(o, path, [...COMMON_KEYS, ...TYPE_KEYS[type]]));
  const minSeverity = attempt(errs, 'info' as AlertSeverity, () => enumOf(o.minSeverity ?? 'info', [...path, 'minSeverity'], ALERT_SEVERITIES));
  switch (type) {
    case 'stdout':
      return { type, minSeverity };
    case 'file':
      return { type, minSeverity, path: attempt(errs, '', () => str(o.path, [...path, 'path'], true)) };
    case 'webhook': {
      const url = attempt(errs, '', () => {
        const u = str(o.url, [...path, 'url'], true);
        if (!/^https?:\/\//.test(u)) throw new StrategyConfigError([...path, 'url'], `expected an http:// or https:// URL, got "${u}"`);
        return u;
      });
      const headers = attempt(errs, {}, () => {
        const h = o.headers === undefined ? {} : mapping(o.headers, [...path, 'headers']);
        for (const [k, v] of Object.entries(h)) if (typeof v !== 'string') throw new StrategyConfigError([...path, 'headers', k], 'header values are strings');
        return h;
      });
      return {
        type,
        minSeverity,
        url,
        headers: headers as Record<string, string>,
        timeout: attempt(errs, 5000, () => (o.timeout === undefined ? 5000 : duration(o.timeout, [...path, 'timeout']))),
        retries: attempt(errs, 3, () => (o.retries === undefined ? 3 : num(o.retries, [...path, 'retries'], 0, true))),
        backoff: attempt(errs, 1000, () => (o.backoff === undefined ? 1000 : duration(o.backoff, [...path, 'backoff']))),
        maxBackoff: attempt(errs, 30_000, () => (o.maxBackoff === undefined ? 30_000 : duration(o.maxBackoff, [...path, 'maxBackoff']))),
        queueSize: attempt(errs, 1000, () => (o.queueSize === undefined ? 1000 : num(o.queueSize, [...path, 'queueSize'], 1, true))),
      };
    }
    default: {
      // nats
      const servers = attempt(errs, [] as string[], () => {
        const sv = o.servers === undefined ? ['nats://127.0.0.1:4222'] : typeof o.servers === 'string' ? [o.servers] : o.servers;
        if (!Array.isArray(sv) || sv.length === 0 || sv.some((x) => typeof x !== 'string'))
          throw new StrategyConfigError([...path, 'servers'], 'expected a server URL or a list of them');
        return sv as string[];
      });
      return {
        type,
        minSeverity,
        servers,
        subject: attempt(errs, 'qitian.alerts', () =>
          o.subject === undefined ? 'qitian.alerts' : natsSubject(str(o.subject, [...path, 'subject'], true), [...path, 'subject']),
        ),
        queueSize: attempt(errs, 1000, () => (o.queueSize === undefined ? 1000 : num(o.queueSize, [...path, 'queueSize'], 1, true))),
      };
    }
  }
}

/**
 * A subject template the server will take: dot-separated tokens, none empty, no white space, and
 * no wildcards (`*`, `>`), which a publish may not use.
 */
function natsSubject(subject: string, path: readonly (string | number)[]): string {
  const filled = subject.replaceAll('{severity}', 'x').replaceAll('{strategy}', 'x');
  if (/[\s*>]/.test(filled) || filled.split('.').some((t) => t.length === 0)) {
    throw new StrategyConfigError(
      [...path],
      `"${subject}" is no subject to publish on: dot-separated words without spaces or wildcards (* >), e.g. "noc.alerts.{severity}"`,
    );
  }
  return subject;
}

/** Knobs that are no config (tests). */
export interface NotifierTuning {
  /** How long the file notifier waits after a failure before it tries its file again. */
  readonly fileRetryMs?: number;
}

/** Builds the notifiers; `stdout` may be replaced (tests). */
export function createNotifiers(
  options: readonly NotifierOptions[],
  env: NotifierEnv,
  stdout: Writable = process.stdout,
  tuning: NotifierTuning = {},
): Notifier[] {
  return options.map((o) => {
    let n: Notifier;
    switch (o.type) {
      case 'stdout':
        n = new StdoutNotifier(stdout, env);
        break;
      case 'file':
        n = new FileNotifier(o.path, env, tuning.fileRetryMs);
        break;
      case 'webhook':
        n = new WebhookNotifier(o, env);
        break;
      case 'nats':
        n = new NatsNotifier(o, env);
        break;
    }
    return o.minSeverity === 'info' ? n : new SeverityFilter(n, o.minSeverity);
  });
}

/** `2024-05-01T10:05:00.000Z MAJOR link-flap [r1] 12 matching events in 5m (threshold 10)` */
export function formatAlertLine(a: Alert): string {
  return `${new Date(a.time).toISOString()} ${a.severity.toUpperCase()} ${a.strategy} [${a.key}] ${a.summary}\n`;
}

class SeverityFilter implements Notifier {
  private readonly rank: number;
  constructor(
    private readonly inner: Notifier,
    min: AlertSeverity,
  ) {
    this.rank = ALERT_SEVERITIES.indexOf(min);
  }
  get type(): string {
    return this.inner.type;
  }
  offer(alert: Alert): void {
    if (ALERT_SEVERITIES.indexOf(alert.severity) <= this.rank) this.inner.offer(alert);
  }
  close(deadlineMs: number): Promise<void> {
    return this.inner.close(deadlineMs);
  }
}

/** One readable line per alert on stdout (buffered by the stream, written in order); never closed. */
class StdoutNotifier implements Notifier {
  readonly type = 'stdout';
  private failed = false;
  constructor(
    private readonly out: Writable,
    private readonly env: NotifierEnv,
  ) {
    out.on('error', (err) => {
      if (!this.failed) env.logger.error('alert notifier stdout: write failed; further alerts to it are dropped and counted', { error: String(err) });
      this.failed = true;
    });
  }
  offer(alert: Alert): void {
    if (this.failed || this.out.destroyed) {
      this.env.count('notify_dropped', 1, 'stdout');
      return;
    }
    this.out.write(formatAlertLine(alert));
    this.env.count('notified', 1, 'stdout');
  }
  async close(): Promise<void> {}
}

/** After a failure, the file notifier tries its file again at most this often. */
export const FILE_RETRY_MS = 5000;
/** Alerts waiting for the file notifier's write in flight; more are dropped and counted. */
const FILE_QUEUE = 10_000;

/**
 * JSON lines appended to a file (its folders created). What arrives while a write is in flight is
 * written next, in one write. When opening or writing fails, the alerts of that write are dropped
 * and counted, the file is closed, and later alerts are dropped (counted) without touching the file
 * until `retryMs` have passed; then the next alert opens it again. The error is logged once per
 * outage, the recovery at info. A file moved or deleted under it (log rotation) is made again at
 * its path within a second (FileIdentity).
 */
export class FileNotifier implements Notifier {
  readonly type = 'file';
  private handle: FileHandle | undefined;
  private readonly identity: FileIdentity;
  /** Lines waiting for the next write. */
  private lines: string[] = [];
  /** Alerts in the open or write under way. */
  private inFlight = 0;
  private pumping: Promise<void> | null = null;
  private closing = false;
  /** close gave up at its deadline: what the pump still finishes is neither counted nor kept open. */
  private abandoned = false;
  /** A failed write may have left a partial line: the next write starts on a new line. */
  private partialLine = false;
  /** Set while the file fails: when to try again (performance.now()), since when, alerts dropped. */
  private outage: { retryAt: number; since: number; dropped: number } | undefined;

  constructor(
    readonly path: string,
    private readonly env: NotifierEnv,
    private readonly retryMs = FILE_RETRY_MS,
  ) {
    this.identity = new FileIdentity(path);
    // Opened now, so that a path that cannot be written is reported when the run starts.
    this.pumping = this.pump();
  }

  offer(alert: Alert): void {
    if (this.closing || this.lines.length >= FILE_QUEUE || (this.outage !== undefined && performance.now() < this.outage.retryAt)) {
      this.drop(1);
      return;
    }
    this.lines.push(`${JSON.stringify(alert)}\n`);
    if (this.pumping === null) this.pumping = this.pump();
  }

  private drop(n: number): void {
    if (n <= 0) return;
    this.env.count('notify_dropped', n, 'file');
    if (this.outage !== undefined) this.outage.dropped += n;
  }

  private async pump(): Promise<void> {
    try {
      do {
        const batch = this.lines;
        this.lines = [];
        this.inFlight = batch.length;
        try {
          if (this.handle !== undefined && (await this.identity.check())?.moved) {
            this.release();
            this.env.logger.info(`alert notifier file: "${this.path}" was moved or deleted (log rotation?); writing a new one at its path`, {
              path: this.path,
            });
          }
          if (this.handle === undefined) {
            this.handle = await ensureDir(dirname(this.path))
              .then(() => open(this.path, 'a'))
              .then(async (handle) => {
                await this.identity.opened(handle).catch(() => undefined);
                return handle;
              })
              .catch((err: unknown) => {
                throw new FileStepError('open', err);
              });
            if (this.abandoned) return;
          }
          if (batch.length > 0) await this.write(this.handle, batch);
        } catch (err) {
          if (this.abandoned) return;
          const whole = err instanceof FileStepError ? err.written : 0;
          if (whole > 0) this.env.count('notified', whole, 'file');
          this.fail(err, batch.length - whole);
          continue;
        }
        if (this.abandoned) return;
        this.inFlight = 0;
        if (batch.length > 0) {
          this.env.count('notified', batch.length, 'file');
          this.recovered();
        }
      } while (this.lines.length > 0 && !this.abandoned);
    } finally {
      this.inFlight = 0;
      this.pumping = null;
      if (this.abandoned) this.release();
    }
  }

  /** Writes the lines in order; on failure throws a FileStepError knowing how many were written whole. */
  private async write(handle: FileHandle, batch: readonly string[]): Promise<void> {
    const lead = this.partialLine ? '\n' : '';
    const buf = Buffer.from(lead + batch.join(''), 'utf8');
    let off = 0;
    try {
      while (off < buf.length) {
        const { bytesWritten } = await handle.write(buf, off, buf.length - off);
        off += bytesWritten;
      }
      this.partialLine = false;
    } catch (err) {
      // Lines wholly written are delivered; a partly written one is not, and the next write starts a new line.
      let end = Buffer.byteLength(lead);
      let whole = 0;
      for (; whole < batch.length; whole++) {
        const next = end + Buffer.byteLength(batch[whole]!);
        if (next > off) break;
        end = next;
      }
      if (off > 0) this.partialLine = off !== end;
      throw new FileStepError('write', err, whole);
    }
  }

  private fail(err: unknown, lost: number): void {
    this.release();
    const now = performance.now();
    // What arrived during the failed attempt would be an immediate retry: dropped too.
    lost += this.lines.length;
    this.lines = [];
    this.inFlight = 0;
    const step = err instanceof FileStepError ? err.step : 'write';
    const cause = err instanceof FileStepError ? err.error : err;
    if (this.outage === undefined) {
      this.outage = { retryAt: 0, since: now, dropped: 0 };
      this.env.logger.error(
        `alert notifier file: cannot ${step} "${this.path}": ${describeSystemError(cause)}; its alerts are dropped and counted ` +
          `(notify_dropped) until the file works again, tried at most every ${formatMs(this.retryMs)}`,
        { path: this.path, code: (cause as { code?: unknown } | undefined)?.code },
      );
    } else {
      this.env.logger.debug(`alert notifier file: "${this.path}" still fails: ${describeSystemError(cause)}`, { path: this.path });
    }
    this.outage.retryAt = now + this.retryMs;
    this.drop(lost);
  }

  private recovered(): void {
    const o = this.outage;
    if (o === undefined) return;
    this.outage = undefined;
    this.env.logger.info(
      `alert notifier file: writing "${this.path}" again after ${formatMs(performance.now() - o.since)}; ${o.dropped} alert(s) were dropped meanwhile`,
      { path: this.path, dropped: o.dropped },
    );
  }

  /** Closes the file without waiting (a failed or abandoned handle). */
  private release(): void {
    const h = this.handle;
    this.handle = undefined;
    h?.close().catch(() => undefined);
  }

  async close(deadlineMs: number): Promise<void> {
    this.closing = true;
    if (this.pumping !== null) {
      const inTime = await settlesWithin(this.pumping, deadlineMs);
      if (!inTime) {
        // An open or write that does not return (a FIFO without reader, a hung network mount) cannot
        // be cancelled: count its alerts and the queued ones as dropped; the pump closes the file when it returns.
        this.abandoned = true;
        const left = this.inFlight + this.lines.length;
        this.lines = [];
        if (left > 0) {
          this.env.count('notify_dropped', left, 'file');
          // Nothing delivers them later: the run's exit status says so.
          this.env.count(OUTPUT_LOST, left);
          this.env.logger.warn(`alert notifier file: ${left} alert(s) not written to "${this.path}" before shutdown`, { path: this.path });
        }
        return;
      }
    }
    const h = this.handle;
    this.handle = undefined;
    await h?.close().catch(() => undefined);
  }
}

/** Which step of the file notifier failed, and how many alerts of the write were written before. */
class FileStepError extends Error {
  constructor(
    readonly step: 'open' | 'write',
    readonly error: unknown,
    readonly written = 0,
  ) {
    super(`${step}: ${String(error)}`);
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${+(ms / 1000).toFixed(1)}s` : `${Math.round(ms)}ms`;
}

/** Whether `p` settles within `ms` (the timer is cleared either way); a rejection of `p` is thrown. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([p.then(() => true), sleep(ms, timer.signal).then(() => false)]);
  } finally {
    timer.abort();
  }
}

/** An abortable sleep; resolves early (false) when aborted. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A bounded queue drained by one asynchronous pump. Subclasses deliver one alert at a time;
 * `abort` is signalled when the bolt closes and the deadline has passed. `deliver` resolves true
 * once the alert is dealt with (delivered, or given up on and counted), false when the abort cut
 * it short (waiting to retry, say): it is then counted with what is left in the queue.
 */
abstract class QueuedNotifier implements Notifier {
  private queue: (Alert | undefined)[] = [];
  private head = 0;
  private pumping: Promise<void> | null = null;
  private closing = false;
  /** Alerts whose delivery the shutdown cut short. */
  private cutShort = 0;
  protected readonly abort = new AbortController();

  constructor(
    readonly type: string,
    private readonly queueSize: number,
    protected readonly env: NotifierEnv,
  ) {}

  protected abstract deliver(alert: Alert): Promise<boolean>;
  protected async shutdown(): Promise<void> {}

  /** Alerts waiting (not counting the one being sent). */
  get pending(): number {
    return this.queue.length - this.head;
  }

  offer(alert: Alert): void {
    if (this.closing || this.pending >= this.queueSize) {
      this.env.count('notify_dropped', 1, this.type);
      return;
    }
    this.queue.push(alert);
    if (this.pumping === null) this.pumping = this.pump();
  }

  private async pump(): Promise<void> {
    try {
      while (this.head < this.queue.length && !this.abort.signal.aborted) {
        const a = this.queue[this.head]!;
        this.queue[this.head++] = undefined;
        if (this.head >= 1024) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        try {
          if (!(await this.deliver(a))) this.cutShort++;
        } catch (err) {
          this.env.count('notify_failed', 1, this.type);
          this.env.logger.warn(`alert notifier ${this.type}: delivery failed`, { error: String(err) });
        }
      }
    } finally {
      this.pumping = null;
    }
  }

  async close(deadlineMs: number): Promise<void> {
    this.closing = true;
    if (this.pumping !== null) {
      const inTime = await settlesWithin(this.pumping, deadlineMs);
      if (!inTime) {
        this.abort.abort();
        await this.pumping;
      }
    }
    this.abort.abort();
    const left = this.pending + this.cutShort;
    this.cutShort = 0;
    if (left > 0) {
      this.env.count('notify_dropped', left, this.type);
      this.env.count(OUTPUT_LOST, left);
      this.env.logger.warn(`alert notifier ${this.type}: ${left} alert(s) not delivered before shutdown`);
    }
    this.queue = [];
    this.head = 0;
    await this.shutdown();
  }
}

/** POSTs each alert as JSON; retries network errors, timeouts, 408, 429 and 5xx with exponential backoff. */
export class WebhookNotifier extends QueuedNotifier {
  constructor(
    private readonly o: WebhookOptions,
    env: NotifierEnv,
  ) {
    super('webhook', o.queueSize, env);
  }

  protected async deliver(alert: Alert): Promise<boolean> {
    const body = JSON.stringify(alert);
    const headers = { 'content-type': 'application/json', ...this.o.headers };
    for (let attempt = 0; ; attempt++) {
      let retry: boolean;
      let why: string;
      // A timer of our own, not AbortSignal.timeout inside AbortSignal.any: on Node 20 the timeout
      // signal can be collected before it fires (nodejs/node#57736), and the attempt waits for ever.
      const attemptAbort = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        attemptAbort.abort();
      }, this.o.timeout);
      const onStop = () => attemptAbort.abort();
      this.abort.signal.addEventListener('abort', onStop, { once: true });
      try {
        const res = await fetch(this.o.url, { method: 'POST', headers, body, signal: attemptAbort.signal });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.env.count('notified', 1, 'webhook');
          return true;
        }
        retry = res.status >= 500 || res.status === 429 || res.status === 408;
        why = `HTTP ${res.status}`;
      } catch (err) {
        if (this.abort.signal.aborted) return false;
        retry = true;
        why = timedOut ? `no answer within ${this.o.timeout}ms` : String((err as Error).cause ?? err);
      } finally {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', onStop);
      }
      if (!retry || attempt >= this.o.retries) {
        this.env.count('notify_failed', 1, 'webhook');
        this.env.logger.warn(`alert webhook ${this.o.url}: gave up after ${attempt + 1} attempt(s): ${why}`, { strategy: alert.strategy, key: alert.key });
        return true;
      }
      this.env.count('notify_retries', 1, 'webhook');
      const wait = Math.min(this.o.maxBackoff, this.o.backoff * 2 ** attempt);
      if (!(await sleep(wait, this.abort.signal))) return false;
    }
  }
}

interface NatsConnectionLike {
  publish(subject: string, payload: string): void;
  flush(): Promise<void>;
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** How long the NATS notifier waits for the server to confirm a publish before it publishes again. */
const NATS_CONFIRM_MS = 5000;

/** A value as one token of a NATS subject: no white space, dots or wildcards. */
function subjectToken(v: string): string {
  return v.replace(/[\s.*>]+/g, '_') || '_';
}

/** Publishes each alert's JSON on a subject; connects lazily and keeps retrying to connect. */
export class NatsNotifier extends QueuedNotifier {
  private nc: NatsConnectionLike | undefined;
  private readonly templated: boolean;

  constructor(
    private readonly o: NatsOptions,
    env: NotifierEnv,
  ) {
    super('nats', o.queueSize, env);
    this.templated = o.subject.includes('{');
  }

  private async connection(): Promise<NatsConnectionLike | undefined> {
    let wait = 250;
    while (this.nc === undefined && !this.abort.signal.aborted) {
      try {
        const { connect } = await import('@nats-io/transport-node');
        this.nc = await connect({ servers: this.o.servers, name: 'qitian-alert', maxReconnectAttempts: -1, timeout: 5000 });
      } catch (err) {
        this.env.count('notify_retries', 1, 'nats');
        this.env.logger.warn(`alert notifier nats: cannot connect to ${this.o.servers.join(', ')}; retrying in ${wait}ms`, { error: String(err) });
        if (!(await sleep(wait, this.abort.signal))) break;
        wait = Math.min(wait * 2, 30_000);
      }
    }
    return this.nc;
  }

  /**
   * Publishes, then waits for the server to answer a PING sent after it: the server has the alert
   * then. A publish into a connection the server has dropped (not yet noticed by the client) is
   * otherwise lost unseen; without an answer the alert is published again once the client has
   * reconnected (at least once: a server that got it but whose answer was lost gets it twice).
   */
  protected async deliver(alert: Alert): Promise<boolean> {
    const subject = this.templated
      ? this.o.subject.replaceAll('{severity}', subjectToken(alert.severity)).replaceAll('{strategy}', subjectToken(alert.strategy))
      : this.o.subject;
    const payload = JSON.stringify(alert);
    let wait = 250;
    for (let attempt = 1; ; attempt++) {
      const nc = this.nc ?? (await this.connection());
      if (nc === undefined) return false;
      let why: string;
      try {
        nc.publish(subject, payload);
        const answered = nc.flush();
        answered.catch(() => undefined);
        if (await settlesWithin(answered, NATS_CONFIRM_MS)) {
          this.env.count('notified', 1, 'nats');
          if (attempt > 1) this.env.logger.info(`alert notifier nats: delivered after ${attempt} attempts`, { strategy: alert.strategy, key: alert.key });
          return true;
        }
        why = `no answer from the server within ${NATS_CONFIRM_MS}ms`;
      } catch (err) {
        why = String(err);
      }
      if (this.abort.signal.aborted) return false;
      this.env.count('notify_retries', 1, 'nats');
      if (attempt === 1 || attempt % 10 === 0) {
        this.env.logger.warn(`alert notifier nats: the server did not confirm an alert (${why}); publishing it again in ${wait}ms`, {
          strategy: alert.strategy,
          key: alert.key,
          attempt,
        });
      }
      if (!(await sleep(wait, this.abort.signal))) return false;
      wait = Math.min(wait * 2, 30_000);
    }
  }

  protected override async shutdown(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    if (nc === undefined) return;
    try {
      await nc.drain();
    } catch {
      await nc.close().catch(() => undefined);
    }
  }
}
