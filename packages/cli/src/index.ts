export { main } from './bin.js';
export { type RunOptions, runTopology } from './commands/run.js';
export { runValidate, type ValidateOptions } from './commands/validate.js';
export { EXIT, UsageError } from './errors.js';
export type { CommandIO } from './io.js';
export { createProgram } from './program.js';
export { builtinRegistry } from './registry.js';
