/** The postgres sink could not connect, create its tables, or write a batch. */
export class PostgresSinkError extends Error {
  override readonly name = 'PostgresSinkError';
  /** `host:port/database`, never a password. */
  readonly target: string;
  /** What was being done: 'connect', 'create', 'layout' (the tables there do not fit the layout), 'insert'. */
  readonly operation: string;
  /** The SQLSTATE code when the server answered with an error (42P01...), else the system code (ECONNREFUSED...). */
  readonly code: string | undefined;

  constructor(target: string, operation: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.target = target;
    this.operation = operation;
    const cause = options?.cause as { code?: unknown } | undefined;
    this.code = typeof cause?.code === 'string' ? cause.code : undefined;
  }
}

/** A config the postgres sink cannot work with (a table name too long for PostgreSQL). */
export class PostgresSinkConfigError extends Error {
  override readonly name = 'PostgresSinkConfigError';
}
