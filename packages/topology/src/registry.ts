import type { ComponentDefinition } from '@qitian/api';
import type { ComponentKind, ModuleRef } from './types.js';

/** A built-in component: its type name, definition, and where a worker thread imports it from. */
export interface RegisteredComponent {
  readonly type: string;
  readonly definition: ComponentDefinition;
  readonly ref: ModuleRef;
}

/**
 * The component types a topology may name. Spout, bolt and sink types are separate name spaces,
 * so `file` can be both a spout and a sink. Built from an explicit list: no registration by
 * import side effect.
 */
export class ComponentRegistry {
  private readonly byKind = new Map<ComponentKind, Map<string, RegisteredComponent>>();

  constructor(entries: readonly RegisteredComponent[] = []) {
    for (const e of entries) this.add(e);
  }

  add(entry: RegisteredComponent): this {
    const kind = entry.definition.kind;
    let m = this.byKind.get(kind);
    if (!m) this.byKind.set(kind, (m = new Map()));
    if (m.has(entry.type)) throw new Error(`duplicate ${kind} type "${entry.type}"`);
    m.set(entry.type, entry);
    return this;
  }

  get(kind: ComponentKind, type: string): RegisteredComponent | undefined {
    return this.byKind.get(kind)?.get(type);
  }

  types(kind: ComponentKind): string[] {
    return [...(this.byKind.get(kind)?.keys() ?? [])].sort();
  }

  all(): RegisteredComponent[] {
    return [...this.byKind.values()].flatMap((m) => [...m.values()]);
  }
}

export function createRegistry(entries: readonly RegisteredComponent[]): ComponentRegistry {
  return new ComponentRegistry(entries);
}
