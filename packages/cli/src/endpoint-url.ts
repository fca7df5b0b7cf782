/** Where `qitian top` and `qitian tap` find a running topology's endpoint. */
import { UsageError } from './errors.js';

/** The address `qitian run --metrics-port 9464` serves. */
export const DEFAULT_URL = 'http://127.0.0.1:9464';

/**
 * The endpoint's base URL from what a user may type: `http://host:port`, with or without a
 * trailing `/metrics` or slash, `host:port` without a scheme, or a bare port (on 127.0.0.1).
 */
export function endpointBase(input: string): string {
  let u = input.trim();
  if (/^\d+$/.test(u)) u = `127.0.0.1:${u}`;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) u = `http://${u}`;
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    throw new UsageError(`--url: "${input}" is not a URL (expected what qitian run --metrics-port prints, e.g. ${DEFAULT_URL})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--url: "${input}" is not an http:// URL`);
  const path = parsed.pathname.replace(/\/+$/, '').replace(/\/metrics$/, '');
  return `${parsed.protocol}//${parsed.host}${path}`;
}
