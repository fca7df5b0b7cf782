import { builtinComponents } from '@qitian/netops';
import { type ComponentRegistry, createRegistry } from '@qitian/topology';

/** The registry of built-in component types the CLI validates and runs topologies with. */
export function builtinRegistry(): ComponentRegistry {
  return createRegistry(builtinComponents.map((b) => ({ type: b.type, definition: b.definition, ref: b.ref })));
}
