/** The syslog spout could not start: a bad config, an unreadable TLS file, or a port it cannot bind. */
export class SyslogListenError extends Error {
  override readonly name = 'SyslogListenError';
  readonly protocol: string;
  readonly host: string;
  readonly port: number;
  /** What failed: 'config', 'tls', 'listen'. */
  readonly operation: string;
  /** The system error code (EADDRINUSE, EACCES...), when there is one. */
  readonly code: string | undefined;

  constructor(protocol: string, host: string, port: number, operation: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.protocol = protocol;
    this.host = host;
    this.port = port;
    this.operation = operation;
    const cause = options?.cause as { code?: unknown } | undefined;
    this.code = typeof cause?.code === 'string' ? cause.code : undefined;
  }
}
