/**
 * A GET over node:http for the CLI's endpoint clients (top, tap). Not fetch: fetch refuses the
 * ports the Fetch standard blocks for browsers (6000, 6665-6669, 10080...), which `qitian run
 * --metrics-port` serves like any other, so `qitian top` could not reach a run it was told to.
 */
import { request } from 'node:http';
import type { Readable } from 'node:stream';

export interface HttpAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  /** A response header (lower-case name), or null. */
  header(name: string): string | null;
  /** The whole body as text. */
  text(): Promise<string>;
  /** The body as it arrives. */
  readonly body: AsyncIterable<Uint8Array>;
}

/**
 * GETs `url`; resolves once the status line and headers are in. Rejects with the socket's error
 * (its `code`: ECONNREFUSED...) or, when `signal` aborts, with the signal's reason; an abort later
 * destroys the body, whose iteration then rejects.
 */
export function httpGet(url: string, opts: { signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    if (target.protocol !== 'http:') {
      reject(new Error(`unsupported protocol ${target.protocol} (the endpoint speaks http:)`));
      return;
    }
    const req = request(target, { method: 'GET', headers: opts.headers, signal: opts.signal }, (res) => {
      const status = res.statusCode ?? 0;
      resolve({
        status,
        statusText: res.statusMessage ?? '',
        ok: status >= 200 && status < 300,
        header: (name) => {
          const v = res.headers[name];
          return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
        },
        text: () => readAll(res),
        body: res,
      });
    });
    req.on('error', (err) => reject(opts.signal?.aborted ? opts.signal.reason : err));
    req.end();
  });
}

async function readAll(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
