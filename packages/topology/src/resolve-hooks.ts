/**
 * ESM resolve hook for user modules: a bare `@qitian/...` import that the user's own folder
 * cannot resolve (a topology kept outside any project with node_modules) resolves from the
 * engine's installation instead, so component code always sees the engine's own API.
 */
interface ResolveContext {
  parentURL?: string;
  conditions?: string[];
  importAttributes?: Record<string, string>;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string; shortCircuit?: boolean }>;

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string; shortCircuit?: boolean }> {
  try {
    return await next(specifier, context);
  } catch (err) {
    if (!specifier.startsWith('@qitian/')) throw err;
    return next(specifier, { ...context, parentURL: import.meta.url });
  }
}
