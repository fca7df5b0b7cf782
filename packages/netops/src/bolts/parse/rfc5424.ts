/**
 * RFC 5424 header and structured data, scanned with charCodeAt (no regular expressions). Rejects
 * exactly what influxdata/go-syslog's strict parser rejects, at the same place, with the same
 * words; on failure the fields read so far stay in the state, for the lenient fallback.
 */
import { civilMs, daysInMonth } from './time.js';
import type { StructuredData } from './types.js';

/** Why a message is not RFC 5424, with go-syslog's wording (without the `[col N]`). */
export const ERR_5424 = {
  pri: ['missing_pri', 'expecting a priority value within angle brackets'],
  prival: ['bad_pri', 'expecting a priority value in the range 1-191 or equal to 0'],
  version: ['bad_version', 'expecting a version value in the range 1-999'],
  timestamp: ['bad_timestamp', 'expecting a RFC3339MICRO timestamp or a nil value'],
  hostname: ['bad_hostname', 'expecting an hostname (from 1 to max 255 US-ASCII characters) or a nil value'],
  appname: ['bad_appname', 'expecting an app-name (from 1 to max 48 US-ASCII characters) or a nil value'],
  procid: ['bad_procid', 'expecting a procid (from 1 to max 128 US-ASCII characters) or a nil value'],
  msgid: ['bad_msgid', 'expecting a msgid (from 1 to max 32 US-ASCII characters) or a nil value'],
  sd: ['bad_structured_data', 'expecting a structured data section containing one or more elements (`[id( key="value")*]+`) or a nil value'],
  sdid: ['bad_sd_id', 'expecting a structured data element id (from 1 to max 32 US-ASCII characters; except `=`, ` `, `]`, and `"`'],
  sdidDup: ['duplicate_sd_id', 'duplicate structured data element id'],
  sdparam: [
    'bad_sd_param',
    'expecting a structured data parameter (`key="value"`, both part from 1 to max 32 US-ASCII characters; key cannot contain `=`, ` `, `]`, and `"`, while value cannot contain `]`, backslash, and `"` unless escaped)',
  ],
  escape: ['bad_sd_escape', 'expecting chars `]`, `"`, and `\\` to be escaped within param value'],
  msg: [
    'bad_msg_utf8',
    'expecting a free-form optional message in UTF-8 (starting with or without BOM) or a free-form optional message in any encoding (starting without BOM)',
  ],
  parse: ['parse_error', 'parsing error'],
  dayRange: ['bad_timestamp', ''],
} as const satisfies Record<string, readonly [string, string]>;

export type Err5424 = keyof typeof ERR_5424;

/** The fields of one RFC 5424 message; reused across messages by one parser. */
export class Rfc5424State {
  priority = -1;
  version = 0;
  /** Event time in ms since the epoch; NaN for the nil timestamp. */
  time = Number.NaN;
  tsStart = 0;
  tsEnd = 0;
  hostname: string | null = null;
  appname: string | null = null;
  procid: string | null = null;
  msgid: string | null = null;
  structured: StructuredData | null = null;
  /** Index of the structured data section; -1 until the header is complete. */
  sdStart = -1;
  /** Index of MSG; -1 when there is none. */
  msgStart = -1;
  /** On failure: what went wrong and where (a UTF-16 index into the input). */
  err: Err5424 = 'parse';
  errAt = 0;

  reset(): void {
    this.priority = -1;
    this.version = 0;
    this.time = Number.NaN;
    this.hostname = null;
    this.appname = null;
    this.procid = null;
    this.msgid = null;
    this.structured = null;
    this.sdStart = -1;
    this.msgStart = -1;
  }
}

const SP = 0x20;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isPrint = (c: number) => c >= 0x21 && c <= 0x7e;
/** SD-NAME characters: PRINTUSASCII except `=`, SP, `]`, `"`. */
const isSdName = (c: number) => c >= 0x21 && c <= 0x7e && c !== 0x3d && c !== 0x5d && c !== 0x22;

/**
 * Reads the PRI at 0 as go-syslog does: `<` then 0 or 1..191 without leading zeros, then `>`.
 * Returns the index after `>`, or -1 with st.err/errAt set.
 */
export function readPri(s: string, st: Rfc5424State): number {
  const n = s.length;
  if (n === 0 || s.charCodeAt(0) !== 0x3c) return fail(st, 'pri', 0);
  let i = 1;
  const c = i < n ? s.charCodeAt(i) : -1;
  if (!isDigit(c)) return fail(st, 'prival', i);
  i++;
  if (c !== 0x30) {
    const d = i < n ? s.charCodeAt(i) : -1;
    if (c === 0x31) {
      if (d === 0x39) {
        i++;
        const e = i < n ? s.charCodeAt(i) : -1;
        if (e === 0x30 || e === 0x31) i++;
      } else if (d >= 0x30 && d <= 0x38) {
        i++;
        if (i < n && isDigit(s.charCodeAt(i))) i++;
      }
    } else if (isDigit(d)) i++;
  }
  if (i >= n || s.charCodeAt(i) !== 0x3e) return fail(st, 'prival', i);
  let v = 0;
  for (let k = 1; k < i; k++) v = v * 10 + s.charCodeAt(k) - 0x30;
  st.priority = v;
  return i + 1;
}

function stop(st: Rfc5424State, err: Err5424, at: number): false {
  st.err = err;
  st.errAt = at;
  return false;
}

function fail(st: Rfc5424State, err: Err5424, at: number): -1 {
  st.err = err;
  st.errAt = at;
  return -1;
}

/** Two digits at i in [lo..hi] for the first and 0..9 or a limited second; -1 on failure. */
function two(s: string, i: number, n: number, firstMax: number, secondMaxIfFirstMax: number, st: Rfc5424State): number {
  const a = i < n ? s.charCodeAt(i) - 0x30 : -1;
  if (a < 0 || a > firstMax) return fail(st, 'timestamp', i);
  const b = i + 1 < n ? s.charCodeAt(i + 1) - 0x30 : -1;
  if (b < 0 || b > 9 || (a === firstMax && b > secondMaxIfFirstMax)) return fail(st, 'timestamp', i + 1);
  return a * 10 + b;
}

function expect(s: string, i: number, n: number, ch: number, st: Rfc5424State): boolean {
  if (i < n && s.charCodeAt(i) === ch) return true;
  fail(st, 'timestamp', i);
  return false;
}

/**
 * Reads a full RFC 3339 timestamp with at most 6 fraction digits at i (the RFC 5424 form).
 * Sets st.time; returns the index after it or -1. Day-of-month overflow is left to the caller
 * (go-syslog reports it after the field).
 */
export function readTimestamp(s: string, i: number, st: Rfc5424State): number {
  const n = s.length;
  let year = 0;
  for (let k = 0; k < 4; k++, i++) {
    const c = i < n ? s.charCodeAt(i) : -1;
    if (!isDigit(c)) return fail(st, 'timestamp', i);
    year = year * 10 + c - 0x30;
  }
  if (!expect(s, i, n, 0x2d, st)) return -1;
  i++;
  // month: 0[1-9] | 1[0-2]
  let c = i < n ? s.charCodeAt(i) : -1;
  let month: number;
  if (c === 0x30) {
    const d = i + 1 < n ? s.charCodeAt(i + 1) : -1;
    if (d < 0x31 || d > 0x39) return fail(st, 'timestamp', i + 1);
    month = d - 0x30;
  } else if (c === 0x31) {
    const d = i + 1 < n ? s.charCodeAt(i + 1) : -1;
    if (d < 0x30 || d > 0x32) return fail(st, 'timestamp', i + 1);
    month = 10 + d - 0x30;
  } else return fail(st, 'timestamp', i);
  i += 2;
  if (!expect(s, i, n, 0x2d, st)) return -1;
  i++;
  // day: 0[1-9] | [12][0-9] | 3[01]
  c = i < n ? s.charCodeAt(i) : -1;
  let day: number;
  {
    const d = i + 1 < n ? s.charCodeAt(i + 1) : -1;
    if (c === 0x30) {
      if (d < 0x31 || d > 0x39) return fail(st, 'timestamp', i + 1);
    } else if (c === 0x31 || c === 0x32) {
      if (!isDigit(d)) return fail(st, 'timestamp', i + 1);
    } else if (c === 0x33) {
      if (d !== 0x30 && d !== 0x31) return fail(st, 'timestamp', i + 1);
    } else return fail(st, 'timestamp', i);
    day = (c - 0x30) * 10 + d - 0x30;
  }
  i += 2;
  if (!expect(s, i, n, 0x54, st)) return -1; // 'T'
  i++;
  const h = hour(s, i, n, st);
  if (h < 0) return -1;
  i += 2;
  if (!expect(s, i, n, 0x3a, st)) return -1;
  i++;
  const mi = two(s, i, n, 5, 9, st);
  if (mi < 0) return -1;
  i += 2;
  if (!expect(s, i, n, 0x3a, st)) return -1;
  i++;
  const sec = two(s, i, n, 5, 9, st);
  if (sec < 0) return -1;
  i += 2;
  let ms = 0;
  c = i < n ? s.charCodeAt(i) : -1;
  if (c === 0x2e) {
    i++;
    let digits = 0;
    let frac = 0;
    while (i < n && isDigit(s.charCodeAt(i))) {
      if (digits === 6) return fail(st, 'timestamp', i);
      frac = frac * 10 + s.charCodeAt(i) - 0x30;
      digits++;
      i++;
    }
    if (digits === 0) return fail(st, 'timestamp', i);
    ms = Math.floor(frac / 10 ** (digits - 3));
    c = i < n ? s.charCodeAt(i) : -1;
  }
  let offset: number;
  if (c === 0x5a) {
    offset = 0;
    i++;
  } else if (c === 0x2b || c === 0x2d) {
    i++;
    const oh = hour(s, i, n, st);
    if (oh < 0) return -1;
    i += 2;
    if (!expect(s, i, n, 0x3a, st)) return -1;
    i++;
    const om = two(s, i, n, 5, 9, st);
    if (om < 0) return -1;
    i += 2;
    offset = (c === 0x2d ? -1 : 1) * (oh * 60 + om) * 60_000;
  } else return fail(st, 'timestamp', i);
  st.time = day > daysInMonth(year, month - 1) ? Number.NaN : civilMs(year, month - 1, day, h, mi, sec, ms) - offset;
  if (Number.isNaN(st.time)) st.time = Number.NEGATIVE_INFINITY; // marks a day out of range
  return i;
}

/** 00..23 at i. */
function hour(s: string, i: number, n: number, st: Rfc5424State): number {
  const a = i < n ? s.charCodeAt(i) : -1;
  const b = i + 1 < n ? s.charCodeAt(i + 1) : -1;
  if (a === 0x30 || a === 0x31) {
    if (!isDigit(b)) return fail(st, 'timestamp', i + 1);
  } else if (a === 0x32) {
    if (b < 0x30 || b > 0x33) return fail(st, 'timestamp', i + 1);
  } else return fail(st, 'timestamp', i);
  return (a - 0x30) * 10 + b - 0x30;
}

/** A header field of 1..max PRINTUSASCII or `-`; returns its end or -1. */
function field(s: string, i: number, max: number, err: Err5424, st: Rfc5424State): number {
  const n = s.length;
  const start = i;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (!isPrint(c)) break;
    if (i - start === max) return fail(st, err, i);
    i++;
  }
  if (i === start) return fail(st, err, i);
  if (i < n && s.charCodeAt(i) !== SP) return fail(st, err, i);
  if (i >= n) return fail(st, err, i);
  return i;
}

/**
 * Parses an RFC 5424 message (PRI included). Returns true on success; on failure st.err/errAt say
 * why and where, and the fields read before the failure are set.
 */
export function parse5424(s: string, st: Rfc5424State): boolean {
  st.reset();
  const n = s.length;
  let i = readPri(s, st);
  if (i < 0) return false;
  // VERSION: 1..999
  let c = i < n ? s.charCodeAt(i) : -1;
  if (c < 0x31 || c > 0x39) return stop(st, 'version', i);
  let version = c - 0x30;
  i++;
  for (let k = 0; k < 2 && i < n && isDigit(s.charCodeAt(i)); k++, i++) version = version * 10 + s.charCodeAt(i) - 0x30;
  if (i < n && isDigit(s.charCodeAt(i))) return stop(st, 'version', i);
  if (i >= n || s.charCodeAt(i) !== SP) return stop(st, 'parse', i);
  st.version = version;
  i++;
  // TIMESTAMP
  st.tsStart = i;
  c = i < n ? s.charCodeAt(i) : -1;
  if (c === 0x2d) i++;
  else {
    i = readTimestamp(s, i, st);
    if (i < 0) return false;
    if (i < n && s.charCodeAt(i) !== SP) return stop(st, 'parse', i);
    if (st.time === Number.NEGATIVE_INFINITY) {
      st.tsEnd = i;
      return stop(st, 'dayRange', i);
    }
  }
  st.tsEnd = i;
  if (i >= n || s.charCodeAt(i) !== SP) return stop(st, 'parse', i);
  i++;
  // HOSTNAME APP-NAME PROCID MSGID
  let start = i;
  i = field(s, i, 255, 'hostname', st);
  if (i < 0) return false;
  st.hostname = nilOr(s, start, i);
  start = ++i;
  i = field(s, i, 48, 'appname', st);
  if (i < 0) return false;
  st.appname = nilOr(s, start, i);
  start = ++i;
  i = field(s, i, 128, 'procid', st);
  if (i < 0) return false;
  st.procid = nilOr(s, start, i);
  start = ++i;
  i = field(s, i, 32, 'msgid', st);
  if (i < 0) return false;
  st.msgid = nilOr(s, start, i);
  i++;
  // STRUCTURED-DATA
  st.sdStart = i;
  c = i < n ? s.charCodeAt(i) : -1;
  if (c === 0x2d) i++;
  else if (c === 0x5b) {
    i = readStructuredData(s, i, st);
    if (i < 0) return false;
  } else return stop(st, 'sd', i);
  if (i >= n) return true;
  if (s.charCodeAt(i) !== SP) return stop(st, 'parse', i);
  st.msgStart = i + 1;
  return true;
}

function nilOr(s: string, start: number, end: number): string | null {
  return end - start === 1 && s.charCodeAt(start) === 0x2d ? null : s.slice(start, end);
}

/** One or more SD-ELEMENTs from `[` at i; returns the index after the last `]` or -1. */
function readStructuredData(s: string, i: number, st: Rfc5424State): number {
  const n = s.length;
  const sd: StructuredData = {};
  st.structured = sd;
  while (i < n && s.charCodeAt(i) === 0x5b) {
    i++;
    // SD-ID
    const idStart = i;
    while (i < n && isSdName(s.charCodeAt(i))) {
      if (i - idStart === 32) return fail(st, 'sdid', i);
      i++;
    }
    if (i === idStart) return fail(st, 'sdid', i);
    let c = i < n ? s.charCodeAt(i) : -1;
    if (c !== SP && c !== 0x5d) return fail(st, 'sdid', i);
    const id = s.slice(idStart, i);
    if (Object.hasOwn(sd, id)) return fail(st, 'sdidDup', i);
    const params: Record<string, string> = {};
    sd[id] = params;
    // (SP SD-PARAM)*
    while (c === SP) {
      i++;
      const nameStart = i;
      while (i < n && isSdName(s.charCodeAt(i))) {
        if (i - nameStart === 32) return fail(st, 'sdparam', i);
        i++;
      }
      if (i === nameStart) return fail(st, 'sdparam', i);
      const name = s.slice(nameStart, i);
      if (i >= n || s.charCodeAt(i) !== 0x3d) return fail(st, 'sdparam', i);
      i++;
      if (i >= n || s.charCodeAt(i) !== 0x22) return fail(st, 'sdparam', i);
      i++;
      const valueStart = i;
      let escaped = false;
      for (;;) {
        if (i >= n) return fail(st, 'sdparam', i);
        const v = s.charCodeAt(i);
        if (v === 0x22) break;
        if (v === 0x5d) return fail(st, 'escape', i);
        if (v === 0x5c) {
          const e = i + 1 < n ? s.charCodeAt(i + 1) : -1;
          if (e !== 0x22 && e !== 0x5d && e !== 0x5c) return fail(st, 'escape', i + 1);
          escaped = true;
          i += 2;
          continue;
        }
        i++;
      }
      params[name] = escaped ? unescapeParam(s, valueStart, i) : s.slice(valueStart, i);
      i++; // closing quote
      c = i < n ? s.charCodeAt(i) : -1;
      if (c !== SP && c !== 0x5d) return fail(st, 'sdparam', i);
    }
    i++; // ']'
  }
  return i;
}

function unescapeParam(s: string, start: number, end: number): string {
  let out = '';
  let from = start;
  for (let i = start; i < end; i++) {
    if (s.charCodeAt(i) === 0x5c) {
      out += s.slice(from, i);
      from = i + 1;
      i++;
    }
  }
  return out + s.slice(from, end);
}
