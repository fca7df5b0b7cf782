/**
 * Source and destination addresses and ports in a message body, found with one charCodeAt scan:
 * IPv4 (octets checked, so versions and OIDs are not taken), IPv6 (compressed forms, embedded
 * IPv4, zone ids stripped; written back in RFC 5952 form), with ports written `ip:port`,
 * `ip/port` (Cisco ASA), `ip(port)` (Cisco ACL logs), `ip+port` (Junos), `[v6]:port`, or
 * `ip port N` (sshd). Keys name the role (`src=`, `dst=`, `srcip=`, `source-address="..."`,
 * `SRC=`...), as do the words `from` and `to` before an address; otherwise the first address is
 * the source and the next one the destination.
 */
import type { StructuredData, SyslogEvent } from './types.js';

const ROLE_NONE = 0;
const ROLE_SRC = 1;
const ROLE_DST = 2;

const SRC_KEYS = new Set([
  'src',
  'srcip',
  'src_ip',
  'src-ip',
  'srcaddr',
  'src_addr',
  'source',
  'source-address',
  'source_address',
  'sourceip',
  'source-ip',
  'saddr',
  'sip',
  'client',
  'from',
]);
const DST_KEYS = new Set([
  'dst',
  'dstip',
  'dst_ip',
  'dst-ip',
  'dstaddr',
  'dst_addr',
  'destaddr',
  'dest',
  'destination',
  'destination-address',
  'destination_address',
  'destinationip',
  'destination-ip',
  'daddr',
  'dip',
  'to',
]);
const SPORT_KEYS = new Set(['sport', 'srcport', 'src_port', 'src-port', 'spt', 'source-port', 'source_port', 'sourceport', 's_port']);
const DPORT_KEYS = new Set(['dport', 'dstport', 'dst_port', 'dst-port', 'dpt', 'destination-port', 'destination_port', 'destport', 'd_port']);
const SRC_WORDS = new Set(['from', 'src', 'source']);
const DST_WORDS = new Set(['to', 'dst', 'destination', 'dest']);

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
const isAlnum = (c: number) => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);
/** Characters that glue a word together: an address must not start or end inside one. */
const isWord = (c: number) => isAlnum(c) || c === 0x5f || c === 0x2e || c === 0x2d;

/** Where the last parse ended and what it found; module state, as the scan is synchronous. */
let endAt = 0;
let found = '';

/** An IPv4 address at i (4 octets 0..255, no leading-zero check); sets endAt/found. */
function ipv4At(s: string, i: number): boolean {
  const n = s.length;
  let j = i;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (j >= n || s.charCodeAt(j) !== 0x2e) return false;
      j++;
    }
    let v = 0;
    let digits = 0;
    while (j < n && isDigit(s.charCodeAt(j))) {
      if (++digits > 3) return false;
      v = v * 10 + s.charCodeAt(j) - 0x30;
      j++;
    }
    if (digits === 0 || v > 255) return false;
  }
  if (j < n) {
    const c = s.charCodeAt(j);
    if (isAlnum(c) || c === 0x5f) return false;
    // a fifth dotted number: an OID or a version, not an address
    if (c === 0x2e && j + 1 < n && isDigit(s.charCodeAt(j + 1))) return false;
  }
  endAt = j;
  found = s.slice(i, j);
  return true;
}

const groups = new Array<number>(8);

/** An IPv6 address at i, sets endAt/found (canonical); a zone id (`%eth0`) is skipped. */
function ipv6At(s: string, i: number): boolean {
  const n = s.length;
  let j = i;
  let count = 0;
  let gap = -1;
  let allTwo = true;
  if (j + 1 < n && s.charCodeAt(j) === 0x3a && s.charCodeAt(j + 1) === 0x3a) {
    gap = 0;
    j += 2;
  }
  for (;;) {
    const runStart = j;
    let v = 0;
    while (j < n && isHex(s.charCodeAt(j)) && j - runStart < 5) {
      const h = s.charCodeAt(j);
      v = v * 16 + (h <= 0x39 ? h - 0x30 : (h | 0x20) - 0x57);
      j++;
    }
    const len = j - runStart;
    if (len === 0) {
      if (count === 0 && gap < 0) return false;
      // ends right after "::"
      if (gap !== count || runStart !== j) return false;
      break;
    }
    if (len > 4) {
      // a decimal port glued on with ':' (Junos: 2001:db8::1:61664): the address ends before it
      j = runStart - 1;
      if (count === 0 || s.charCodeAt(j) !== 0x3a) return false;
      break;
    }
    if (j < n && s.charCodeAt(j) === 0x2e) {
      // embedded IPv4 in the last 32 bits
      if (count > 6 || !ipv4At(s, runStart)) return false;
      const parts = found.split('.');
      groups[count++] = (Number(parts[0]) << 8) | Number(parts[1]);
      groups[count++] = (Number(parts[2]) << 8) | Number(parts[3]);
      j = endAt;
      allTwo = false;
      break;
    }
    if (count === 8) return false;
    if (len !== 2) allTwo = false;
    groups[count++] = v;
    if (j + 1 < n && s.charCodeAt(j) === 0x3a && s.charCodeAt(j + 1) === 0x3a) {
      if (gap >= 0) return false;
      gap = count;
      j += 2;
      if (j >= n || !isHex(s.charCodeAt(j))) break;
      continue;
    }
    if (j + 1 < n && s.charCodeAt(j) === 0x3a && isHex(s.charCodeAt(j + 1))) {
      j++;
      continue;
    }
    break;
  }
  if (gap < 0 ? count !== 8 : count > 7) return false;
  if (gap < 0 && allTwo) return false; // 8 pairs of hex digits: a hardware address, not IPv6
  const end = j;
  // zone id
  if (j < n && s.charCodeAt(j) === 0x25) {
    j++;
    while (j < n && (isAlnum(s.charCodeAt(j)) || s.charCodeAt(j) === 0x2e || s.charCodeAt(j) === 0x5f || s.charCodeAt(j) === 0x2d)) j++;
  } else if (j < n && (isAlnum(s.charCodeAt(j)) || s.charCodeAt(j) === 0x5f)) return false;
  // expand and write in RFC 5952 form
  const full = new Array<number>(8).fill(0);
  if (gap < 0) for (let k = 0; k < 8; k++) full[k] = groups[k]!;
  else {
    for (let k = 0; k < gap; k++) full[k] = groups[k]!;
    const tail = count - gap;
    for (let k = 0; k < tail; k++) full[8 - tail + k] = groups[gap + k]!;
  }
  found = formatIpv6(full, s.slice(i, end));
  endAt = j;
  return true;
}

function formatIpv6(g: number[], text: string): string {
  // IPv4-mapped addresses keep their dotted tail
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff && text.includes('.')) {
    return `::ffff:${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) {
      bestStart = k;
      bestLen = e - k;
    }
    k = e;
  }
  let out = '';
  for (let k = 0; k < 8; k++) {
    if (k === bestStart) {
      out += '::';
      k += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += g[k]!.toString(16);
  }
  return out;
}

/** A port after an address that ended at i: `:n`, `/n`, `(n)`, `+n`, ` port n`; -1 when none. */
function portAt(s: string, i: number, v6: boolean): number {
  const n = s.length;
  if (i >= n) return -1;
  const c = s.charCodeAt(i);
  let j = i + 1;
  if (c === 0x20) {
    // " port N"
    if (!s.startsWith('port ', j)) return -1;
    j += 5;
  } else if (!((c === 0x3a && !v6) || c === 0x2f || c === 0x28 || c === 0x2b)) return -1;
  let v = 0;
  const start = j;
  while (j < n && isDigit(s.charCodeAt(j))) {
    v = v * 10 + s.charCodeAt(j) - 0x30;
    j++;
  }
  const len = j - start;
  if (len === 0 || len > 5 || v > 65535) return -1;
  if (j < n) {
    const e = s.charCodeAt(j);
    if (c === 0x28) return e === 0x29 ? v : -1;
    if (isAlnum(e) || ((e === 0x2e || e === 0x3a) && j + 1 < n && isDigit(s.charCodeAt(j + 1)))) return -1;
  } else if (c === 0x28) return -1;
  return v;
}

/** The role the text before an address at i gives it: a `key=` or a `from`/`to` word. */
function roleBefore(s: string, i: number): number {
  let j = i - 1;
  if (j >= 0 && (s.charCodeAt(j) === 0x22 || s.charCodeAt(j) === 0x27)) j--;
  // "key: value" (Firepower: "SrcIP: 10.1.1.5, DstIP: ..."): the colon before the spaces.
  if (j >= 1 && s.charCodeAt(j) === 0x20) {
    let k = j;
    while (k >= 0 && s.charCodeAt(k) === 0x20) k--;
    if (k >= 0 && s.charCodeAt(k) === 0x3a) {
      let m = k - 1;
      while (m >= 0 && (isAlnum(s.charCodeAt(m)) || s.charCodeAt(m) === 0x5f || s.charCodeAt(m) === 0x2d)) m--;
      const key = s.slice(m + 1, k).toLowerCase();
      if (SRC_KEYS.has(key)) return ROLE_SRC;
      if (DST_KEYS.has(key)) return ROLE_DST;
    }
  }
  const sep = j >= 0 ? s.charCodeAt(j) : -1;
  if (sep === 0x3d || sep === 0x3a) {
    // key=value (or key:value)
    const end = j;
    j--;
    while (j >= 0 && (isAlnum(s.charCodeAt(j)) || s.charCodeAt(j) === 0x5f || s.charCodeAt(j) === 0x2d)) j--;
    const key = s.slice(j + 1, end).toLowerCase();
    if (SRC_KEYS.has(key)) return ROLE_SRC;
    if (DST_KEYS.has(key)) return ROLE_DST;
    if (sep === 0x3d) return ROLE_NONE;
    j = end;
  }
  // skip the rest of this token (`inside:`), then spaces, then read the word before
  while (j >= 0 && s.charCodeAt(j) !== 0x20) j--;
  while (j >= 0 && s.charCodeAt(j) === 0x20) j--;
  const end = j + 1;
  while (j >= 0 && isAlnum(s.charCodeAt(j))) j--;
  if (end - j - 1 < 2 || end - j - 1 > 11) return ROLE_NONE;
  const word = s.slice(j + 1, end).toLowerCase();
  if (SRC_WORDS.has(word)) return ROLE_SRC;
  if (DST_WORDS.has(word)) return ROLE_DST;
  return ROLE_NONE;
}

/** Ports given by keys (`sport=`, `DPT=`, `source-port="..."`, `SrcPort: 53`) override positional ones. */
function keyedPorts(s: string, ev: SyslogEvent): void {
  keyedPortsAfter(s, ev, '=');
  keyedPortsAfter(s, ev, ': ');
}

function keyedPortsAfter(s: string, ev: SyslogEvent, sepText: string): void {
  let eq = s.indexOf(sepText);
  while (eq > 0) {
    let j = eq - 1;
    while (j >= 0 && (isAlnum(s.charCodeAt(j)) || s.charCodeAt(j) === 0x5f || s.charCodeAt(j) === 0x2d)) j--;
    const keyLen = eq - j - 1;
    if (keyLen >= 3 && keyLen <= 16) {
      const key = s.slice(j + 1, eq).toLowerCase();
      const isS = SPORT_KEYS.has(key);
      if (isS || DPORT_KEYS.has(key)) {
        let k = eq + sepText.length;
        if (k < s.length && s.charCodeAt(k) === 0x22) k++;
        let v = 0;
        const start = k;
        while (k < s.length && isDigit(s.charCodeAt(k))) v = v * 10 + s.charCodeAt(k++) - 0x30;
        if (k > start && k - start <= 5 && v <= 65535) {
          if (isS) ev.srcPort = v;
          else ev.dstPort = v;
        }
      }
    }
    eq = s.indexOf(sepText, eq + 1);
  }
}

/**
 * Finds addresses and ports in `text` and sets the event's srcIp/dstIp/srcPort/dstPort where
 * they are still null.
 */
export function extractAddresses(text: string, ev: SyslogEvent): void {
  const n = text.length;
  let nullIp: string | null = null;
  let nullPort = -1;
  let secondIp: string | null = null;
  let secondPort = -1;
  let srcSet = ev.srcIp !== null;
  let dstSet = ev.dstIp !== null;
  let keyedSrcPort = -1;
  let keyedDstPort = -1;
  let i = 0;
  let seen = 0;
  while (i < n && seen < 8) {
    const c = text.charCodeAt(i);
    if (!isHex(c) && c !== 0x3a) {
      i++;
      continue;
    }
    if (i > 0) {
      const p = text.charCodeAt(i - 1);
      if (isWord(p) || (c === 0x3a && p === 0x3a)) {
        i++;
        continue;
      }
    }
    let ok = false;
    let v6 = false;
    if (isDigit(c) && ipv4At(text, i)) ok = true;
    else if (ipv6At(text, i)) ok = v6 = true;
    if (!ok) {
      // skip the rest of this run of address characters
      i++;
      while (i < n && (isHex(text.charCodeAt(i)) || text.charCodeAt(i) === 0x2e || text.charCodeAt(i) === 0x3a)) i++;
      continue;
    }
    seen++;
    const ip = found;
    // The unspecified address is a placeholder ("OriginalClientIP: ::"), never the source or destination.
    if (ip === '::' || ip === '0.0.0.0') {
      i = endAt;
      continue;
    }
    let end = endAt;
    const bracketed = v6 && i > 0 && text.charCodeAt(i - 1) === 0x5b && end < n && text.charCodeAt(end) === 0x5d;
    if (bracketed) end++;
    let port = portAt(text, end, v6 && !bracketed);
    if (v6 && !bracketed && port < 0 && end < n && text.charCodeAt(end) === 0x3a) port = portAt(text, end, false);
    const role = roleBefore(text, bracketed ? i - 1 : i);
    if (ip === ev.srcIp || ip === ev.dstIp) {
      // the same address again
    } else if (role === ROLE_SRC && !srcSet) {
      ev.srcIp = ip;
      if (port >= 0) keyedSrcPort = port;
      srcSet = true;
    } else if (role === ROLE_DST && !dstSet) {
      ev.dstIp = ip;
      if (port >= 0) keyedDstPort = port;
      dstSet = true;
    } else if (role === ROLE_NONE) {
      if (nullIp === null) {
        nullIp = ip;
        nullPort = port;
      } else if (secondIp === null && ip !== nullIp) {
        secondIp = ip;
        secondPort = port;
      }
    }
    i = end;
  }
  if (!srcSet && nullIp !== null) {
    ev.srcIp = nullIp;
    keyedSrcPort = nullPort;
    nullIp = secondIp;
    nullPort = secondPort;
  }
  if (!dstSet && nullIp !== null) {
    ev.dstIp = nullIp;
    keyedDstPort = nullPort;
  }
  if (ev.srcPort === null && keyedSrcPort >= 0) ev.srcPort = keyedSrcPort;
  if (ev.dstPort === null && keyedDstPort >= 0) ev.dstPort = keyedDstPort;
  if (text.indexOf('=') >= 0 || text.indexOf(': ') >= 0) keyedPorts(text, ev);
}

/** Addresses and ports named by structured-data parameters (Junos `source-address`...). */
export function structuredAddresses(sd: StructuredData, ev: SyslogEvent): void {
  for (const id in sd) {
    const params = sd[id]!;
    for (const key in params) {
      const k = key.toLowerCase();
      const v = params[key]!;
      if (ev.srcIp === null && SRC_KEYS.has(k)) ev.srcIp = addressIn(v);
      else if (ev.dstIp === null && DST_KEYS.has(k)) ev.dstIp = addressIn(v);
      else if (ev.srcPort === null && SPORT_KEYS.has(k)) ev.srcPort = portIn(v);
      else if (ev.dstPort === null && DPORT_KEYS.has(k)) ev.dstPort = portIn(v);
    }
  }
}

/** The whole of `v` as an address (canonical for IPv6), else null. */
export function addressIn(v: string): string | null {
  if (v.length === 0) return null;
  if (isDigit(v.charCodeAt(0)) && ipv4At(v, 0) && endAt === v.length) return found;
  if (ipv6At(v, 0) && endAt === v.length) return found;
  return null;
}

function portIn(v: string): number | null {
  if (v.length === 0 || v.length > 5) return null;
  let p = 0;
  for (let k = 0; k < v.length; k++) {
    const c = v.charCodeAt(k);
    if (!isDigit(c)) return null;
    p = p * 10 + c - 0x30;
  }
  return p <= 65535 ? p : null;
}
