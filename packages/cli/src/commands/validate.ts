import { loadTopology, type TopologySpec } from '@qitian/topology';
import { Command } from 'commander';
import type { CommandIO } from '../io.js';
import { collectSet } from '../options.js';
import { builtinRegistry } from '../registry.js';

export interface ValidateOptions {
  readonly file: string;
  readonly vars?: Record<string, string>;
  readonly env?: Record<string, string | undefined>;
}

/** Loads and validates a topology; throws InvalidTopologyError listing every problem. */
export function runValidate(opts: ValidateOptions): Promise<TopologySpec> {
  return loadTopology(opts.file, { registry: builtinRegistry(), vars: opts.vars, env: opts.env });
}

export function validateCommand(io: CommandIO): Command {
  return new Command('validate')
    .description('check a topology file without running it; exit 0 when valid, 1 with every error on stderr')
    .argument('<file>', 'topology YAML file')
    .option('--set <name=value>', 'define a variable for ${name} in the file (repeatable)', collectSet)
    .option('--json', 'print the validated topology as JSON')
    .action(async (file: string, opts: { set?: Record<string, string>; json?: boolean }) => {
      const spec = await runValidate({ file, vars: opts.set });
      if (opts.json) io.out(JSON.stringify(spec, null, 2));
      else {
        const tasks = spec.components.reduce((a, c) => a + c.parallelism, 0);
        const counts = [count(spec.components.length, 'component'), count(spec.streams.length, 'stream'), count(tasks, 'task')];
        io.out(`${file}: topology "${spec.name}" is valid: ${counts.join(', ')}`);
      }
    });
}

/** `1 task`, `0 tasks`, `6 tasks`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
