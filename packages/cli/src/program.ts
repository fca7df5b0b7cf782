import { Command } from 'commander';
import { graphCommand } from './commands/graph.js';
import { runCommand } from './commands/run.js';
import { tapCommand } from './commands/tap.js';
import { topCommand } from './commands/top.js';
import { validateCommand } from './commands/validate.js';
import type { CommandIO } from './io.js';

export const VERSION = '0.1.0';

/** The `qitian` program: assembly only; each command lives in commands/. */
export function createProgram(io: CommandIO, signal: AbortSignal): Command {
  const program = new Command('qitian')
    .description('QiTian: stream topologies for network operations')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride();
  for (const cmd of [runCommand(io, signal), validateCommand(io), graphCommand(io), tapCommand(io, signal), topCommand(io, signal)]) {
    program.addCommand(cmd.exitOverride().configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) }));
  }
  return program;
}
