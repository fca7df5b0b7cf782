import { type ComponentSpec, type ConfigOf, field } from '@qitian/api';

/** Default ports: 514 and 6514 need root, so the unprivileged neighbours are the defaults. */
export const DEFAULT_PORTS = { udp: 5514, tcp: 5514, tls: 6514 } as const;

export const syslogSpoutFields = {
  protocol: field.enum({
    description:
      'What to listen on: `udp` (RFC 5426, one message per datagram), `tcp` (RFC 6587, octet-counting or LF-delimited, ' +
      'detected per connection) or `tls` (RFC 5425: TCP with TLS; octet-counting, LF-delimited accepted too). One ' +
      'protocol per component: to take UDP and TCP, declare two syslog spouts.',
    values: ['udp', 'tcp', 'tls'],
    default: 'udp',
  }),
  host: field.string({
    description:
      'Address to bind: `0.0.0.0` (every IPv4 interface), `::` (every interface, IPv4 and IPv6), or one address such ' +
      'as `127.0.0.1`. The default is every interface, as rsyslog and syslog-ng do: a collector exists to hear network ' +
      'devices, and one bound to loopback would receive nothing from them without saying why.',
    default: '0.0.0.0',
    minLength: 1,
  }),
  port: field.int({
    description:
      'Port to listen on. Default 5514 for `udp` and `tcp`, 6514 for `tls` (514 needs root or CAP_NET_BIND_SERVICE). ' +
      '0 picks a free port, logged at start.',
    min: 0,
    max: 65535,
    example: 5514,
  }),
  maxMessageBytes: field.int({
    description:
      'Largest message, in bytes, not counting its trailer (an LF or CR LF ending a line or a datagram, or inside an octet count). TCP/TLS: a longer octet-counted frame is skipped exactly and a longer line is skipped ' +
      'up to its end (its trailer, or the end of the connection); both are counted as dropped (reason too_long) and ' +
      'logged with the peer and the byte offset in the connection, and the connection goes on. UDP: a longer datagram ' +
      'is truncated to this size (RFC 5426 allows it; the header and priority survive) and counted as truncated; a message of exactly this size followed by its LF is whole.',
    default: 65_536,
    min: 64,
    max: 67_108_864,
  }),
  maxBuffered: field.int({
    description:
      'Messages received and not yet emitted, at most. When full, UDP datagrams are dropped (drop newest, counted as ' +
      'dropped, reason queue_full, and logged with how many, within the warning limit of 20 a minute) and TCP/TLS connections stop being read until half of it has been emitted, so that ' +
      'senders are slowed by TCP flow control instead.',
    default: 10_000,
    min: 1,
  }),
  recvBufferBytes: field.int({
    description:
      'UDP socket receive buffer (SO_RCVBUF) to ask for: what absorbs bursts while the topology catches up. Linux caps ' +
      'it at net.core.rmem_max; the size granted is logged, with a warning when it is less than asked. 0 keeps the ' +
      "system's default. Datagrams the kernel drops because it is full are counted (Linux, from /proc/net/udp) as " +
      'dropped, reason kernel. Ignored for TCP and TLS.',
    default: 4_194_304,
    min: 0,
  }),
  idleTimeout: field.duration({
    description:
      'TCP/TLS: close a connection that has sent nothing for this long (counted as disconnects, reason idle). `0s`, the ' +
      'default, never closes one: devices keep quiet connections open for hours, and a client that does not notice ' +
      'the close loses its next message. Dead peers are found by TCP keepalive (60s) anyway.',
    default: '0s',
  }),
  maxConnections: field.int({
    description: 'TCP/TLS: connections open at once, at most. Further connections are closed at once and counted (disconnects, reason too_many).',
    default: 1024,
    min: 1,
  }),
  tlsCert: field.string({
    description: 'TLS: path of the server certificate (PEM; a chain may follow it). Required with protocol `tls`.',
    minLength: 1,
    example: '/etc/qitian/syslog.crt',
  }),
  tlsKey: field.string({
    description: "TLS: path of the server certificate's private key (PEM, unencrypted). Required with protocol `tls`.",
    minLength: 1,
    example: '/etc/qitian/syslog.key',
  }),
  tlsCa: field.string({
    description:
      'TLS: path of CA certificates (PEM). When given, every client must present a certificate signed by one of them ' +
      '(mutual TLS, as RFC 5425 recommends); without it, any client is accepted.',
    minLength: 1,
    example: '/etc/qitian/devices-ca.crt',
  }),
} as const;

export type SyslogSpoutConfig = ConfigOf<typeof syslogSpoutFields>;

export const syslogSpoutSpec: ComponentSpec<typeof syslogSpoutFields> = {
  summary: 'Receives syslog over UDP, TCP (RFC 6587 framing) or TLS (RFC 5425) and emits each raw message.',
  description:
    'Emits one tuple per message on stream `default` with the fields `line` (the message as received, decoded as ' +
    'UTF-8 with invalid bytes replaced by U+FFFD and counted as invalid_utf8, trailer removed), `peer` (the sender as `ip:port`, `[ipv6]:port` for ' +
    'IPv6; IPv4-mapped addresses are shown as IPv4) and `receivedAt` (ms since the epoch). It does not parse: feed it ' +
    'to the `parse` bolt. UDP: one datagram is one message; one trailing LF, CR LF or NUL is removed; empty datagrams ' +
    "are dropped (reason empty). TCP and TLS: many connections at once; each connection's framing is detected from " +
    'its first byte: a digit means octet-counting (`LEN SP MSG`), anything else LF-delimited lines (CR LF and NUL ' +
    'also end a message; empty lines are skipped; the end of the connection ends the last line; an octet-counted frame ' +
    'that is empty once its trailer is removed, `1 \\n`, is dropped as an empty datagram is, reason empty). A frame that starts ' +
    'with no valid octet count (digits not followed by a space, more than 9 of them or a count of 0, as in a line without ' +
    'PRI that starts with a timestamp or an epoch in ms; after octet-counted frames, a first byte that is no digit) is ' +
    'read as a line from its first byte, digits included, and the connection goes on (counted as framing_errors, ' +
    'reason lf_fallback, and logged with the sender and byte offset): the framing is decided per frame, as rsyslog ' +
    'does, so a wrong count costs a frame, not the connection. On the first frame of a connection the whole ' +
    'connection is LF-delimited from then on; after octet-counted frames only that frame is, and it ends at the first ' +
    'trailer or at the next frame start (`LEN SP <PRI>`, confirmed by the frame after it), since octet-counted senders ' +
    'send no newlines: a count too short or too long costs that frame and at most the next, then octet-counting goes on. ' +
    'A count is not believed when what follows its end, in the same read, is no frame start while a confirmed frame start lies ' +
    'before that end: the frame ends there (counted as lf_fallback), so that the digits a short count left unread (`... port 22` ' +
    'then `46 <13>...`) are a line of their own and not read with the next count as `2246`. ' +
    'Overload: UDP senders cannot be slowed, ' +
    'so a full buffer drops the newest datagrams (counted), and datagrams the kernel drops because the socket ' +
    'receive buffer is full are counted too (on Linux, read from /proc/net/udp every second: reason kernel, not ' +
    'included in received); TCP and TLS connections are paused instead (TCP flow ' +
    'control slows the senders). Delivery is at most once: messages are not acknowledged to senders, so those in ' +
    'the buffer or in flight are lost if the process dies. A graceful stop (SIGINT, SIGTERM, `--duration`) emits what ' +
    'was read before it, so that it goes through the topology during the drain; then it reads what TCP and TLS ' +
    "connections already sent (in this machine's socket buffers, also of connections paused by backpressure) until " +
    'none has sent anything for 50ms (2s at most), and emits it too, a line the stop cut as it is (as rsyslog takes an ' +
    'unterminated last line; an octet-counted frame it cut is counted as dropped{reason: incomplete}), both said with the ' +
    'sender; then connections are paused, so a sender keeps what it sends from then on queued (rsyslog sends it to the ' +
    'next run). Datagrams from the stop on are counted as dropped{reason: shutdown}, and so is anything read but not ' +
    'emitted when the spout closes: it reads what its connections still hold (250ms at most) to count it, and logs how ' +
    'many messages from which senders. Counters: received (messages), bytes (bytes read from ' +
    'sockets), dropped{reason: queue_full, too_long, empty, incomplete, kernel, shutdown}, truncated (UDP), invalid_utf8 (messages with bytes that are not UTF-8, ' +
    'the first ones logged with the sender; a datagram truncated inside a character counts too), connections (accepted), ' +
    'disconnects{reason: peer, idle, error, too_many, tls_handshake, shutdown}, framing_errors{reason: lf_fallback}, ' +
    'errors{reason: socket} (see docs/metrics.md). ' +
    'Parallelism: Node 20 cannot share a port between sockets (no SO_REUSEPORT), so give a component parallelism 1 ' +
    'on a node; a second task on the same port fails to open with an error naming the port. Measured on a 2-core ' +
    'machine with the sender on the same machine: TCP 1.7M messages/s into the buffer (120-byte lines); one UDP ' +
    'socket 90k-220k datagrams/s before the kernel drops (counted).',
  fields: syslogSpoutFields,
  examples: [
    {
      title: 'UDP syslog from network devices, with a large socket buffer for bursts',
      yaml: 'id: syslog-udp\ntype: syslog\nconfig:\n  protocol: udp\n  port: 5514\n  recvBufferBytes: 8388608\n  maxBuffered: 50000',
    },
    {
      title: 'TCP syslog (octet-counting or LF-delimited), closing connections quiet for 10 minutes',
      yaml: 'id: syslog-tcp\ntype: syslog\nconfig:\n  protocol: tcp\n  host: 0.0.0.0\n  port: 5514\n  idleTimeout: 10m\n  maxMessageBytes: 16384',
    },
    {
      title: 'Syslog over TLS (RFC 5425) with client certificates',
      yaml:
        'id: syslog-tls\ntype: syslog\nconfig:\n  protocol: tls\n  port: 6514\n  tlsCert: /etc/qitian/syslog.crt\n' +
        '  tlsKey: /etc/qitian/syslog.key\n  tlsCa: /etc/qitian/devices-ca.crt',
    },
  ],
};
