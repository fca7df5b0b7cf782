import { Command } from 'commander';
import { createPlan } from '@qitian/topology';
import { defaultWorkerCount, Engine, type EngineLogLevel, type RunSummary, summarize } from '@qitian/runtime';
import { formatSummary } from '../format.js';
import type { CommandIO } from '../io.js';
import { collectSet, positiveInt, positiveNumber } from '../options.js';
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
  /** Called once the engine is up, with a function that stops it. */
  readonly onStart?: (engine: Engine) => void;
}

/** Validates, plans and runs a topology to its end; returns how it ended. */
export async function runTopology(opts: RunOptions): Promise<RunSummary> {
  const spec = await runValidate({ file: opts.file, vars: opts.vars });
  const workers = opts.workers ?? spec.config.workers ?? defaultWorkerCount();
  const plan = createPlan(spec, workers);
  const min = LEVELS.indexOf(opts.logLevel ?? 'info');
  const engine = await Engine.start(plan, {
    logger: (level, msg, fields) => {
      if (LEVELS.indexOf(level) < min) return;
      const where = fields && 'component' in fields ? ` ${fields.component}[${fields.task}]` : '';
      // Stacks of component errors are for debugging: shown with --log-level debug.
      const stack = min === 0 && fields && typeof fields.stack === 'string' ? `\n${fields.stack}` : '';
      opts.io.err(`${new Date().toISOString()} ${level.toUpperCase()}${where}: ${msg}${stack}`);
    },
  });
  opts.onStart?.(engine);
  const stop = () => void engine.stop();
  opts.signal?.addEventListener('abort', stop, { once: true });
  const timer = opts.durationS ? setTimeout(stop, opts.durationS * 1000) : undefined;
  try {
    return await engine.finished;
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', stop);
  }
}

export function runCommand(io: CommandIO, signal: AbortSignal): Command {
  return new Command('run')
    .description('run a topology on this machine (embedded single node, no NATS needed) until its spouts end or it is stopped')
    .argument('<file>', 'topology YAML file')
    .option('-w, --workers <n>', 'worker threads (default: config.workers, else one per core)', positiveInt('--workers'))
    .option('--set <name=value>', 'define a variable for ${name} in the file (repeatable)', collectSet)
    .option('-d, --duration <seconds>', 'drain and stop after this many seconds', positiveNumber('--duration'))
    .option('--log-level <level>', `log level: ${LEVELS.join(', ')}`, 'info')
    .option('--json', 'print the end-of-run summary as JSON on stdout')
    .option('-q, --quiet', 'do not print the end-of-run summary')
    .action(async (file: string, o: { workers?: number; set?: Record<string, string>; duration?: number; logLevel: string; json?: boolean; quiet?: boolean }) => {
      if (!LEVELS.includes(o.logLevel as EngineLogLevel)) throw new (await import('../errors.js')).UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
      const run = await runTopology({ file, workers: o.workers, vars: o.set, durationS: o.duration, logLevel: o.logLevel as EngineLogLevel, signal, io });
      const components = summarize(run.tasks);
      if (o.json) io.out(JSON.stringify({ ...run, error: run.error?.message, components }, null, 2));
      else if (!o.quiet) io.err(formatSummary(run, components));
      if (run.reason === 'failed') throw run.error ?? new Error('topology failed');
    });
}
