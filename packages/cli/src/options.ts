import { UsageError } from './errors.js';

/** Collects repeated `--set name=value` options into variables for `${name}` substitution. */
export function collectSet(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set expects name=value, got "${value}"`);
  const name = value.slice(0, eq).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new UsageError(`--set: "${name}" is not a variable name (letters, digits and _, as in \${${name.replace(/[^A-Za-z0-9_]/g, '_')}})`);
  return { ...previous, [name]: value.slice(eq + 1) };
}

export function positiveInt(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} expects a positive integer, got "${value}"`);
    return n;
  };
}

export function positiveNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} expects a positive number of seconds, got "${value}"`);
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
