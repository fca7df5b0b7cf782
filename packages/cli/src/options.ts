import { UsageError } from './errors.js';

/** Collects repeated `--set name=value` options into variables for `${name}` substitution. */
export function collectSet(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set expects name=value, got "${value}"`);
  const name = value.slice(0, eq).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new UsageError(`--set: "${name}" is not a variable name: a letter or _ first, then letters, digits and _ (as \${name} in the file)`);
  return { ...previous, [name]: value.slice(eq + 1) };
}

export function positiveInt(flag: string): (value: string) => number {
  return (value) => {
    // Digits only: Number() would also take "0x2" and "1e1".
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} expects a positive integer, got "${value}"`);
    return n;
  };
}

/** The longest wait a Node timer can do, in seconds (2^31 - 1 ms): a longer one fires at once. */
const MAX_TIMER_SECONDS = 2_147_483.647;

export function positiveNumber(flag: string): (value: string) => number {
  return (value) => {
    // Decimal, with an exponent if need be (`1e3`); not hex or `Infinity`.
    const n = /^\s*(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(value) ? Number(value) : Number.NaN;
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} expects a positive number of seconds, got "${value}"`);
    if (n > MAX_TIMER_SECONDS)
      throw new UsageError(`${flag} can be at most ${MAX_TIMER_SECONDS} seconds (24.8 days, the longest a timer can wait), got "${value}"`);
    return n;
  };
}

export function port(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} expects a port number from 0 to 65535, got "${value}"`);
    return n;
  };
}
