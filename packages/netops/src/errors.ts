/** Errors the netops built-ins throw: classes with a `name` and structured fields, no string throws. */

/** A file source or sink could not open, read or write its file. */
export class FileAccessError extends Error {
  override readonly name = 'FileAccessError';
  /** The path as configured. */
  readonly path: string;
  /** What was being done: 'open', 'read', 'write'. */
  readonly operation: string;
  /** The system error code (ENOENT, EACCES...), when there is one. */
  readonly code: string | undefined;

  constructor(path: string, operation: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.path = path;
    this.operation = operation;
    const cause = options?.cause as { code?: unknown } | undefined;
    this.code = typeof cause?.code === 'string' ? cause.code : undefined;
  }
}

/** Describes a system error for a message: `no such file or directory (ENOENT)`. */
export function describeSystemError(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; message?: unknown };
    switch (e.code) {
      case 'ENOENT':
        return 'no such file or directory (ENOENT)';
      case 'EACCES':
      case 'EPERM':
        return `permission denied (${e.code})`;
      case 'EISDIR':
        return 'is a directory (EISDIR)';
      case 'ENOTDIR':
        return 'a parent is not a directory (ENOTDIR)';
    }
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}

/**
 * Config a component cannot use, found by its definition's checkConfig when the topology
 * is validated: `configPath` (keys and indexes inside `config`) is where, so that `qitian
 * validate` reports it at that line and column instead of the run failing to start.
 */
export class ComponentConfigError extends Error {
  override readonly name = 'ComponentConfigError';
  constructor(
    readonly configPath: readonly (string | number)[],
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const errors = { FileAccessError, ComponentConfigError } as const;
