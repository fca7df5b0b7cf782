/**
 * The shape of syslog data between the built-in network-ops components: what the syslog spouts
 * emit, what the parse bolt makes of it, and what priority-route, topn, cluster and alert read.
 * One place, so that every component and topology agrees on field names and meanings.
 */

/**
 * What the `syslog` spout and the `device-syslog` generator emit on `default`: one raw message,
 * the address it came from (`ip` or `ip:port`; null when unknown, as for a file) and when it was
 * received, in ms since the epoch (the generator: its simulated clock).
 */
export const RAW_FIELDS = ['line', 'peer', 'receivedAt'] as const;

/**
 * A parsed syslog event, the parse bolt's `default` stream, in this order:
 * - time: event time, ms since the epoch (from the message; else receivedAt; else now)
 * - host: the HOSTNAME of the header, else the peer address; null when neither
 * - facility, severity: integers (0..23, 0..7); a message without PRI gets RFC 3164's default
 *   13 (user.notice)
 * - app, procid, msgid: RFC 5424 APP-NAME, PROCID, MSGID; RFC 3164: the TAG and the [pid]; null when absent
 * - eventType: what kind of event it is: Cisco `FACILITY-MNEMONIC` (`LINK-UPDOWN`), Huawei/H3C
 *   `MODULE/DIGEST` (`IFNET/LINK_STATE`), Juniper the event tag (`RT_FLOW_SESSION_CREATE`),
 *   else the app name; null when nothing names it
 * - srcIp, dstIp (strings, IPv4 or IPv6), srcPort, dstPort (integers): found in the body; null when absent
 * - message: the free-text body (MSG)
 * - structured: RFC 5424 structured data as { sdId: { param: value } }, null when none
 * - vendor: 'cisco' | 'huawei' | 'h3c' | 'juniper' | null
 * - format: 'rfc5424' | 'rfc3164' | 'unknown'
 * - parsed: false when the lenient parser could not structure the message (it still flows)
 * - raw: the message as received
 * - peer: as received from the spout (null when the input had no peer field)
 */
export const EVENT_FIELDS = [
  'time',
  'host',
  'facility',
  'severity',
  'app',
  'procid',
  'msgid',
  'eventType',
  'srcIp',
  'dstIp',
  'srcPort',
  'dstPort',
  'message',
  'structured',
  'vendor',
  'format',
  'parsed',
  'raw',
  'peer',
] as const;

export type EventField = (typeof EVENT_FIELDS)[number];

/** Index of each event field in a tuple's values, for hot paths that read by position. */
export const EVENT: { readonly [K in EventField]: number } = Object.fromEntries(EVENT_FIELDS.map((f, i) => [f, i])) as never;

/**
 * The `error` stream of components that reject input: the input as received, why (a short
 * machine-readable reason such as `bad_pri` or `truncated_header`), the 1-based column where
 * the problem was found (0 when not about a position), the peer, a message for people, and,
 * for input read from a file with `position: true`, where: `file:line:column` (or
 * `file, byte offset N` when the line number is not known); null otherwise.
 */
export const ERROR_FIELDS = ['raw', 'reason', 'column', 'peer', 'message', 'location'] as const;

/** RFC 5424 severity keywords, by number: also the names of priority-route's streams. */
export const SEVERITY_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

/** RFC 5424 facility keywords, by number. */
export const FACILITY_NAMES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'audit',
  'alert',
  'clock',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;
