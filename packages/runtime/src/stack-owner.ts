/**
 * Which component's code an error came from, read off its stack: for a crash outside any call the
 * engine makes into a component (a component's own timer, an unhandled rejection of its own
 * promise), where the call marker says nothing. Only a component loaded from its own module
 * (`module:` in the topology) can be told apart this way; built-ins share one package module.
 */

/** A component and the URL of the module it was loaded from. */
export interface ModuleOwner {
  readonly component: string;
  readonly url: string;
}

/** Where an error's stack first passes through one component's module: the component and the frame's place. */
export interface StackOwner {
  readonly component: string;
  /** `path:line:col` of the frame. */
  readonly at: string;
}

// "    at fn (file:///x/boom.ts:9:17)" or "    at file:///x/boom.ts:9:17"
const FRAME = /^\s*at (?:.*?\()?((?:file|data|node):[^\s)]*?|\/[^\s)]*?):(\d+):(\d+)\)?\s*$/;

/**
 * The first frame of `stack` that lies in exactly one owner's module, or null: a module that
 * several components were loaded from says nothing about which of them it was.
 */
export function stackOwner(stack: string | undefined, owners: readonly ModuleOwner[]): StackOwner | null {
  if (!stack) return null;
  const byUrl = new Map<string, string | null>();
  for (const o of owners) {
    const url = normalise(o.url);
    const seen = byUrl.get(url);
    byUrl.set(url, seen === undefined || seen === o.component ? o.component : null);
  }
  for (const line of stack.split('\n')) {
    const m = FRAME.exec(line);
    if (!m) continue;
    const component = byUrl.get(normalise(m[1]!));
    if (component === undefined) continue;
    if (component === null) return null;
    const path = m[1]!.startsWith('file://') ? decodeURIComponent(new URL(m[1]!).pathname) : m[1]!;
    return { component, at: `${path}:${m[2]}:${m[3]}` };
  }
  return null;
}

/** A module URL without its query (tsx and loaders add one) and as a file URL when a plain path. */
function normalise(url: string): string {
  const q = url.indexOf('?');
  const bare = q < 0 ? url : url.slice(0, q);
  return bare.startsWith('/') ? `file://${encodeURI(bare)}` : bare;
}
