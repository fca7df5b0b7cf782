import { pathToFileURL } from 'node:url';
import { ModuleLoadError } from './errors.js';

let tsxRegistered: Promise<void> | undefined;

/** Registers tsx's ESM loader once per thread, so that `.ts` user modules can be imported. */
function ensureTypeScript(): Promise<void> {
  tsxRegistered ??= import('tsx/esm/api').then((m) => {
    m.register();
  });
  return tsxRegistered;
}

function needsTypeScript(url: string): boolean {
  return /\.(c|m)?tsx?$/.test(new URL(url).pathname);
}

/** Imports a module by file URL or absolute path, TypeScript included. */
export async function importModule(urlOrPath: string): Promise<Record<string, unknown>> {
  const url = urlOrPath.startsWith('file:') || urlOrPath.startsWith('node:') ? urlOrPath : pathToFileURL(urlOrPath).href;
  if (url.startsWith('file:') && needsTypeScript(url)) await ensureTypeScript();
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new ModuleLoadError(urlOrPath, `cannot load module ${urlOrPath}: ${msg}`, { cause: err });
  }
}
