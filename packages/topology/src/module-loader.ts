import { pathToFileURL } from 'node:url';
import { ModuleLoadError } from './errors.js';

let tsxRegistered: Promise<void> | undefined;

/**
 * Registers tsx once per thread, so that `.ts` user modules can be imported. Both hooks: a `.ts`
 * file outside any `"type": "module"` package (a topology folder with no package.json) is
 * CommonJS by Node's rules and goes through the CommonJS loader.
 */
function ensureTypeScript(): Promise<void> {
  tsxRegistered ??= Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]).then(([esm, cjs]) => {
    esm.register();
    cjs.register();
  });
  return tsxRegistered;
}

/**
 * A module loaded as CommonJS arrives as `{ default: module.exports }`; when it was compiled from
 * ESM (`__esModule`, as tsx and tsc emit), its exports are the module's real named and default
 * exports.
 */
function esmShaped(ns: Record<string, unknown>): Record<string, unknown> {
  const cjs = ns.default as { __esModule?: unknown } | null | undefined;
  return typeof cjs === 'object' && cjs !== null && cjs.__esModule === true ? (cjs as Record<string, unknown>) : ns;
}

function needsTypeScript(url: string): boolean {
  return /\.(c|m)?tsx?$/.test(new URL(url).pathname);
}

/** Imports a module by file URL or absolute path, TypeScript included. */
export async function importModule(urlOrPath: string): Promise<Record<string, unknown>> {
  const url = urlOrPath.startsWith('file:') || urlOrPath.startsWith('node:') ? urlOrPath : pathToFileURL(urlOrPath).href;
  if (url.startsWith('file:') && needsTypeScript(url)) await ensureTypeScript();
  try {
    return esmShaped((await import(url)) as Record<string, unknown>);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new ModuleLoadError(urlOrPath, `cannot load module ${urlOrPath}: ${msg}`, { cause: err });
  }
}
