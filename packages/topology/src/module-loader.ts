import { existsSync } from 'node:fs';
import Module, { createRequire, register } from 'node:module';
import { delimiter, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ModuleLoadError } from './errors.js';

let tsxRegistered: Promise<void> | undefined;
let engineResolution = false;

/**
 * User code imports `@qitian/api` wherever it lives. When its own folder has no node_modules
 * with it, the import resolves from the engine's installation: for ES modules through a resolve
 * hook, for CommonJS (a `.ts` file outside a `"type": "module"` package) through NODE_PATH.
 * Once per thread.
 */
function ensureEngineResolution(): void {
  if (engineResolution) return;
  engineResolution = true;
  // Absent only when this file runs from source under a test runner, which resolves by itself.
  const hooks = new URL('./resolve-hooks.js', import.meta.url);
  if (existsSync(fileURLToPath(hooks))) register(hooks);
  const candidates = createRequire(import.meta.url).resolve.paths('@qitian/api') ?? [];
  const nodeModules = candidates.find((dir) => existsSync(join(dir, '@qitian', 'api')));
  if (nodeModules) {
    process.env.NODE_PATH = [nodeModules, process.env.NODE_PATH].filter(Boolean).join(delimiter);
    (Module as unknown as { _initPaths(): void })._initPaths();
  }
}

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
  if (url.startsWith('file:')) {
    ensureEngineResolution();
    if (needsTypeScript(url)) await ensureTypeScript();
  }
  try {
    return esmShaped((await import(url)) as Record<string, unknown>);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const at = err instanceof Error ? frameIn(err.stack, url) : undefined;
    throw new ModuleLoadError(urlOrPath, `cannot load module ${urlOrPath}: ${msg}${at ? ` (at ${at})` : ''}`, { cause: err });
  }
}

// "    at fn (file:///x/boom.ts:9:17)", "    at /x/boom.ts:9:17" (a module tsx compiled as CommonJS)
const FRAME = /^\s*at (?:.*?\()?(file:[^\s)]*?|\/[^\s)]*?):(\d+):(\d+)\)?\s*$/;

/**
 * `path:line:col` of the first frame of `stack` in the module itself: where its top level threw,
 * which the message alone ("Cannot read properties of undefined") does not say.
 */
function frameIn(stack: string | undefined, url: string): string | undefined {
  if (!stack) return undefined;
  const path = fileURLToPath(url);
  for (const line of stack.split('\n')) {
    const m = FRAME.exec(line);
    if (!m) continue;
    // tsx adds a query to the URLs of the modules it compiles.
    const where = m[1]!.replace(/\?.*$/, '');
    if (where !== url && where !== path) continue;
    return `${path}:${m[2]}:${m[3]}`;
  }
  return undefined;
}
