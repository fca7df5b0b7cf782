/**
 * The syslog parser behind the `syslog-parse` bolt: RFC 5424, RFC 3164 and the forms network
 * devices send (Cisco sequence numbers and `*Mmm dd hh:mm:ss.mmm TZ:` stamps, NX-OS and PIX
 * years, ISO timestamps in 3164 headers, Huawei/H3C and Juniper bodies), then vendor event type
 * and addresses. Lenient by default (every message comes out as an event); strict rejects what
 * the RFCs reject. Scans with indexOf/charCodeAt; no regular expression on the hot path.
 */
import { extractAddresses, structuredAddresses } from './address.js';
import { ERR_5424, type Err5424, parse5424, Rfc5424State, readPri } from './rfc5424.js';
import { abbreviationOffset, civilMs, daysInMonth, inferYear, monthAt, TimeZone } from './time.js';
import { newEvent, type StructuredData, type SyslogEvent, SyslogReject } from './types.js';
import { match, vendorAt } from './vendor.js';

export interface SyslogParserOptions {
  /** Reject what RFC 5424 / RFC 3164 reject instead of passing it on best-effort. */
  readonly strict?: boolean;
  /** Zone of timestamps that carry none: `UTC` (default), an offset, or an IANA name. */
  readonly timezone?: string;
}

const SP = 0x20;
const TAB = 0x09;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isPrint = (c: number) => c >= 0x21 && c <= 0x7e;

/** Reason codes and texts of the strict RFC 3164 checks (the PRI ones are go-syslog's). */
const ERR_3164 = {
  timestamp: ['bad_timestamp', 'expecting a RFC3164 timestamp (Mmm dd hh:mm:ss)'],
  hostname: ['bad_hostname', 'expecting a hostname (1 or more US-ASCII printable characters) after the timestamp'],
} as const;

/** A timestamp the lenient reader found; module state, read right after readTimestampAt. */
const ts = { year: -1, month: 0, day: 0, h: 0, mi: 0, s: 0, ms: 0, offset: Number.NaN };

const utf8Decoder = new TextDecoder('utf-8');

export class SyslogParser {
  readonly strict: boolean;
  readonly zone: TimeZone;
  private readonly st = new Rfc5424State();
  private readonly fixedZones = new Map<number, TimeZone>();
  /**
   * Input without a receive time (a file replayed): the time of the last event, which a message
   * without a timestamp takes, as Splunk gives such an event its predecessor's time. `now` would
   * put one such line of a replay in the present and every later event behind the watermark.
   */
  private lastTime = Number.NaN;
  /** The time of a message without a timestamp, for the message being parsed. */
  private untimed = 0;

  constructor(opts: SyslogParserOptions = {}) {
    this.strict = opts.strict ?? false;
    this.zone = new TimeZone(opts.timezone ?? 'UTC');
  }

  /**
   * Parses one message. `receivedAt` (ms) anchors the year of year-less timestamps and is the
   * time of messages without one; when absent, the year is anchored on now and a message without
   * a timestamp takes the time of the event before it (now for the first). `peer` is the host
   * when the header names none.
   */
  parse(input: string | Uint8Array, receivedAt?: number | null, peer?: string | null): SyslogEvent | SyslogReject {
    let s: string;
    let bytes: Uint8Array | undefined;
    if (typeof input === 'string') s = input;
    else {
      bytes = input;
      s = utf8Decoder.decode(input);
    }
    const received = typeof receivedAt === 'number' && Number.isFinite(receivedAt);
    const ref = received ? receivedAt : Date.now();
    this.untimed = received || Number.isNaN(this.lastTime) ? ref : this.lastTime;
    const peerHost = peer ? peerAddress(peer) : null;
    const out = this.strict ? this.parseStrict(s, bytes, ref, peerHost) : this.parseLenient(s, ref, peerHost);
    if (!received && !(out instanceof SyslogReject)) this.lastTime = out.time;
    return out;
  }

  private parseStrict(s: string, bytes: Uint8Array | undefined, ref: number, peerHost: string | null): SyslogEvent | SyslogReject {
    const st = this.st;
    const i = readPri(s, st);
    if (i < 0) return reject5424(s, st.err, st.errAt);
    if (i < s.length && monthAt(s, i) >= 0) return this.strict3164(s, i, st.priority, ref, peerHost);
    if (!parse5424(s, st)) return reject5424(s, st.err, st.errAt, st.tsStart, st.tsEnd);
    if (bytes !== undefined && st.msgStart >= 0) {
      const bad = badUtf8AfterBom(bytes, utf8Offset(s, st.msgStart));
      if (bad >= 0) return new SyslogReject(ERR_5424.msg[0], bad + 1, `${ERR_5424.msg[1]} [col ${bad}]`);
    }
    return this.event5424(s, peerHost);
  }

  private parseLenient(s: string, ref: number, peerHost: string | null): SyslogEvent {
    const st = this.st;
    let i = readPri(s, st);
    let pri = st.priority;
    if (i < 0) {
      pri = -1;
      i = 0;
    } else if (i < s.length && isDigit(s.charCodeAt(i))) {
      if (parse5424(s, st)) return this.event5424(s, peerHost);
      if (st.sdStart >= 0) {
        // a good header and broken structured data: read it loosely, else it is part of the message
        looseStructuredData(s, st.sdStart, st);
        return this.event5424(s, peerHost);
      }
    }
    if (this.loose5424(s, i, pri, ref)) return this.event5424(s, peerHost);
    return this.lenient3164(s, i, pri, ref, peerHost);
  }

  /**
   * An RFC 5424 header the strict parser refused (fields too long, a timestamp without offset,
   * no PRI): VERSION SP TIMESTAMP SP then four space-separated fields, structured data read
   * loosely. False when it does not look like one.
   */
  private loose5424(s: string, i: number, pri: number, ref: number): boolean {
    const n = s.length;
    let j = i;
    while (j < n && j - i < 3 && isDigit(s.charCodeAt(j))) j++;
    if (j === i || j >= n || s.charCodeAt(j) !== SP || s.charCodeAt(i) === 0x30) return false;
    j++;
    const st = this.st;
    st.reset();
    st.priority = pri;
    if (s.charCodeAt(j) === 0x2d && s.charCodeAt(j + 1) === SP) j++;
    else {
      if (!isDigit(s.charCodeAt(j))) return false;
      const end = timestampAt(s, j);
      if (end < 0 || s.charCodeAt(end) !== SP) return false;
      st.time = this.instant(ref);
      j = end;
    }
    const fields: (string | null)[] = [];
    for (let f = 0; f < 4; f++) {
      if (j >= n || s.charCodeAt(j) !== SP) return false;
      j++;
      let e = s.indexOf(' ', j);
      if (e < 0) e = n;
      if (e === j) return false;
      fields.push(e - j === 1 && s.charCodeAt(j) === 0x2d ? null : s.slice(j, e));
      j = e;
    }
    [st.hostname, st.appname, st.procid, st.msgid] = fields as [string | null, string | null, string | null, string | null];
    if (j >= n) return true;
    j++;
    if (s.charCodeAt(j) === 0x2d && (j + 1 === n || s.charCodeAt(j + 1) === SP)) st.msgStart = j + 2 <= n ? j + 2 : -1;
    else looseStructuredData(s, j, st);
    return true;
  }

  private event5424(s: string, peerHost: string | null): SyslogEvent {
    const st = this.st;
    let message = st.msgStart >= 0 ? s.slice(st.msgStart) : '';
    if (message.charCodeAt(0) === 0xfeff) message = message.slice(1);
    const ev = newEvent(st.priority, Number.isNaN(st.time) ? this.untimed : st.time, st.hostname ?? peerHost, 'rfc5424', true);
    ev.app = st.appname;
    ev.procid = st.procid;
    ev.msgid = st.msgid;
    ev.message = message;
    ev.structured = st.structured;
    if (st.structured !== null) {
      for (const id in st.structured) {
        if (id.includes('@2636')) {
          ev.vendor = 'juniper';
          ev.eventType = st.msgid;
          break;
        }
      }
      structuredAddresses(st.structured, ev);
    }
    if (ev.eventType === null && st.msgStart >= 0) {
      let at = st.msgStart;
      if (s.charCodeAt(at) === 0xfeff) at++;
      // A relay writing a 3164 line as 5424 (rsyslog's RSYSLOG_SyslogProtocol23Format) keeps the
      // space after its TAG, and a Cisco sequence number or stamp before the body (it took
      // "1043:" for the TAG): " *Dec  3 06:00:00.123 UTC: %LINK-3-UPDOWN: ...". MSG stays as sent.
      if (vendorAt(s, ciscoBodyAt(s, skipSpaces(s, at)))) setVendor(ev, false);
    }
    if (ev.eventType === null) ev.eventType = ev.app;
    if (message.length > 0) extractAddresses(message, ev);
    return ev;
  }

  /** Strict RFC 3164: PRI, `Mmm dd hh:mm:ss`, SP, HOSTNAME, then MSG (with an optional TAG). */
  private strict3164(s: string, i: number, pri: number, ref: number, peerHost: string | null): SyslogEvent | SyslogReject {
    const n = s.length;
    const at = i;
    let end = bsdStrict(s, i);
    if (end < 0) return reject3164(s, 'timestamp', -end - 1);
    const time = inferYear(ts.month, ts.day, ts.h, ts.mi, ts.s, 0, ref, this.zone);
    if (Number.isNaN(time)) return reject3164(s, 'timestamp', at + 4);
    if (end >= n || s.charCodeAt(end) !== SP) return reject3164(s, 'timestamp', end);
    end++;
    const hostStart = end;
    while (end < n && isPrint(s.charCodeAt(end))) end++;
    if (end === hostStart || (end < n && s.charCodeAt(end) !== SP)) return reject3164(s, 'hostname', end);
    const ev = newEvent(pri, time, s.slice(hostStart, end), 'rfc3164', true);
    this.body3164(s, end < n ? end + 1 : n, ev, pri < 0);
    if (ev.host === null) ev.host = peerHost;
    return ev;
  }

  private lenient3164(s: string, i: number, pri: number, ref: number, peerHost: string | null): SyslogEvent {
    const n = s.length;
    let host: string | null = null;
    let j = skipSpaces(s, i);
    // Cisco sequence number "521: ", or an RFC 5424 VERSION before a timestamp the 5424 parser refused
    {
      let k = j;
      while (k < n && isDigit(s.charCodeAt(k))) k++;
      if (k > j && k + 1 < n && s.charCodeAt(k) === 0x3a && s.charCodeAt(k + 1) === SP) j = skipSpaces(s, k + 2);
      else if (k > j && k - j <= 3 && k < n && s.charCodeAt(k) === SP && timestampAt(s, k + 1) >= 0) j = k + 1;
      else if (k === j && k + 1 < n && s.charCodeAt(k) === 0x3a && s.charCodeAt(k + 1) === SP) {
        // No sequence number, no host (NX-OS, IOS without `service sequence-numbers`): "<189>: 2026 Dec  2 10:11:12 UTC: %ETHPORT-..."
        const m = skipSpaces(s, k + 2);
        const c = s.charCodeAt(m);
        if (timestampAt(s, c === 0x2a || c === 0x2e ? m + 1 : m) >= 0) j = m;
      }
    }
    let end = timestampAt(s, j);
    let bodyAt = -1;
    if (end < 0 && j < n) {
      // "host: *Mmm dd ...:", "host: %FAC-...", "host NODE/ID:Mmm dd ..." or "NODE/ID:Mmm dd ..." (IOS-XR)
      let tokEnd = s.indexOf(' ', j);
      if (tokEnd < 0) tokEnd = n;
      const inner = s.indexOf(':', j);
      if (inner > j && inner < tokEnd - 1 && s.charCodeAt(j) !== 0x25) end = timestampAt(s, inner + 1);
      if (end >= 0) {
        // a node id glued to the timestamp, no host
      } else if (tokEnd - j > 1 && s.charCodeAt(tokEnd - 1) === 0x3a) {
        const k = skipSpaces(s, tokEnd);
        const e = timestampAt(s, k);
        if (e >= 0) {
          host = s.slice(j, tokEnd - 1);
          end = e;
        } else if (k < n && s.charCodeAt(k) === 0x25) {
          host = s.slice(j, tokEnd - 1);
          bodyAt = k;
        }
      } else if (tokEnd < n) {
        const k = tokEnd + 1;
        const colon = s.indexOf(':', k);
        if (colon > k && colon - k < 48 && s.indexOf(' ', k) > colon) {
          const e = timestampAt(s, colon + 1);
          if (e >= 0) {
            host = s.slice(j, tokEnd);
            end = e;
          }
        }
      }
    }
    let time = this.untimed;
    const hasTime = end >= 0;
    if (hasTime) {
      time = this.instant(ref);
      if (Number.isNaN(time)) time = this.untimed;
      j = skipSpaces(s, end);
      if (j < n && s.charCodeAt(j) === 0x3a) j = skipSpaces(s, j + 1);
      if (host === null && j < n && s.charCodeAt(j) !== 0x25) {
        let tokEnd = s.indexOf(' ', j);
        if (tokEnd < 0) tokEnd = n;
        const last = s.charCodeAt(tokEnd - 1);
        // a token ending in ':' is the TAG, unless it is an IPv6 address ending in '::'
        if (s.startsWith('Message forwarded from ', j)) {
          // AIX: "Message forwarded from host: tag[pid]: ..."
          const colon = s.indexOf(': ', j + 23);
          if (colon > 0) {
            host = s.slice(j + 23, colon);
            j = skipSpaces(s, colon + 1);
          }
        } else if (tokEnd < n && (last !== 0x3a || s.charCodeAt(tokEnd - 2) === 0x3a) && s.charCodeAt(j) !== 0x5b) {
          host = s.slice(j, tokEnd);
          j = skipSpaces(s, tokEnd);
          // "host : %FTD-6-305012: ..."
          if (j + 1 < n && s.charCodeAt(j) === 0x3a && s.charCodeAt(j + 1) === SP) j = skipSpaces(s, j + 1);
        }
      }
    } else if (bodyAt >= 0) j = bodyAt;
    // A relay (rsyslog, syslog-ng) put its own header before the device's: "host 3456: *Dec  2
    // 10:11:12.345 UTC: %LINK-3-UPDOWN: ...". The sequence number is not the TAG: the Cisco body is.
    if (hasTime || host !== null) j = afterCiscoSequence(s, j);
    const parsed = pri >= 0 || hasTime || host !== null;
    if (!parsed) {
      const ev = newEvent(-1, this.untimed, peerHost, 'unknown', false);
      ev.message = s;
      if (vendorAt(s, skipSpaces(s, 0))) setVendor(ev, true);
      extractAddresses(s, ev);
      return ev;
    }
    const ev = newEvent(pri, time, host ?? peerHost, 'rfc3164', true);
    this.body3164(s, j, ev, pri < 0);
    return ev;
  }

  /** TAG (`name[pid]:`, `name:`), MSG, vendor body and addresses, from i. */
  private body3164(s: string, i: number, ev: SyslogEvent, noPri: boolean): void {
    const n = s.length;
    let msgAt = i;
    const tagAt = i;
    let k = i;
    while (k < n) {
      const c = s.charCodeAt(k);
      if (c === SP || c === 0x3a || c === 0x5b || c === TAB) break;
      k++;
    }
    const nameLen = k - i;
    if (nameLen > 0 && nameLen <= 128) {
      const c = k < n ? s.charCodeAt(k) : -1;
      if (c === 0x5b) {
        const close = s.indexOf(']', k);
        if (close > k && close - k <= 32) {
          ev.app = s.slice(i, k);
          ev.procid = s.slice(k + 1, close);
          msgAt = close + 1;
          if (msgAt < n && s.charCodeAt(msgAt) === 0x3a) msgAt++;
        }
      } else if (c === 0x3a) {
        const d = k + 1 < n ? s.charCodeAt(k + 1) : SP;
        if (d === SP) {
          ev.app = s.slice(i, k);
          msgAt = k + 1;
        }
      } else if (c === -1) {
        ev.app = s.slice(i, k);
        msgAt = n;
      } else if (c === TAB) {
        // Snare / NXLog Windows events: "MSWinEventLog<TAB>1<TAB>Security<TAB>..."
        ev.app = s.slice(i, k);
        msgAt = k + 1;
      } else if (s.charCodeAt(i) === 0x25 && k + 1 < n && s.charCodeAt(k + 1) === 0x3a) {
        // IOS-XR: "%FAC-SUB-SEV-MNEMONIC : text"
        ev.app = s.slice(i, k);
        msgAt = k + 2;
      }
    }
    msgAt = skipSpaces(s, msgAt);
    ev.message = msgAt < n ? s.slice(msgAt) : '';
    // a Cisco or Huawei mnemonic in the TAG, else a body at the start of MSG, else a Juniper-style TAG
    const tagVendor = ev.app !== null && vendorAt(s, tagAt);
    if (tagVendor && match.vendor !== 'juniper') setVendor(ev, noPri);
    else if (vendorAt(s, msgAt) || (tagVendor && vendorAt(s, tagAt))) setVendor(ev, noPri);
    if (ev.eventType === null) ev.eventType = ev.app;
    if (ev.message.length > 0) {
      extractAddresses(ev.message, ev);
      if (ev.vendor === 'cisco') outboundInitiator(ev);
    }
  }

  /** The instant of the timestamp in `ts`. */
  private instant(ref: number): number {
    let zone = this.zone;
    if (!Number.isNaN(ts.offset)) {
      zone = this.fixedZones.get(ts.offset) ?? new TimeZone(offsetName(ts.offset));
      this.fixedZones.set(ts.offset, zone);
    }
    if (ts.year < 0) return inferYear(ts.month, ts.day, ts.h, ts.mi, ts.s, ts.ms, ref, zone);
    if (ts.day > daysInMonth(ts.year, ts.month)) return Number.NaN;
    return zone.toUtc(civilMs(ts.year, ts.month, ts.day, ts.h, ts.mi, ts.s, ts.ms));
  }
}

function setVendor(ev: SyslogEvent, useSeverity: boolean): void {
  ev.vendor = match.vendor;
  ev.eventType = match.eventType;
  if (useSeverity && match.severity >= 0) ev.severity = match.severity;
}

/**
 * After a Cisco sequence number ("3456: ") and the device's own stamp ("*Dec  2 10:11:12.345 UTC: "),
 * where the `%FACILITY-SEV-MNEMONIC` body starts; `i` itself when that is not what is there.
 */
function afterCiscoSequence(s: string, i: number): number {
  const n = s.length;
  let k = i;
  while (k < n && isDigit(s.charCodeAt(k))) k++;
  if (k === i || k + 1 >= n || s.charCodeAt(k) !== 0x3a || s.charCodeAt(k + 1) !== SP) return i;
  k = skipSpaces(s, k + 2);
  if (k < n && s.charCodeAt(k) === 0x25) return k;
  const body = stampThenBody(s, k);
  return body < 0 ? i : body;
}

/**
 * A device stamp at `i` ("*Dec  2 10:11:12.345 UTC: ": "*" clock not set, "." not synchronised),
 * then a `%` body: where the body starts, else -1.
 */
function stampThenBody(s: string, i: number): number {
  const n = s.length;
  let k = i;
  if (k < n && (s.charCodeAt(k) === 0x2a || s.charCodeAt(k) === 0x2e)) k++;
  const end = timestampAt(s, k);
  if (end < 0) return -1;
  k = skipSpaces(s, end);
  if (k < n && s.charCodeAt(k) === 0x3a) k = skipSpaces(s, k + 1);
  return k < n && s.charCodeAt(k) === 0x25 ? k : -1;
}

/**
 * ASA/FTD "Built outbound ... connection N for outside:A/p to inside:B/q": the connection was made
 * from B (inside) to A, so B is the source, though "to" names it.
 */
function outboundInitiator(ev: SyslogEvent): void {
  if (!ev.message.startsWith('Built outbound ') || ev.srcIp === null || ev.dstIp === null) return;
  const ip = ev.srcIp;
  ev.srcIp = ev.dstIp;
  ev.dstIp = ip;
  const port = ev.srcPort;
  ev.srcPort = ev.dstPort;
  ev.dstPort = port;
}

/**
 * Where a Cisco `%FAC-SEV-MNEMONIC` body starts after an optional sequence number ("1043: ") and
 * device stamp ("*Dec  3 06:00:00.123 UTC: "); `i` itself when neither is there.
 */
function ciscoBodyAt(s: string, i: number): number {
  const k = afterCiscoSequence(s, i);
  if (k !== i) return k;
  const body = stampThenBody(s, i);
  return body < 0 ? i : body;
}

function skipSpaces(s: string, i: number): number {
  while (i < s.length && s.charCodeAt(i) === SP) i++;
  return i;
}

function offsetName(ms: number): string {
  const m = Math.abs(ms) / 60_000;
  return `${ms < 0 ? '-' : '+'}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/** The host of a peer `ip`, `ip:port` or `[v6]:port`. */
export function peerAddress(peer: string): string {
  if (peer.charCodeAt(0) === 0x5b) {
    const close = peer.indexOf(']');
    return close > 0 ? peer.slice(1, close) : peer;
  }
  const colon = peer.indexOf(':');
  if (colon > 0 && peer.indexOf(':', colon + 1) < 0) return peer.slice(0, colon);
  return peer;
}

/** UTF-8 length of s[0..i). */
export function utf8Offset(s: string, i: number): number {
  let bytes = 0;
  for (let k = 0; k < i; k++) {
    const c = s.charCodeAt(k);
    if (c < 0x80) bytes++;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && k + 1 < i) {
      bytes += 4;
      k++;
    } else bytes += 3;
  }
  return bytes;
}

function reject5424(s: string, err: Err5424, at: number, tsStart = 0, tsEnd = 0): SyslogReject {
  const col = utf8Offset(s, at);
  const [reason, text] = ERR_5424[err];
  const words = err === 'dayRange' ? `parsing time "${s.slice(tsStart, tsEnd)}": day out of range` : text;
  return new SyslogReject(reason, col + 1, `${words} [col ${col}]`);
}

function reject3164(s: string, err: keyof typeof ERR_3164, at: number): SyslogReject {
  const col = utf8Offset(s, at);
  const [reason, text] = ERR_3164[err];
  return new SyslogReject(reason, col + 1, `${text} [col ${col}]`);
}

/**
 * When MSG (at byte `from`) starts with a BOM, RFC 5424 requires UTF-8 after it: the byte
 * offset where the UTF-8 goes wrong (as go-syslog counts it), else -1.
 */
export function badUtf8AfterBom(b: Uint8Array, from: number): number {
  if (!(b[from] === 0xef && b[from + 1] === 0xbb && b[from + 2] === 0xbf)) return -1;
  const n = b.length;
  let i = from + 3;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i;
    i++;
    for (let k = 0; k < need; k++, i++) {
      if (i >= n) return i;
      const d = b[i]!;
      if (k === 0 ? d < lo || d > hi : d < 0x80 || d > 0xbf) return i;
    }
  }
  return -1;
}

/** Two digits at i as a number, -1 when not two digits. */
function num2(s: string, i: number): number {
  if (i + 1 >= s.length) return -1;
  const a = s.charCodeAt(i) - 0x30;
  const b = s.charCodeAt(i + 1) - 0x30;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

/** `hh:mm:ss` at i into ts; the index after it or -1. */
function clockAt(s: string, i: number): number {
  const h = num2(s, i);
  if (h < 0 || h > 23 || s.charCodeAt(i + 2) !== 0x3a) return -1;
  const mi = num2(s, i + 3);
  if (mi < 0 || mi > 59 || s.charCodeAt(i + 5) !== 0x3a) return -1;
  const sec = num2(s, i + 6);
  if (sec < 0 || sec > 60) return -1;
  ts.h = h;
  ts.mi = mi;
  ts.s = sec === 60 ? 59 : sec;
  ts.ms = 0;
  return i + 8;
}

/** Optional `.fff...` (or Comware `:fff`) after a clock; returns the index after it. */
function fractionAt(s: string, i: number): number {
  const n = s.length;
  const c = i < n ? s.charCodeAt(i) : -1;
  if (c === 0x2e) {
    let j = i + 1;
    let ms = 0;
    let digits = 0;
    while (j < n && isDigit(s.charCodeAt(j))) {
      if (digits < 3) ms = ms * 10 + s.charCodeAt(j) - 0x30;
      digits++;
      j++;
    }
    for (let d = digits; d < 3; d++) ms *= 10;
    ts.ms = ms;
    // Huawei writes a further ".n"
    if (j + 1 < n && s.charCodeAt(j) === 0x2e && isDigit(s.charCodeAt(j + 1))) {
      j++;
      while (j < n && isDigit(s.charCodeAt(j))) j++;
    }
    return j;
  }
  if (c === 0x3a && i + 4 <= n && isDigit(s.charCodeAt(i + 1)) && isDigit(s.charCodeAt(i + 2)) && isDigit(s.charCodeAt(i + 3))) {
    if (i + 4 === n || !isDigit(s.charCodeAt(i + 4))) {
      ts.ms = (s.charCodeAt(i + 1) - 0x30) * 100 + (s.charCodeAt(i + 2) - 0x30) * 10 + s.charCodeAt(i + 3) - 0x30;
      return i + 4;
    }
  }
  return i;
}

/** Four digits at i followed by a space or the end: a year, else -1. */
function yearAt(s: string, i: number): number {
  if (i + 4 > s.length) return -1;
  let y = 0;
  for (let k = 0; k < 4; k++) {
    const c = s.charCodeAt(i + k);
    if (!isDigit(c)) return -1;
    y = y * 10 + c - 0x30;
  }
  return i + 4 === s.length || s.charCodeAt(i + 4) === SP ? y : -1;
}

/** A zone after a timestamp: ` UTC`, ` CEST`, `Z`, `+08:00`, ` +0800`; sets ts.offset, returns the end. */
function zoneAt(s: string, i: number): number {
  const n = s.length;
  if (i >= n) return i;
  let c = s.charCodeAt(i);
  if (c === 0x5a) {
    ts.offset = 0;
    return i + 1;
  }
  let j = i;
  if (c === SP) {
    j++;
    c = j < n ? s.charCodeAt(j) : -1;
  }
  if (c === 0x2b || c === 0x2d) {
    const h = num2(s, j + 1);
    if (h < 0 || h > 23) return i;
    let k = j + 3;
    if (k < n && s.charCodeAt(k) === 0x3a) k++;
    const m = num2(s, k);
    if (m < 0 || m > 59) return i;
    k += 2;
    if (k < n && s.charCodeAt(k) !== SP && s.charCodeAt(k) !== 0x3a) return i;
    ts.offset = (c === 0x2d ? -1 : 1) * (h * 60 + m) * 60_000;
    return k;
  }
  if (c >= 0x41 && c <= 0x5a && j > i) {
    let k = j;
    while (k < n && k - j < 5 && s.charCodeAt(k) >= 0x41 && s.charCodeAt(k) <= 0x5a) k++;
    if (k < n && s.charCodeAt(k) !== SP && s.charCodeAt(k) !== 0x3a) return i;
    const off = abbreviationOffset(s.slice(j, k));
    if (off === undefined) return i;
    ts.offset = off;
    return k;
  }
  return i;
}

/**
 * A timestamp at i in any of the forms seen in 3164 headers, into `ts`; returns its end or -1:
 * `Mmm dd hh:mm:ss[.fff]`, `Mmm dd yyyy hh:mm:ss` (PIX/ASA), `Mmm dd hh:mm:ss yyyy`,
 * `yyyy Mmm dd hh:mm:ss` (NX-OS), `yyyy-mm-ddThh:mm:ss[.f][Z|±hh:mm]` (also with a space for T
 * and one-digit month/day), each optionally after `*` or `.` (Cisco) and before a zone.
 */
export function timestampAt(s: string, i: number): number {
  const n = s.length;
  if (i >= n) return -1;
  let c = s.charCodeAt(i);
  if (c === 0x2a || c === 0x2e) {
    i++;
    c = i < n ? s.charCodeAt(i) : -1;
  }
  ts.year = -1;
  ts.offset = Number.NaN;
  ts.ms = 0;
  let j: number;
  if (isDigit(c)) {
    const y = yearAt(s, i);
    if (y >= 0 && s.charCodeAt(i + 4) === SP) {
      // yyyy Mmm dd hh:mm:ss
      j = bsdDate(s, i + 5);
      if (j < 0) return -1;
      ts.year = y;
      j = clockAt(s, j);
      if (j < 0) return -1;
    } else {
      j = isoAt(s, i);
      if (j < 0) return -1;
    }
  } else {
    j = bsdDate(s, i);
    if (j < 0) return -1;
    const y = yearAt(s, j);
    if (y >= 0 && s.charCodeAt(j + 4) === SP) {
      ts.year = y;
      j += 5;
    }
    j = clockAt(s, j);
    if (j < 0) return -1;
  }
  j = fractionAt(s, j);
  if (j < n && s.charCodeAt(j) === 0x2e) j++; // "02:00:00." with no digits
  if (ts.year < 0 && j + 5 <= n && s.charCodeAt(j) === SP) {
    const y = yearAt(s, j + 1);
    if (y >= 0) {
      ts.year = y;
      j += 5;
    }
  }
  if (Number.isNaN(ts.offset)) j = zoneAt(s, j);
  if (j < n) {
    const e = s.charCodeAt(j);
    if (e !== SP && e !== 0x3a) return -1;
  }
  return j;
}

/** `Mmm dd ` (day space-padded or not) at i into ts.month/day; the index after the space, or -1. */
function bsdDate(s: string, i: number): number {
  const month = monthAt(s, i);
  if (month < 0 || s.charCodeAt(i + 3) !== SP) return -1;
  let j = i + 4;
  if (s.charCodeAt(j) === SP) j++;
  let day = 0;
  const start = j;
  while (j < s.length && isDigit(s.charCodeAt(j)) && j - start < 2) day = day * 10 + s.charCodeAt(j++) - 0x30;
  if (j === start || day < 1 || day > 31 || s.charCodeAt(j) !== SP) return -1;
  ts.month = month;
  ts.day = day;
  return j + 1;
}

/** `yyyy-m(m)-d(d)(T| )hh:mm:ss`, then fraction and zone are read by the caller. */
function isoAt(s: string, i: number): number {
  let y = 0;
  for (let k = 0; k < 4; k++) {
    const c = s.charCodeAt(i + k);
    if (!isDigit(c)) return -1;
    y = y * 10 + c - 0x30;
  }
  let j = i + 4;
  if (s.charCodeAt(j) !== 0x2d) return -1;
  j++;
  let mo = 0;
  const ms = j;
  while (isDigit(s.charCodeAt(j)) && j - ms < 2) mo = mo * 10 + s.charCodeAt(j++) - 0x30;
  if (j === ms || mo < 1 || mo > 12 || s.charCodeAt(j) !== 0x2d) return -1;
  j++;
  let d = 0;
  const ds = j;
  while (isDigit(s.charCodeAt(j)) && j - ds < 2) d = d * 10 + s.charCodeAt(j++) - 0x30;
  if (j === ds || d < 1 || d > 31) return -1;
  const sep = s.charCodeAt(j);
  if (sep !== 0x54 && sep !== SP) return -1;
  j = clockAt(s, j + 1);
  if (j < 0) return -1;
  ts.year = y;
  ts.month = mo - 1;
  ts.day = d;
  return j;
}

/**
 * Strict RFC 3164 `Mmm dd hh:mm:ss` at i (day space-padded or two digits) into ts; the end, or
 * -(index of the first wrong character) - 1.
 */
function bsdStrict(s: string, i: number): number {
  const n = s.length;
  const month = monthAt(s, i);
  const name = 'JanFebMarAprMayJunJulAugSepOctNovDec'.slice(month * 3, month * 3 + 3);
  for (let k = 0; k < 3; k++) if (s.charCodeAt(i + k) !== name.charCodeAt(k)) return -(i + k) - 1;
  let j = i + 3;
  if (j >= n || s.charCodeAt(j) !== SP) return -j - 1;
  j++;
  const a = j < n ? s.charCodeAt(j) : -1;
  const b = j + 1 < n ? s.charCodeAt(j + 1) : -1;
  let day: number;
  if (a === SP) {
    if (b < 0x31 || b > 0x39) return -(j + 1) - 1;
    day = b - 0x30;
  } else {
    // RFC 3164 4.1.2: a day below 10 is a space and the digit ("Dec  3"), never "Dec 03".
    if (a < 0x31 || a > 0x33) return -j - 1;
    if (!isDigit(b)) return -(j + 1) - 1;
    day = (a - 0x30) * 10 + b - 0x30;
    if (day < 1 || day > 31) return -(j + 1) - 1;
  }
  j += 2;
  if (j >= n || s.charCodeAt(j) !== SP) return -j - 1;
  j++;
  // hh:mm:ss, each checked where it goes wrong
  const limits = [2, 9, -1, 5, 9, -1, 5, 9];
  let h = 0;
  let mi = 0;
  let sec = 0;
  for (let k = 0; k < 8; k++) {
    const c = j + k < n ? s.charCodeAt(j + k) : -1;
    const lim = limits[k]!;
    if (lim < 0) {
      if (c !== 0x3a) return -(j + k) - 1;
      continue;
    }
    if (c < 0x30 || c > 0x30 + lim) return -(j + k) - 1;
    const v = c - 0x30;
    if (k < 2) h = h * 10 + v;
    else if (k < 5) mi = mi * 10 + v;
    else sec = sec * 10 + v;
    if (k === 1 && h > 23) return -(j + k) - 1;
  }
  ts.month = month;
  ts.day = day;
  ts.h = h;
  ts.mi = mi;
  ts.s = sec;
  return j + 8;
}

/**
 * Structured data read loosely (lenient mode): SD-IDs and names of any length, values quoted
 * (escapes as in RFC 5424, a bare `]` allowed) or bare up to a space or `]`. Sets st.structured
 * and st.msgStart; when even that fails, structured is null and the message starts at i.
 */
function looseStructuredData(s: string, i: number, st: Rfc5424State): void {
  const n = s.length;
  const sd: StructuredData = {};
  let j = i;
  st.structured = null;
  st.msgStart = i;
  while (j < n && s.charCodeAt(j) === 0x5b) {
    j++;
    const idStart = j;
    while (j < n && s.charCodeAt(j) !== SP && s.charCodeAt(j) !== 0x5d) j++;
    if (j === idStart || j >= n) return;
    const params: Record<string, string> = {};
    sd[s.slice(idStart, j)] = params;
    for (;;) {
      while (j < n && s.charCodeAt(j) === SP) j++;
      if (j >= n) return;
      if (s.charCodeAt(j) === 0x5d) break;
      const nameStart = j;
      while (j < n && s.charCodeAt(j) !== 0x3d && s.charCodeAt(j) !== SP && s.charCodeAt(j) !== 0x5d) j++;
      if (j >= n || s.charCodeAt(j) !== 0x3d || j === nameStart) return;
      const name = s.slice(nameStart, j);
      j++;
      if (j < n && s.charCodeAt(j) === 0x22) {
        j++;
        let value = '';
        let from = j;
        while (j < n && s.charCodeAt(j) !== 0x22) {
          if (s.charCodeAt(j) === 0x5c && j + 1 < n) {
            const e = s.charCodeAt(j + 1);
            if (e === 0x22 || e === 0x5c || e === 0x5d) {
              value += s.slice(from, j);
              from = j + 1;
              j++;
            }
          }
          j++;
        }
        if (j >= n) return;
        params[name] = value + s.slice(from, j);
        j++;
      } else {
        const vStart = j;
        while (j < n && s.charCodeAt(j) !== SP && s.charCodeAt(j) !== 0x5d) j++;
        params[name] = s.slice(vStart, j);
      }
    }
    j++; // ']'
  }
  if (j < n && s.charCodeAt(j) !== SP) return;
  st.structured = sd;
  st.msgStart = j < n ? j + 1 : -1;
}
