/** Exit codes a script can rely on. */
export const EXIT = {
  OK: 0,
  /** The topology is invalid (validate, run, graph). */
  INVALID: 1,
  /** The command line is wrong. */
  USAGE: 2,
  /** The topology started but failed (a worker kept dying, a component failed to start), or a component could not deliver what it held at the end (output_lost). */
  RUNTIME: 3,
  /** The run ended, but a spout could not read its input to the end (a truncated .gz, a read error). */
  INPUT_INCOMPLETE: 4,
  /** A second SIGINT/SIGTERM stopped the run without draining. */
  INTERRUPTED: 130,
} as const;

/** A command-line mistake the user can fix: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A command that cannot do its job for a reason outside the topology file (an endpoint that does not answer...): its message, then `exitCode`. */
export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
