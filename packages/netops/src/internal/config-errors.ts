/**
 * Config checks that report every problem in one pass: errors are gathered, then thrown together
 * (validation reports each error of an AggregateError at its own `configPath`).
 */

/** Runs `check`, adding what it throws to `errors` (each error of an AggregateError on its own). */
export function collectErrors(errors: unknown[], check: () => unknown): void {
  try {
    check();
  } catch (err) {
    errors.push(...(err instanceof AggregateError ? err.errors : [err]));
  }
}

/** Throws the error when there is one, an AggregateError of them (its message, theirs joined) when there are several. */
export function throwErrors(errors: readonly unknown[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; '));
}
