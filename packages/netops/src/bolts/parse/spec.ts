import { type ComponentSpec, type ConfigOf, field } from '@qitian/api';

export const syslogParseFields = {
  field: field.string({
    description: 'The input field that holds the raw message (a string, or bytes decoded as UTF-8).',
    default: 'line',
    minLength: 1,
  }),
  strict: field.boolean({
    description:
      'Reject what RFC 5424 and RFC 3164 reject: such messages go to stream `error` with a reason and the 1-based column ' +
      '(in UTF-8 bytes) where the problem was found, and are counted as `errors` by reason; the input tuple is acked all ' +
      'the same (bad input is not replayed). A line is judged as RFC 3164 when a month name follows the PRI, else as RFC 5424 ' +
      "(with go-syslog's error texts, whose `[col N]` counts from 0): so the forms network devices send that neither RFC " +
      'allows (Cisco sequence numbers and stamps, `<164>%ASA-...`, NX-OS and PIX dates) are rejected, mostly as `bad_version`. ' +
      'Strict mode is for holding senders to the RFCs; parse device feeds leniently. ' +
      'Off (the default), every message comes out on `default`, best-effort, and ' +
      'one that cannot be structured at all has `parsed: false` and is counted as `unparsed`.',
    default: false,
  }),
  timezone: field.string({
    description:
      'Zone of timestamps that carry none (RFC 3164 `Mmm dd hh:mm:ss`, Cisco stamps without a zone name): `UTC`, an offset ' +
      'such as `+08:00`, or an IANA name such as `Asia/Shanghai` (with daylight saving time). Zone names devices print ' +
      '(`UTC`, `CET`, `EST`...) and numeric offsets in the message take precedence.',
    default: 'UTC',
    minLength: 1,
  }),
} as const;

export type SyslogParseConfig = ConfigOf<typeof syslogParseFields>;

export const syslogParseSpec: ComponentSpec<typeof syslogParseFields> = {
  summary: 'Parses syslog (RFC 5424, RFC 3164 and network-device forms) into structured events.',
  description:
    'Reads the raw message from `field` and, when the input stream declares them, `peer` and `receivedAt` (what the ' +
    'syslog spouts emit; a `file` spout has `line`, and with `position: true` also `file`, `lineNumber` and `offset`). ' +
    'Emits on `default` one event per message with the fields ' +
    'time, host, facility, severity, app, procid, msgid, eventType, srcIp, dstIp, srcPort, dstPort, message, structured, ' +
    'vendor, format, parsed, raw, peer (EVENT_FIELDS of the netops syslog contract, in that order), and on `error` ' +
    'raw, reason, column, peer, message, location: in strict mode what the RFCs reject, and in either mode an input without a ' +
    'message (no `field`, or neither a string nor bytes: reason `no_message`). `location` is `file:line:column` for a ' +
    'line of a file spout with `position: true` (`file, byte offset N` when its line number is not known), and then also ' +
    'begins `message`; null for other input.\n\n' +
    'Formats: RFC 5424 with structured data (escapes, NILVALUE, BOM, fractional seconds and offsets; `time` is in whole ' +
    'milliseconds, so the digits of a fraction past the third are cut: `10:00:00.123456Z` is 10:00:00.123); RFC 3164 with or ' +
    'without PRI and hostname, TAG with optional [pid]; the forms devices send: Cisco sequence numbers (`123: `, or a bare `: ` as NX-OS sends without host and sequence number) and ' +
    "`*Mar  1 00:00:01.123 UTC:` stamps (also after a relay's own header: `host 123: *Mar  1 ...: %LINK-3-UPDOWN: ...`), `Mmm dd yyyy hh:mm:ss` (PIX/ASA), `yyyy Mmm dd hh:mm:ss` (NX-OS), ISO-8601 " +
    'timestamps in 3164 headers, IOS-XR node ids. A year-less timestamp gets the year that puts it closest to the time ' +
    'the message was received (else now) without being more than one day after it, the rsyslog/syslog-ng rule. A message ' +
    'without a timestamp (or one that cannot be read) gets the time it was received (`receivedAt`); without one (a file ' +
    'replayed), the time of the event before it in this task, as Splunk does, the first one now: one such line in a replay ' +
    'of last week does not jump to the present and leave every later event behind the windows of topn and cluster.\n\n' +
    'Vendor bodies set `vendor` and `eventType` (in an RFC 5424 MSG too, past the spaces, Cisco sequence number and stamp a relay such as rsyslog leaves before them): Cisco `%FAC-SEV-MNEMONIC:` (eventType `FAC-MNEMONIC`), Huawei/H3C ' +
    '`%%vvMODULE/severity/DIGEST(type)[n]:` (eventType `MODULE/DIGEST`; vv `10` is H3C Comware, anything else Huawei ' +
    'VRP), Juniper event tags (`RT_FLOW_SESSION_CREATE:`) and RFC 5424 `[junos@2636...]` structured data (eventType = ' +
    'MSGID). Otherwise eventType is the app name. A message without PRI takes the severity its vendor body gives.\n\n' +
    'Addresses and ports come from the body: IPv4 and IPv6 (RFC 5952 form, zone ids stripped), `ip:port`, `ip/port`, ' +
    '`ip(port)`, `ip+port`, `ip port N`, keys such as `src=`, `dst=`, `srcip=`, `SPT=`, `source-address="..."`, `SrcIP: ` and `DstPort: ` (Firepower), and the ' +
    'words `from` and `to`; otherwise the first address is the source and the next the destination (the unspecified ' +
    'addresses `::` and `0.0.0.0` are never either). Octets are checked, ' +
    'so versions, OIDs and clock times are not taken for addresses.',
  fields: syslogParseFields,
  examples: [
    {
      title: 'Parse what the syslog spout receives, leniently',
      yaml: 'id: parse\ntype: syslog-parse\nparallelism: 2',
    },
    {
      title: 'Strict RFC parsing; rejects go to the error stream',
      yaml: 'id: parse\ntype: syslog-parse\nconfig:\n  strict: true',
    },
    {
      title: 'Lines of a file from devices that log local time in Shanghai',
      yaml: 'id: parse\ntype: syslog-parse\nconfig:\n  field: line\n  timezone: Asia/Shanghai',
    },
  ],
};
