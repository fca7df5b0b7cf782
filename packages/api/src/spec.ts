/**
 * A component's configuration schema, declared once. The same value drives YAML validation,
 * `qitian validate`, and the generated docs page; the config type a component receives is
 * inferred from it.
 */

export type FieldType = 'string' | 'int' | 'number' | 'boolean' | 'duration' | 'enum' | 'list' | 'map';

interface FieldBase<T> {
  readonly type: FieldType;
  readonly description: string;
  readonly required?: boolean;
  readonly default?: T;
  readonly example?: unknown;
  /** Phantom member carrying the value type; never set at run time. */
  readonly __value?: T;
}

export interface StringField extends FieldBase<string> {
  readonly type: 'string';
  readonly minLength?: number;
  /** At most this many bytes in UTF-8 (names another system limits, such as PostgreSQL's 63-byte identifiers). */
  readonly maxBytes?: number;
}
export interface IntField extends FieldBase<number> {
  readonly type: 'int';
  readonly min?: number;
  readonly max?: number;
}
export interface NumberField extends FieldBase<number> {
  readonly type: 'number';
  readonly min?: number;
  readonly max?: number;
}
export interface BooleanField extends FieldBase<boolean> {
  readonly type: 'boolean';
}
/** A duration written as `500ms`, `30s`, `5m`, `2h`; the component receives milliseconds. */
export interface DurationField extends FieldBase<number> {
  readonly type: 'duration';
  readonly min?: number;
  /** At most this many ms; MAX_DURATION_MS when unset. */
  readonly max?: number;
}

/**
 * The longest duration a config accepts: what a Node timer can wait (2^31 - 1 ms, about 24.8
 * days). A longer setTimeout fires after 1 ms, so a longer value would silently mean "at once".
 */
export const MAX_DURATION_MS = 2_147_483_647;
export interface EnumField<T extends string = string> extends FieldBase<T> {
  readonly type: 'enum';
  readonly values: readonly T[];
}
export interface ListField<T = unknown> extends FieldBase<T[]> {
  readonly type: 'list';
  readonly items: 'string' | 'number' | 'any';
}
export interface MapField extends FieldBase<Record<string, unknown>> {
  readonly type: 'map';
}

export type Field = StringField | IntField | NumberField | BooleanField | DurationField | EnumField | ListField | MapField;

export type Fields = Readonly<Record<string, Field>>;

type ValueOf<F> = F extends FieldBase<infer T> ? T : never;
type HasValue<F> = F extends { required: true } ? true : F extends { default: unknown } ? true : false;

/** The config object a component receives, inferred from its fields. */
export type ConfigOf<F extends Fields> = {
  -readonly [K in keyof F as HasValue<F[K]> extends true ? K : never]: ValueOf<F[K]>;
} & {
  -readonly [K in keyof F as HasValue<F[K]> extends true ? never : K]?: ValueOf<F[K]>;
};

export interface SpecExample {
  readonly title: string;
  /** A YAML fragment: one component entry as it appears under spouts/bolts/sinks. */
  readonly yaml: string;
}

export interface ComponentSpec<F extends Fields = Fields> {
  readonly summary: string;
  readonly description?: string;
  readonly fields: F;
  readonly examples?: readonly SpecExample[];
}

/** Field builders; they keep literal types so that `ConfigOf` can infer. */
export const field = {
  string: <const O extends Omit<StringField, 'type' | '__value'>>(o: O) => ({ type: 'string', ...o }) as O & StringField,
  int: <const O extends Omit<IntField, 'type' | '__value'>>(o: O) => ({ type: 'int', ...o }) as O & IntField,
  number: <const O extends Omit<NumberField, 'type' | '__value'>>(o: O) => ({ type: 'number', ...o }) as O & NumberField,
  boolean: <const O extends Omit<BooleanField, 'type' | '__value'>>(o: O) => ({ type: 'boolean', ...o }) as O & BooleanField,
  duration: <const O extends Omit<DurationField, 'type' | '__value' | 'default'> & { default?: string | number }>(o: O) =>
    ({ type: 'duration', ...o, default: o.default === undefined ? undefined : parseDurationOrThrow(o.default) }) as Omit<O, 'default'> &
      DurationField &
      (O extends { default: unknown } ? { default: number } : unknown),
  enum: <const T extends string, const O extends Omit<EnumField<T>, 'type' | '__value'>>(o: O & { values: readonly T[] }) =>
    ({ type: 'enum', ...o }) as O & EnumField<T>,
  list: <const O extends Omit<ListField, 'type' | '__value'>>(o: O) =>
    ({ type: 'list', ...o }) as O & ListField<O['items'] extends 'string' ? string : O['items'] extends 'number' ? number : unknown>,
  map: <const O extends Omit<MapField, 'type' | '__value'>>(o: O) => ({ type: 'map', ...o }) as O & MapField,
};

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** One part of a duration: a number (`30`, `1.5`, `.5`) and a unit. */
const DURATION_PART_RE = /(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)\s*/y;

/**
 * Parses `250ms`, `30s`, `1.5m`, `.5s`, `2h`, `1d`, and compound durations with units from the
 * largest down (`1h30m`, `1m 30s`, `2d12h`), to milliseconds; undefined when malformed.
 */
export function parseDuration(text: string): number | undefined {
  const ms = exactDurationMs(text);
  return ms === undefined ? undefined : Math.round(ms);
}

/** The milliseconds a duration written as text stands for, not rounded (`0.5ms` is 0.5); undefined when malformed. */
export function exactDurationMs(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  let ms = 0;
  let last = Number.POSITIVE_INFINITY;
  DURATION_PART_RE.lastIndex = 0;
  while (DURATION_PART_RE.lastIndex < t.length) {
    const m = DURATION_PART_RE.exec(t);
    if (!m) return undefined;
    const unit = DURATION_UNITS[m[2]!]!;
    // Each unit once, largest first: `30m1h` is more likely a slip than 90 minutes.
    if (unit >= last) return undefined;
    last = unit;
    ms += Number(m[1]) * unit;
  }
  return ms;
}

/**
 * True for a duration written above 0 but below 1ms: parseDuration
 * would round it to 1ms or to 0, which often means "off". Config readers refuse it instead.
 */
export function belowOneMs(text: string): boolean {
  const ms = exactDurationMs(text);
  return ms !== undefined && ms > 0 && ms < 1;
}

/** `250ms`, `30s`, `5m`, `2h`, `1d`: a duration in the largest whole unit, the inverse of parseDuration. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function parseDurationOrThrow(v: string | number): number {
  if (typeof v === 'number') return v;
  const ms = parseDuration(v);
  if (ms === undefined) throw new TypeError(`bad duration default "${v}"`);
  return ms;
}

/** One problem found in a config value; `path` is relative to the config object. */
export interface ConfigIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** A key the spec does not have: the rest of the config is checked as if it were absent. */
  readonly unknownKey?: true;
}

export interface ConfigResult<C> {
  readonly value: C;
  readonly issues: readonly ConfigIssue[];
}

/**
 * Checks `raw` against the fields and fills in defaults. Unknown keys are issues (with the
 * nearest known key suggested); nothing is coerced silently except durations to milliseconds.
 */
export function validateConfig<F extends Fields>(fields: F, raw: unknown): ConfigResult<ConfigOf<F>> {
  const issues: ConfigIssue[] = [];
  const out: Record<string, unknown> = {};
  const input = raw ?? {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    issues.push({ path: [], message: `config must be a mapping, got ${describe(input)}` });
    return { value: out as ConfigOf<F>, issues };
  }
  const given = input as Record<string, unknown>;
  const known = Object.keys(fields);
  for (const key of Object.keys(given)) {
    if (!(key in fields)) {
      const near = nearest(key, known);
      issues.push({
        path: [key],
        message: `unknown config key "${key}"${near ? `; did you mean "${near}"?` : known.length ? `; known keys: ${known.join(', ')}` : '; this component takes no config'}`,
        unknownKey: true,
      });
    }
  }
  for (const [key, f] of Object.entries(fields)) {
    const v = given[key];
    if (v === undefined || v === null) {
      if (f.required) issues.push({ path: [key], message: `missing required config key "${key}" (${f.description})` });
      else if (f.default !== undefined) out[key] = f.default;
      continue;
    }
    const checked = checkField(f, v);
    if (typeof checked === 'string') issues.push({ path: [key], message: `${key}: ${checked}` });
    else out[key] = checked.value;
  }
  return { value: out as ConfigOf<F>, issues };
}

function checkField(f: Field, v: unknown): { value: unknown } | string {
  switch (f.type) {
    case 'string':
      if (typeof v !== 'string') return `expected a string, got ${describe(v)}`;
      if (f.minLength !== undefined && v.length < f.minLength) return `must be at least ${f.minLength} characters`;
      if (f.maxBytes !== undefined) {
        const bytes = new TextEncoder().encode(v).length;
        if (bytes > f.maxBytes) return `must be at most ${f.maxBytes} bytes in UTF-8, got ${bytes}`;
      }
      return { value: v };
    case 'int':
    case 'number': {
      if (typeof v !== 'number' || Number.isNaN(v)) return `expected ${f.type === 'int' ? 'an integer' : 'a number'}, got ${describe(v)}`;
      // YAML's .inf, or 1e400: no rate, size or count is infinite (and JSON would write it as null).
      if (!Number.isFinite(v)) return `expected a finite number, got ${v}`;
      if (f.type === 'int' && !Number.isInteger(v)) return `expected an integer, got ${v}`;
      if (f.min !== undefined && v < f.min) return `must be >= ${f.min}, got ${v}`;
      if (f.max !== undefined && v > f.max) return `must be <= ${f.max}, got ${v}`;
      return { value: v };
    }
    case 'boolean':
      if (typeof v !== 'boolean') return `expected true or false, got ${describe(v)}`;
      return { value: v };
    case 'duration': {
      // Zero is zero in every unit: `flushInterval: 0` needs none. Any other bare number is ambiguous.
      if (v === 0 || v === '0') {
        if (f.min !== undefined && 0 < f.min) return `must be at least ${f.min}ms`;
        return { value: 0 };
      }
      if (typeof v === 'number') return `durations need a unit, e.g. "${v}s" or "${v}ms"`;
      if (typeof v !== 'string') return `expected a duration such as "30s", got ${describe(v)}`;
      const ms = parseDuration(v);
      if (ms === undefined) return `"${v}" is not a duration; write a number and a unit (ms, s, m, h, d), e.g. "30s", "1.5h" or "1h30m"`;
      if (f.min !== undefined && ms < f.min) return `must be at least ${f.min}ms`;
      const max = f.max ?? MAX_DURATION_MS;
      if (ms > max) {
        const limit = max === MAX_DURATION_MS ? `24.8 days (${MAX_DURATION_MS}ms, the longest a timer can wait)` : formatDuration(max);
        return `must be at most ${limit}, got "${v}"`;
      }
      return { value: ms };
    }
    case 'enum':
      if (typeof v !== 'string' || !f.values.includes(v)) {
        const near = typeof v === 'string' ? nearest(v, f.values) : undefined;
        return `expected one of ${f.values.join(', ')}, got ${describe(v)}${near ? `; did you mean "${near}"?` : ''}`;
      }
      return { value: v };
    case 'list': {
      if (!Array.isArray(v)) return `expected a list, got ${describe(v)}`;
      if (f.items !== 'any') {
        const bad = v.findIndex((x) => typeof x !== f.items);
        if (bad >= 0) return `item ${bad} must be a ${f.items}, got ${describe(v[bad])}`;
      }
      return { value: v };
    }
    case 'map':
      if (typeof v !== 'object' || Array.isArray(v)) return `expected a mapping, got ${describe(v)}`;
      return { value: v };
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') {
    // A whole file read as one string (a log given as the topology) must not flood the terminal.
    if (v.length > DESCRIBE_MAX) return `"${v.slice(0, DESCRIBE_MAX).split('\n')[0]}..." (a string of ${v.length} characters)`;
    return `"${v}"`;
  }
  return `${typeof v} ${String(v)}`;
}

/** Characters of a string value an error message quotes at most. */
const DESCRIBE_MAX = 80;

/** The known word within edit distance 2 (or a third of its length) of `word`, if any. */
export function nearest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Math.max(2, Math.floor(word.length / 3)) + 1;
  const lower = word.toLowerCase();
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestDist) {
      best = k;
      bestDist = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/**
 * `a.b[2].c` as path segments: ['a', 'b', 2, 'c']. For errors that name their place in a config
 * as text (`dimensions[2].fields`).
 */
export function parseConfigPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

/**
 * Where in a component's config an error its definition threw (from `outputs`, `parallelismLimit`,
 * `tickMs`...) is about: its `configPath`, a list of keys and indexes. Validation then reports
 * the error at that place in the YAML, file:line:col, instead of at the component. Undefined for
 * an error without one.
 */
export function configPathOf(err: unknown): readonly (string | number)[] | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const path = (err as { configPath?: unknown }).configPath;
  if (!Array.isArray(path) || path.length === 0) return undefined;
  return path.every((p) => typeof p === 'string' || typeof p === 'number') ? (path as (string | number)[]) : undefined;
}
