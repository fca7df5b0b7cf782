/**
 * The alert bolt's input filter, run by the engine in the sending task: an event that no count
 * strategy's `where` matches would only be looked at and passed over, so it is not sent at all.
 * Most events match no strategy, and this saves copying them to the alert bolt's thread.
 */
import type { InputStream } from '@qitian/api';
import { inputKind, missingFields } from './alert.js';
import type { AlertBoltConfig } from './spec.js';
import { type CountStrategy, parseStrategies } from './strategies.js';

/** One strategy's tests and where each reads in the sender's values. */
interface Match {
  readonly tests: readonly ((v: unknown) => boolean)[];
  readonly at: readonly number[];
}

/**
 * A test that takes exactly the events some count strategy of this input could count, or
 * undefined when the bolt needs every tuple of the input: rankings, cluster alerts, or a count
 * strategy without `where` (every event counts).
 */
export function alertInputFilter(config: AlertBoltConfig, input: InputStream): ((values: readonly unknown[]) => boolean) | undefined {
  if (config.strategies === undefined || inputKind(input.fields) !== 'event') return undefined;
  const counting = parseStrategies(config.strategies, config.suppress).filter(
    (s): s is CountStrategy => (s.kind === 'threshold' || s.kind === 'rate-of-change') && (s.from === undefined || s.from === input.from),
  );
  const matches: Match[] = [];
  for (const s of counting) {
    // A strategy that needs a field this input lacks ignores the input (the bolt says so once).
    if (missingFields(s, input.fields).length > 0) continue;
    if (s.where.length === 0) return undefined;
    matches.push({ tests: s.where.map((w) => w.test), at: s.where.map((w) => input.indexOf(w.field)) });
  }
  // No strategy counts this input: let it through, so that the bolt's own warnings and counters still see it.
  if (matches.length === 0) return undefined;
  return (values) => {
    for (let m = 0; m < matches.length; m++) {
      const { tests, at } = matches[m]!;
      let all = true;
      for (let i = 0; i < tests.length; i++) {
        if (!tests[i]!(values[at[i]!])) {
          all = false;
          break;
        }
      }
      if (all) return true;
    }
    return false;
  };
}
