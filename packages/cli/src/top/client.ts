/**
 * Reads a running topology's endpoint (`qitian run --metrics-port`): /api/v1/stats and
 * /api/v1/topology, each with a timeout, and every way that can fail as an EndpointError that
 * names the URL.
 */
import { type HttpAnswer, httpGet } from '../http-get.js';
import type { StatsSnapshot, TopologyInfo } from './model.js';

/** The stats request waits up to 2 s for worker threads; this leaves room for that. */
export const REQUEST_TIMEOUT_MS = 5000;

/**
 * Why a request failed: `connect` (nothing answers, or the connection broke), `timeout`, `http`
 * (an error status), `format` (the answer is not what a QiTian endpoint sends).
 */
export type EndpointFailure = 'connect' | 'timeout' | 'http' | 'format';

export class EndpointError extends Error {
  override readonly name = 'EndpointError';
  constructor(
    message: string,
    /** The URL requested. */
    readonly url: string,
    readonly failure: EndpointFailure,
    /** Without the URL: what the failure was, for "cannot connect to URL: <reason>". */
    readonly reason: string,
    /** The HTTP status, for `http`. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** Worth asking again: nothing answered yet, or the server had a passing problem. */
  get retryable(): boolean {
    return this.failure === 'connect' || this.failure === 'timeout' || (this.status !== undefined && this.status >= 500);
  }
}

export interface RequestOptions {
  /** Aborting cancels the request (it then rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** GET `base + path` as JSON. */
export async function getJson(base: string, path: string, opts: RequestOptions = {}): Promise<unknown> {
  const url = `${base}${path}`;
  const timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let res: HttpAnswer;
  let text: string;
  try {
    res = await httpGet(url, { signal, headers: { accept: 'application/json' } });
    text = await res.text();
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (timeout.aborted) {
      const reason = `no answer within ${timeoutMs / 1000}s`;
      throw new EndpointError(`${url}: ${reason}`, url, 'timeout', reason, undefined, { cause: err });
    }
    const reason = connectReason(err);
    throw new EndpointError(`cannot connect to ${base}: ${reason}`, url, 'connect', reason, undefined, { cause: err });
  }
  if (!res.ok) {
    const said = errorText(text);
    const reason = `HTTP ${res.status} ${res.statusText}${said ? `: ${said}` : ''}`;
    const hint = res.status === 404 ? ' (is this the address qitian run --metrics-port printed?)' : '';
    throw new EndpointError(`${url} answered ${reason}${hint}`, url, 'http', reason, res.status);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const type = res.header('content-type') ?? 'no content type';
    const reason = `not JSON (${type}): ${JSON.stringify(text.slice(0, 60))}`;
    throw new EndpointError(`${url} answered ${reason}; is this the address qitian run --metrics-port printed?`, url, 'format', reason);
  }
}

/** The endpoint's own `{ "error": ... }`, or the start of whatever it said. */
function errorText(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body?.error === 'string') return body.error;
  } catch {
    // not JSON: shown as it is
  }
  return text.trim().slice(0, 120);
}

/** "connection refused (ECONNREFUSED)" from the socket's error. */
export function connectReason(err: unknown): string {
  let e: unknown = err;
  // A wrapped error holds the system one; connecting to several addresses gives an AggregateError of them.
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  if (e instanceof AggregateError && e.errors[0] instanceof Error) e = e.errors[0];
  const code = (e as { code?: unknown })?.code;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ETIMEDOUT: 'connection timed out',
    ECONNABORTED: 'connection closed',
    ERR_STREAM_PREMATURE_CLOSE: 'connection closed',
  };
  if (typeof code === 'string') return words[code] ? `${words[code]} (${code})` : `${(e as Error).message} (${code})`;
  return e instanceof Error ? e.message : String(e);
}

function shapeError(url: string, what: string): EndpointError {
  const reason = `the answer is not ${what}`;
  return new EndpointError(`${url}: ${reason}; is this the address qitian run --metrics-port printed?`, url, 'format', reason);
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** GET /api/v1/stats: every task's counters. */
export async function fetchStats(base: string, opts: RequestOptions = {}): Promise<StatsSnapshot> {
  const body = await getJson(base, '/api/v1/stats', opts);
  if (!isObject(body) || !Array.isArray(body.tasks) || typeof body.time !== 'number') throw shapeError(`${base}/api/v1/stats`, 'QiTian stats (time, tasks)');
  return body as unknown as StatsSnapshot;
}

/** GET /api/v1/topology: components with their kind and parallelism. */
export async function fetchTopology(base: string, opts: RequestOptions = {}): Promise<TopologyInfo> {
  const body = await getJson(base, '/api/v1/topology', opts);
  if (!isObject(body) || !Array.isArray(body.components)) throw shapeError(`${base}/api/v1/topology`, 'a QiTian topology (components)');
  return body as unknown as TopologyInfo;
}
