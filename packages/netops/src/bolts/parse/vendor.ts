/**
 * Vendor message bodies, recognised at a given position (the TAG or the start of MSG):
 * - Cisco `%FAC-SEV-MNEMONIC:` and `%FAC-SUB-SEV-MNEMONIC:` (IOS-XR writes ` :`); eventType
 *   `FAC-MNEMONIC` / `FAC-SUB-MNEMONIC`. The `%` may be missing at the start of a bare body
 *   (`ASA-2-106001:`) when the facility is upper case.
 * - Huawei VRP / H3C Comware `%%vvMODULE/severity/DIGEST(type)[n]:`; eventType `MODULE/DIGEST`.
 *   vv is the vendor id: Comware writes `10`, VRP `01`; `10` is taken as h3c, anything else as
 *   huawei.
 * - Juniper event tags `RT_FLOW_SESSION_CREATE:` (upper case, with an underscore, then `:`).
 */
import type { Vendor } from './types.js';

export interface VendorMatch {
  vendor: Vendor | null;
  eventType: string | null;
  /** Severity written in the body, -1 when none. */
  severity: number;
}

/** The last match; module state, as matching is synchronous and the caller copies it out. */
export const match: VendorMatch = { vendor: null, eventType: null, severity: -1 };

const isUpper = (c: number) => c >= 0x41 && c <= 0x5a;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isMnemonic = (c: number) => isUpper(c) || isDigit(c) || c === 0x5f || (c >= 0x61 && c <= 0x7a);

/** Recognises a vendor body at i; fills `match` and returns true, else false. */
export function vendorAt(s: string, i: number): boolean {
  const n = s.length;
  if (i >= n) return false;
  const c = s.charCodeAt(i);
  if (c === 0x25) {
    if (i + 1 < n && s.charCodeAt(i + 1) === 0x25) return huaweiAt(s, i + 2);
    return ciscoAt(s, i + 1, false);
  }
  if (isUpper(c)) return ciscoAt(s, i, true) || juniperAt(s, i);
  return false;
}

/** `FAC(-SUB)*-SEV-MNEMONIC` then `:` or ` :`. */
function ciscoAt(s: string, i: number, bare: boolean): boolean {
  const n = s.length;
  const start = i;
  let dashes = 0;
  let lastDash = -1;
  let prevDash = -1;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 0x2d) {
      if (i === start || i - 1 === lastDash) return false;
      prevDash = lastDash;
      lastDash = i;
      dashes++;
      i++;
      continue;
    }
    if (!isMnemonic(c)) break;
    if (bare && lastDash < 0 && !isUpper(c) && !isDigit(c) && c !== 0x5f) return false;
    i++;
  }
  if (dashes < 2 || i === lastDash + 1 || i - start > 96) return false;
  // the part between the last two dashes is the severity digit
  if (lastDash - prevDash !== 2) return false;
  const sev = s.charCodeAt(prevDash + 1) - 0x30;
  if (sev < 0 || sev > 7) return false;
  // terminated by ':' (or ' :')
  const mnemonicEnd = i;
  if (i < n && s.charCodeAt(i) === 0x20) i++;
  if (i >= n || s.charCodeAt(i) !== 0x3a) return false;
  match.vendor = 'cisco';
  match.eventType = `${s.slice(start, prevDash)}-${s.slice(lastDash + 1, mnemonicEnd)}`;
  match.severity = sev;
  return true;
}

/** After `%%`: `vvMODULE/sev/DIGEST` then optional `(type)`, `[n]`, then `:`. */
function huaweiAt(s: string, i: number): boolean {
  const n = s.length;
  if (i + 2 >= n || !isDigit(s.charCodeAt(i)) || !isDigit(s.charCodeAt(i + 1))) return false;
  const h3c = s.charCodeAt(i) === 0x31 && s.charCodeAt(i + 1) === 0x30;
  i += 2;
  const modStart = i;
  while (i < n && (isMnemonic(s.charCodeAt(i)) || s.charCodeAt(i) === 0x2d)) i++;
  if (i === modStart || i + 3 >= n || s.charCodeAt(i) !== 0x2f) return false;
  const modEnd = i;
  const sev = s.charCodeAt(i + 1) - 0x30;
  if (sev < 0 || sev > 7 || s.charCodeAt(i + 2) !== 0x2f) return false;
  i += 3;
  const digStart = i;
  while (i < n && (isMnemonic(s.charCodeAt(i)) || s.charCodeAt(i) === 0x2d)) i++;
  if (i === digStart) return false;
  const digEnd = i;
  if (i < n && s.charCodeAt(i) === 0x28) {
    const close = s.indexOf(')', i);
    if (close < 0 || close - i > 8) return false;
    i = close + 1;
  }
  if (i < n && s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    if (close < 0 || close - i > 12) return false;
    i = close + 1;
  }
  if (i >= n || s.charCodeAt(i) !== 0x3a) return false;
  match.vendor = h3c ? 'h3c' : 'huawei';
  match.eventType = `${s.slice(modStart, modEnd)}/${s.slice(digStart, digEnd)}`;
  match.severity = sev;
  return true;
}

/** `UPPER_CASE_TAG:` followed by a space or the end. */
function juniperAt(s: string, i: number): boolean {
  const n = s.length;
  const start = i;
  let underscore = false;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 0x5f) underscore = true;
    else if (!isUpper(c) && !isDigit(c)) break;
    i++;
  }
  if (!underscore || i - start < 4 || i - start > 64 || i >= n || s.charCodeAt(i) !== 0x3a) return false;
  if (i + 1 < n && s.charCodeAt(i + 1) !== 0x20) return false;
  match.vendor = 'juniper';
  match.eventType = s.slice(start, i);
  match.severity = -1;
  return true;
}
