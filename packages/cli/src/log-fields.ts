/**
 * The fields of a log record as `key=value` pairs after the message (logfmt), so that what a
 * component says about where (a path, an offset, a peer) reaches the operator. `component`,
 * `task` and `stack` are shown elsewhere, so they are left out here.
 */
const SHOWN_ELSEWHERE = new Set(['component', 'task', 'stack']);
/** A value longer than this is cut: a log line is read by people, not parsed back. */
const MAX_VALUE_CHARS = 200;

export function formatLogFields(fields: Readonly<Record<string, unknown>> | undefined): string {
  if (fields === undefined) return '';
  let out = '';
  for (const key of Object.keys(fields)) {
    if (SHOWN_ELSEWHERE.has(key)) continue;
    const v = fields[key];
    if (v === undefined) continue;
    out += ` ${key}=${formatValue(v)}`;
  }
  return out;
}

function formatValue(v: unknown): string {
  let text: string;
  if (typeof v === 'string') text = /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === null) text = String(v);
  else if (v instanceof Error) text = JSON.stringify(v.message);
  else {
    try {
      text = JSON.stringify(v) ?? String(v);
    } catch {
      text = String(v);
    }
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}
