import { OUTPUT_LOST } from '@qitian/api';
import {
  type ControlServer,
  defaultWorkerCount,
  Engine,
  type EngineLogLevel,
  INPUT_FAILED,
  listenControlServer,
  type PendingControlServer,
  type RunSummary,
  StartAbortedError,
  summarize,
} from '@qitian/runtime';
import { createPlan, InvalidTopologyError, ModuleLoadError } from '@qitian/topology';
import { Command } from 'commander';
import { CommandFailed, EXIT } from '../errors.js';
import { formatSummary } from '../format.js';
import type { CommandIO } from '../io.js';
import { formatLogFields } from '../log-fields.js';
import { collectSet, port, positiveInt, positiveNumber } from '../options.js';
import { runValidate } from './validate.js';

const LEVELS: EngineLogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface RunOptions {
  readonly file: string;
  readonly workers?: number;
  readonly vars?: Record<string, string>;
  /** Stop (drain) after this many seconds. */
  readonly durationS?: number;
  readonly logLevel?: EngineLogLevel;
  /** Aborting drains and stops the run (SIGINT/SIGTERM in the CLI). */
  readonly signal?: AbortSignal;
  readonly io: CommandIO;
  /** Serve /metrics and the control API on this port (0: any free port). */
  readonly metricsPort?: number;
  /** Address to listen on for metrics; 127.0.0.1 unless given. */
  readonly metricsHost?: string;
  /** Keep spout positions and keyed state in this folder, and start from what is there. */
  readonly stateDir?: string;
  /** With stateDir: drop saved state this topology would not restore instead of refusing to start. */
  readonly allowNonRestoredState?: boolean;
  /** Called once the engine is up (and the metrics endpoint, when asked for, listens). */
  readonly onStart?: (engine: Engine, server?: ControlServer) => void;
}

/** Validates, plans and runs a topology to its end; returns how it ended. */
export async function runTopology(opts: RunOptions): Promise<RunSummary> {
  const spec = await runValidate({ file: opts.file, vars: opts.vars });
  const asked = opts.workers ?? spec.config.workers ?? defaultWorkerCount();
  // A thread with no task would only take memory and start-up time.
  const tasks = spec.components.reduce((n, c) => n + c.parallelism, 0);
  const workers = Math.min(asked, tasks);
  const plan = createPlan(spec, workers);
  const min = LEVELS.indexOf(opts.logLevel ?? 'info');
  if (workers < asked && min <= LEVELS.indexOf('info')) {
    opts.io.err(
      `${new Date().toISOString()} INFO: ${asked} workers asked for, but the topology has ${tasks} task${tasks === 1 ? '' : 's'}: running ${workers} worker thread${workers === 1 ? '' : 's'}`,
    );
  }
  const t0 = performance.now();
  // A signal before the topology runs calls the start off: a component whose
  // open() or prepare() never returns must not hold the process. Once it runs, a stop drains.
  let engine: Engine | undefined;
  const starting = new AbortController();
  // `sig`: the signal that asked (said on stderr); none for --duration.
  const stop = (sig?: string) => {
    if (engine) {
      if (sig) opts.io.err(`${sig}: draining in-flight tuples (send again to stop at once)`);
      void engine.stop();
    } else {
      if (sig) opts.io.err(`${sig}: calling off the start (send again to stop at once)`);
      starting.abort();
    }
  };
  const onAbort = () => stop(typeof opts.signal?.reason === 'string' ? opts.signal.reason : 'signal');
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  let server: PendingControlServer | undefined;
  if (opts.metricsPort !== undefined) {
    // Bound before any component opens: a port in use must fail the run before a file sink
    // truncates its output or a spout reads anything.
    try {
      server = await listenControlServer({ port: opts.metricsPort, ...(opts.metricsHost ? { host: opts.metricsHost } : {}) });
    } catch (err) {
      throw new Error(`cannot serve metrics on ${opts.metricsHost ?? '127.0.0.1'}:${opts.metricsPort}: ${(err as Error).message}`);
    }
  }
  try {
    try {
      engine = await Engine.start(plan, {
        ...(opts.stateDir !== undefined ? { stateDir: opts.stateDir } : {}),
        ...(opts.allowNonRestoredState ? { allowNonRestoredState: true } : {}),
        signal: starting.signal,
        logger: (level, msg, fields) => {
          if (LEVELS.indexOf(level) < min) return;
          const where = fields && 'component' in fields ? ` ${fields.component}[${fields.task}]` : '';
          // Stacks of component errors are for debugging: shown with --log-level debug.
          const stack = min === 0 && fields && typeof fields.stack === 'string' ? `\n${fields.stack}` : '';
          // One record starts each line: the further lines of a message (or its stack) are indented,
          // as log shippers' multiline rules expect.
          const text = `${msg}${formatLogFields(fields)}${stack}`.replace(/\n(?![ \t])/g, '\n  ');
          opts.io.err(`${new Date().toISOString()} ${level.toUpperCase()}${where}: ${text}`);
        },
      });
    } catch (err) {
      if (!(err instanceof StartAbortedError)) throw err;
      opts.io.err('stopped while the topology was starting: nothing ran');
      return { reason: 'stopped', durationMs: performance.now() - t0, workers, restarts: 0, tasks: [], abandoned: 0, incomplete: false };
    }
    if (server) {
      server.attach(engine);
      opts.io.err(`metrics: ${server.url}/metrics  (qitian top --url ${server.url})`);
    }
    opts.onStart?.(engine, server);
    // Counted from here: a start slowed by a busy machine must not eat a short run.
    if (opts.durationS) timer = setTimeout(() => stop(), opts.durationS * 1000);
    // Asked for as the start ended: acted on now that there is an engine to stop.
    if (starting.signal.aborted) void engine.stop();
    return await engine.finished;
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    await server?.close();
  }
}

export function runCommand(io: CommandIO, signal: AbortSignal): Command {
  return new Command('run')
    .description('run a topology on this machine (embedded single node, no NATS needed) until its spouts end or it is stopped')
    .argument('<file>', 'topology YAML file')
    .option('-w, --workers <n>', 'worker threads (default: config.workers, else one per core)', positiveInt('--workers'))
    .option('--set <name=value>', 'define a variable for ${name} in the file (repeatable)', collectSet)
    .option('-d, --duration <seconds>', 'drain and stop after this many seconds', positiveNumber('--duration'))
    .option('--metrics-port <port>', 'serve Prometheus /metrics and the API of qitian top and tap on this port (0: any free port)', port('--metrics-port'))
    .option('--metrics-host <host>', 'address for --metrics-port (default 127.0.0.1; 0.0.0.0 for every interface)')
    .option('--state-dir <dir>', 'keep spout positions (file offsets...) and keyed state (cluster models...) in <dir>/<topology>.state, and resume from it')
    .option(
      '--allow-non-restored-state',
      'with --state-dir: drop saved positions and state of components the topology no longer has (or of spout tasks beyond its parallelism) instead of refusing to start',
    )
    .option('--log-level <level>', `log level: ${LEVELS.join(', ')}`, 'info')
    .option('--json', 'print the end-of-run summary as JSON on stdout')
    .option('-q, --quiet', 'do not print the end-of-run summary')
    .action(
      async (
        file: string,
        o: {
          workers?: number;
          set?: Record<string, string>;
          duration?: number;
          metricsPort?: number;
          metricsHost?: string;
          stateDir?: string;
          allowNonRestoredState?: boolean;
          logLevel: string;
          json?: boolean;
          quiet?: boolean;
        },
      ) => {
        if (!LEVELS.includes(o.logLevel as EngineLogLevel))
          throw new (await import('../errors.js')).UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
        if (o.allowNonRestoredState && o.stateDir === undefined)
          throw new (await import('../errors.js')).UsageError('--allow-non-restored-state needs --state-dir');
        if (o.metricsHost !== undefined && o.metricsPort === undefined)
          throw new (await import('../errors.js')).UsageError('--metrics-host needs --metrics-port');
        if (o.json && o.quiet)
          throw new (await import('../errors.js')).UsageError('--json and --quiet exclude each other: --json prints the summary, --quiet none');
        const t0 = performance.now();
        let run: RunSummary;
        try {
          run = await runTopology({
            file,
            workers: o.workers,
            vars: o.set,
            durationS: o.duration,
            metricsPort: o.metricsPort,
            metricsHost: o.metricsHost,
            stateDir: o.stateDir,
            allowNonRestoredState: o.allowNonRestoredState,
            logLevel: o.logLevel as EngineLogLevel,
            signal,
            io,
          });
        } catch (err) {
          // A topology that failed to start (exit 3) is a run that failed: a script reading --json
          // gets its summary. An invalid file (exit 1) ran nothing and has only its errors.
          if (o.json && !(err instanceof InvalidTopologyError) && !(err instanceof ModuleLoadError)) {
            const failed = { reason: 'failed', error: (err as Error).message, durationMs: performance.now() - t0, restarts: 0, tasks: [], abandoned: 0 };
            io.out(JSON.stringify({ ...failed, incomplete: false, inputIncomplete: [], outputLost: [], components: [] }, null, 2));
          }
          throw err;
        }
        const components = summarize(run.tasks);
        // Spouts that could not read their input to its end (exit 4).
        const lost = components.filter((c) => (c.custom[INPUT_FAILED] ?? 0) > 0);
        // Components that could not deliver what they took at the end of the run (exit 3).
        const undelivered = components.filter((c) => (c.custom[OUTPUT_LOST] ?? 0) > 0);
        if (o.json) {
          const outputLost = undelivered.map((c) => c.component);
          io.out(JSON.stringify({ ...run, error: run.error?.message, inputIncomplete: lost.map((c) => c.component), outputLost, components }, null, 2));
        }
        // A start called off ran nothing: no table of empty rows.
        else if (!o.quiet && run.tasks.length > 0) io.err(formatSummary(run, components));
        if (run.reason === 'failed') throw run.error ?? new Error('topology failed');
        if (run.stateNotSaved !== undefined) {
          // The run's work is done, but a next run with --state-dir would not resume from its end.
          throw new CommandFailed(
            `error: ${run.stateNotSaved}; the end of this run is not saved: a next run with --state-dir resumes from the last state file written (or from the start) and repeats what came after`,
            EXIT.RUNTIME,
          );
        }
        if (undelivered.length > 0) {
          const which = undelivered.map((c) => `"${c.component}" (${c.custom[OUTPUT_LOST]})`).join(', ');
          throw new CommandFailed(
            `error: output not delivered at the end of the run by ${which} (the errors above say why); the rest of the run's work is done`,
            EXIT.RUNTIME,
          );
        }
        if (lost.length > 0) {
          const which = lost.map((c) => `"${c.component}"`).join(', ');
          throw new CommandFailed(
            `error: input not read to its end by ${which} (the errors above say why); what was read was processed`,
            EXIT.INPUT_INCOMPLETE,
          );
        }
      },
    );
}
