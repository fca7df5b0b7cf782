/** What the syslog parser produces: a parsed event (EVENT_FIELDS as an object) or a rejection. */

export type Vendor = 'cisco' | 'huawei' | 'h3c' | 'juniper';
export type SyslogFormat = 'rfc5424' | 'rfc3164' | 'unknown';
export type StructuredData = Record<string, Record<string, string>>;

/** One parsed message; the fields of EVENT_FIELDS except raw and peer, which the bolt adds. */
export interface SyslogEvent {
  time: number;
  host: string | null;
  facility: number;
  severity: number;
  app: string | null;
  procid: string | null;
  msgid: string | null;
  eventType: string | null;
  srcIp: string | null;
  dstIp: string | null;
  srcPort: number | null;
  dstPort: number | null;
  message: string;
  structured: StructuredData | null;
  vendor: Vendor | null;
  format: SyslogFormat;
  parsed: boolean;
}

/**
 * A message the strict parser rejects. `reason` is short and machine-readable (`bad_pri`,
 * `bad_timestamp`...); `column` is 1-based, counted in UTF-8 bytes of the raw message (0 when not
 * about a position); `message` is the human text, for RFC 5424 the exact text go-syslog prints,
 * including its own `[col N]`, which counts from 0.
 */
export class SyslogReject {
  constructor(
    readonly reason: string,
    readonly column: number,
    readonly message: string,
  ) {}
}

/** A new event with the facility and severity of `pri` (RFC 3164's default user.notice when -1). */
export function newEvent(pri: number, time: number, host: string | null, format: SyslogEvent['format'], parsed: boolean): SyslogEvent {
  return {
    time,
    host,
    facility: pri < 0 ? 1 : pri >> 3,
    severity: pri < 0 ? 5 : pri & 7,
    app: null,
    procid: null,
    msgid: null,
    eventType: null,
    srcIp: null,
    dstIp: null,
    srcPort: null,
    dstPort: null,
    message: '',
    structured: null,
    vendor: null,
    format,
    parsed,
  };
}

export function emptyEvent(): SyslogEvent {
  return newEvent(-1, 0, null, 'unknown', false);
}
