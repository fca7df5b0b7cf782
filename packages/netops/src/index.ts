/**
 * @qitian/netops: the built-in components. Every definition is a named export here, and
 * `builtinComponents` lists them with a ref to this module, so that a worker thread can
 * `import(NETOPS_MODULE_URL)` and read the definition by its export name.
 */
import { type BuiltinComponent, builtinsAt } from './builtins.js';

export type { BuiltinComponent } from './builtins.js';
export { builtinEntries } from './builtins.js';
export { errors, FileAccessError } from './errors.js';
export * from './bolts/alert/index.js';
export * from './bolts/cluster/index.js';
export * from './bolts/parse/index.js';
export * from './bolts/priority-route/index.js';
export * from './bolts/topn/index.js';
export * from './sinks/console-report/index.js';
export * from './sinks/file/index.js';
export * from './sinks/postgres/index.js';
export * from './sinks/severity-files/index.js';
export * from './sinks/stdout/index.js';
export * from './spouts/device-syslog/index.js';
export * from './spouts/file/index.js';
export * from './spouts/generator/index.js';
export * from './spouts/syslog/index.js';
export * from './syslog/event.js';

/** The URL of this module (dist/index.js once built): what worker threads import built-ins from. */
export const NETOPS_MODULE_URL: string = import.meta.url;

/** Every built-in with its type, definition, export name and module ref; pass to createRegistry. */
export const builtinComponents: readonly BuiltinComponent[] = builtinsAt(NETOPS_MODULE_URL);
