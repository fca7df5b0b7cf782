/**
 * Durations below their minimum, caught before they are rounded.
 *
 * parseDuration (@qitian/api) rounds to whole milliseconds, so `0.5ms` becomes 1ms and would pass
 * a minimum of 1ms, and `0.4ms` becomes 0 and would mean "off" where 0 is allowed. A value written
 * below the minimum is an error naming the value and the minimum instead. Rounding that stays at
 * or above the minimum (`1.5ms` is 2ms) is kept: it is documented in docs/yaml.md.
 */
import { type ConfigIssue, type ConfigOf, type ConfigResult, exactDurationMs, type Fields, formatDuration, validateConfig } from '@qitian/api';

/**
 * Why a duration value is below what a key takes (`min`, in ms; none or 0: zero or at least 1ms,
 * no timer waiting less), as `must be ..., got "0.5ms"`; undefined when it is not, or when it is
 * not a duration at all (that is for validateConfig to say).
 */
export function durationBelowMinimum(value: unknown, min: number | undefined): string | undefined {
  const exact = value === 0 ? 0 : typeof value === 'string' ? exactDurationMs(value) : undefined;
  if (exact === undefined) return undefined;
  const got = typeof value === 'string' ? JSON.stringify(value) : String(value);
  if (min !== undefined && min > 0) {
    return exact < min ? `must be at least ${formatDuration(min)}, got ${got}` : undefined;
  }
  return exact > 0 && exact < 1 ? `must be 0 or at least 1ms (no timer waits less than 1ms), got ${got}` : undefined;
}

/**
 * validateConfig, and durations written below their key's minimum reported as such (each once,
 * instead of what validateConfig says about the rounded value).
 */
export function validateConfigExact<F extends Fields>(fields: F, raw: unknown): ConfigResult<ConfigOf<F>> {
  const result = validateConfig(fields, raw);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return result;
  const given = raw as Record<string, unknown>;
  const low: ConfigIssue[] = [];
  for (const [key, f] of Object.entries(fields)) {
    if (f.type !== 'duration' || !Object.hasOwn(given, key)) continue;
    const why = durationBelowMinimum(given[key], f.min);
    if (why) low.push({ path: [key], message: `${key}: ${why}` });
  }
  if (low.length === 0) return result;
  const flagged = new Set(low.map((i) => i.path[0]));
  return { value: result.value, issues: [...result.issues.filter((i) => !flagged.has(i.path[0]!)), ...low] };
}
