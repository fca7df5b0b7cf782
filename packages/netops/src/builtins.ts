import type { ComponentDefinition } from '@qitian/api';
import { fileSink } from './sinks/file/index.js';
import { stdoutSink } from './sinks/stdout/index.js';
import { fileSpout } from './spouts/file/index.js';
import { generatorSpout } from './spouts/generator/index.js';

/**
 * A built-in component: its type name in YAML, its definition, and the named export of the
 * package's entry module that holds the definition (so that a worker thread can import it).
 * Shaped like the topology package's RegisteredComponent, which this package may not import.
 */
export interface BuiltinComponent {
  readonly type: string;
  readonly definition: ComponentDefinition;
  readonly export: string;
  readonly ref: { readonly url: string; readonly export: string };
}

/** The built-ins without their module URL. Spout and sink types are separate name spaces. */
export const builtinEntries = [
  { type: 'file', definition: fileSpout, export: 'fileSpout' },
  { type: 'generator', definition: generatorSpout, export: 'generatorSpout' },
  { type: 'file', definition: fileSink, export: 'fileSink' },
  { type: 'stdout', definition: stdoutSink, export: 'stdoutSink' },
] as const satisfies readonly Omit<BuiltinComponent, 'ref'>[];

/** The built-ins, each with a ref to `moduleUrl` (the package entry module) and its export. */
export function builtinsAt(moduleUrl: string): BuiltinComponent[] {
  return builtinEntries.map((e) => ({ ...e, ref: { url: moduleUrl, export: e.export } }));
}
