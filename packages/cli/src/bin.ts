import { InvalidTopologyError, ModuleLoadError } from '@qitian/topology';
import { CommanderError } from 'commander';
import { CommandFailed, EXIT, UsageError } from './errors.js';
import { type CommandIO, processIO } from './io.js';
import { createProgram } from './program.js';

/**
 * Runs the CLI and returns its exit code (`earlySignals`: SIGINT or SIGTERM received before it
 * was called, while the modules loaded); only the bin file sets process.exitCode, so that
 * workers drain and files flush before the process ends.
 */
export async function main(argv: readonly string[], io: CommandIO = processIO, earlySignals: readonly NodeJS.Signals[] = []): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      // `run` says what the signal does (drain, or call the start off); top and tap just stop.
      controller.abort(sig);
    } else {
      io.err(`${sig}: stopping without draining`);
      stopAtOnce(sig);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Signals that came while the modules loaded (the bin file kept them): acted on now.
  for (const sig of earlySignals) onSignal(sig);
  // A run must not die without a drain because logrotate's postrotate (as for rsyslog) or a closed
  // terminal sent SIGHUP: Node's default would end it at once, losing what sinks buffer.
  const onHangup = () => io.err('SIGHUP: ignored; qitian run has nothing to reload (SIGINT or SIGTERM stop it, draining)');
  if (argv[2] === 'run') process.on('SIGHUP', onHangup);
  // top and tap only print: once their reader is gone (qitian top | head -3) they stop, as Unix
  // filters do. A run goes on without its reader.
  stopOnStdoutGone = argv[2] === 'run' ? undefined : () => controller.abort('EPIPE');
  // A reader that exits (qitian run ... | head) must not crash the run: what is still written to
  // standard output is dropped, said once. Sinks that print count their own drops (stdout_error).
  // Once per process: main() runs more than once in tests, and these stay after it returns.
  if (!streamGuards) {
    streamGuards = true;
    let stdoutGone = false;
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (stdoutGone) return;
      stdoutGone = true;
      if (stopOnStdoutGone) stopOnStdoutGone();
      else io.err(`standard output failed (${err.code ?? err.message}): further output to it is dropped`);
    });
    // The same for standard error (qitian run ... 2>&1 | head): a log reader that exits must not
    // end a run, and there is nowhere left to say so. processIO.err stops writing to it.
    process.stderr.on('error', ignoreStreamError);
  }
  try {
    const program = createProgram(io, controller.signal);
    // Commander answers `help bogus` with the general help and no word about the name.
    const asked = argv[2] === 'help' ? argv[3] : undefined;
    if (asked !== undefined && !asked.startsWith('-') && !program.commands.some((c) => c.name() === asked)) {
      throw new UsageError(`unknown command '${asked}'; the commands are ${program.commands.map((c) => c.name()).join(', ')}`);
    }
    await program.parseAsync([...argv]);
    return EXIT.OK;
  } catch (err) {
    return report(err, io);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onHangup);
    // Kept on stdout: a write still buffered may fail after main() returns.
  }
}

function ignoreStreamError(): void {}

/**
 * Ends the process by the signal itself, as an interrupted Unix program does: shells report
 * 128 + its number (130 for SIGINT, 143 for SIGTERM) and a shell loop running qitian stops on it.
 * process.exit would first wait for every worker thread to end, which one blocked in a system
 * call (a read from a FIFO, a lock) never does: a second Ctrl-C then hung.
 */
function stopAtOnce(sig: NodeJS.Signals): void {
  process.removeAllListeners(sig);
  process.kill(process.pid, sig);
  // The kernel may hand the signal to another thread: give it a moment. Still here after it, the
  // signal is ignored (inherited so), and the usual exit it is.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
  process.exit(EXIT.INTERRUPTED);
}

/** The stdout and stderr error listeners are in place (see main). */
let streamGuards = false;
/** What the current command does when standard output fails: stop (top, tap), or go on (run). */
let stopOnStdoutGone: (() => void) | undefined;

function report(err: unknown, io: CommandIO): number {
  if (err instanceof CommanderError) {
    // Help and version exit through here with code 0; usage mistakes were already printed.
    return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  if (err instanceof UsageError) {
    io.err(`error: ${err.message}`);
    return EXIT.USAGE;
  }
  if (err instanceof CommandFailed) {
    io.err(err.message);
    return err.exitCode;
  }
  if (err instanceof InvalidTopologyError) {
    io.err(err.message);
    io.err(`${err.issues.length} error${err.issues.length === 1 ? '' : 's'}`);
    return EXIT.INVALID;
  }
  if (err instanceof ModuleLoadError) {
    io.err(`error: ${err.message}`);
    return EXIT.INVALID;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  io.err(`error: ${e.message}`);
  if (process.env.QITIAN_DEBUG) io.err(e.stack ?? '');
  return EXIT.RUNTIME;
}
