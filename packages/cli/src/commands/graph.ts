import { renderGraphDot, renderGraphText } from '@qitian/topology';
import { Command } from 'commander';
import type { CommandIO } from '../io.js';
import { collectSet } from '../options.js';
import { runValidate } from './validate.js';

export function graphCommand(io: CommandIO): Command {
  return new Command('graph')
    .description('print the topology as a DAG: text, or Graphviz DOT with --dot')
    .argument('<file>', 'topology YAML file')
    .option('--dot', 'print Graphviz DOT (pipe into `dot -Tsvg`)')
    .option('--set <name=value>', 'define a variable for ${name} in the file (repeatable)', collectSet)
    .action(async (file: string, opts: { dot?: boolean; set: Record<string, string> }) => {
      const spec = await runValidate({ file, vars: opts.set });
      io.out(opts.dot ? renderGraphDot(spec) : renderGraphText(spec));
    });
}
