/**
 * Alert strategies as written in YAML, checked into typed values with errors that name the
 * place (`strategies[2].threshold.window`), and the matchers they use.
 */
import { belowOneMs, describe as describeValue, nearest, parseDuration } from '@qitian/api';
import { throwErrors } from '../../internal/config-errors.js';
import { EVENT_FIELDS, FACILITY_NAMES, SEVERITY_NAMES } from '../../syslog/event.js';

/** Alert severities, most severe first. */
export const ALERT_SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** The strategy kinds; a strategy has exactly one of these keys. */
export const STRATEGY_KINDS = ['threshold', 'rate-of-change', 'new-cluster', 'topn-entry'] as const;
export type StrategyKind = (typeof STRATEGY_KINDS)[number];

/** A strategy or notifier config is wrong; `path` locates it inside the component's config. */
export class StrategyConfigError extends Error {
  override readonly name = 'StrategyConfigError';
  /** Where in the component config: ['strategies', 2, 'threshold', 'window']. */
  readonly path: readonly (string | number)[];

  constructor(path: readonly (string | number)[], message: string) {
    super(`${formatPath(path)}: ${message}`);
    this.path = path;
  }

  /** Read by validation to put the error at this place in the YAML (file:line:col). */
  get configPath(): readonly (string | number)[] {
    return this.path;
  }
}

export function formatPath(path: readonly (string | number)[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

/** Tests one value: a string/number/boolean, one of a list, a `/regex/`, or a numeric range. */
export type ValueTest = (v: unknown) => boolean;

/** A filter on events: field index by name is resolved per input layout. */
export interface EventCondition {
  readonly field: string;
  readonly test: ValueTest;
}

interface StrategyBase {
  readonly name: string;
  readonly severity: AlertSeverity;
  /** The same (strategy, key) does not fire again within this many ms. */
  readonly suppress: number;
  /** Only input from this component, when set. */
  readonly from: string | undefined;
  /** Index in the strategies list. */
  readonly index: number;
}

export interface CountStrategy extends StrategyBase {
  readonly kind: 'threshold' | 'rate-of-change';
  readonly where: readonly EventCondition[];
  readonly window: number;
  /** Fields whose values make the key; empty: one key for everything. */
  readonly by: readonly string[];
  /** threshold: fire at this many matching events in a window. */
  readonly count: number;
  /** rate-of-change: fire when this window's count >= factor x the previous window's... */
  readonly factor: number;
  /** ...and at least this many. */
  readonly minCount: number;
}

export interface NewClusterStrategy extends StrategyBase {
  readonly kind: 'new-cluster';
  /** Only new clusters at least this far from the nearest older one. */
  readonly minDistance: number;
}

export interface TopnEntryStrategy extends StrategyBase {
  readonly kind: 'topn-entry';
  /** Only rankings of this dimension; all when undefined. */
  readonly dimension: string | undefined;
  readonly watch: ValueTest;
  /** Only the first `top` places count; all when 0. */
  readonly top: number;
}

export type Strategy = CountStrategy | NewClusterStrategy | TopnEntryStrategy;

const BASE_KEYS = ['name', 'severity', 'suppress', 'from'];
const KIND_KEYS: Record<StrategyKind, readonly string[]> = {
  threshold: ['where', 'window', 'count', 'by'],
  'rate-of-change': ['where', 'window', 'factor', 'minCount', 'by'],
  'new-cluster': ['minDistance'],
  'topn-entry': ['dimension', 'watch', 'top'],
};

type Path = (string | number)[];

/** Checks the `strategies` list of the alert bolt's config; throws StrategyConfigError. */
export function parseStrategies(raw: unknown, defaultSuppress: number): Strategy[] {
  const path: Path = ['strategies'];
  if (!Array.isArray(raw)) throw new StrategyConfigError(path, `expected a list of strategies, got ${describeValue(raw)}`);
  if (raw.length === 0) throw new StrategyConfigError(path, 'at least one strategy is needed');
  const out: Strategy[] = [];
  const names = new Set<string>();
  // Each strategy is checked even when an earlier one is wrong, so that validation lists them all.
  const errors: StrategyConfigError[] = [];
  raw.forEach((s, i) => {
    const errs: StrategyConfigError[] = [];
    const st = parseStrategy(s, [...path, i], i, defaultSuppress, errs);
    const name = (s as { name?: unknown } | null)?.name;
    if (typeof name === 'string' && name !== '') {
      if (names.has(name)) errs.push(new StrategyConfigError([...path, i, 'name'], `strategy name "${name}" is used twice; names must be unique`));
      names.add(name);
    }
    if (errs.length > 0) errors.push(...errs);
    else if (st !== undefined) out.push(st);
  });
  throwErrors(errors);
  return out;
}

/**
 * Runs one check of a strategy: its value, or `fallback` with its error kept in `errs`, so that
 * the other keys of the same strategy are checked too and validation lists every problem.
 */
export function attempt<T>(errs: StrategyConfigError[], fallback: T, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof AggregateError && err.errors.every((e) => e instanceof StrategyConfigError)) errs.push(...err.errors);
    else if (err instanceof StrategyConfigError) errs.push(err);
    else throw err;
    return fallback;
  }
}

/** One strategy, or undefined when it is wrong (its errors in `errs`, every one found). */
function parseStrategy(raw: unknown, path: Path, index: number, defaultSuppress: number, errs: StrategyConfigError[]): Strategy | undefined {
  const o = attempt(errs, undefined, () => mapping(raw, path));
  if (o === undefined) return undefined;
  const kinds = STRATEGY_KINDS.filter((k) => k in o);
  if (kinds.length !== 1) {
    errs.push(
      new StrategyConfigError(
        path,
        kinds.length === 0
          ? `a strategy needs one of ${STRATEGY_KINDS.join(', ')}` // a misspelt kind is said at its key, below
          : `a strategy has one kind, found ${kinds.join(' and ')}`,
      ),
    );
  }
  const kind = kinds[0];
  attempt(errs, undefined, () => checkKeys(o, path, [...BASE_KEYS, ...(kinds.length > 0 ? kinds : STRATEGY_KINDS)]));
  const name = attempt(errs, '', () => str(o.name, [...path, 'name'], true));
  const severity = attempt(errs, 'warning' as AlertSeverity, () => enumOf(o.severity ?? 'warning', [...path, 'severity'], ALERT_SEVERITIES));
  const suppress = attempt(errs, 0, () => (o.suppress === undefined ? defaultSuppress : duration(o.suppress, [...path, 'suppress'])));
  const from = attempt(errs, undefined, () => str(o.from, [...path, 'from'], false));
  // With no kind, or two, the kind's own keys are not checked: which rules apply is unknown.
  if (kind === undefined || kinds.length !== 1) return undefined;
  const base = { name, severity, suppress, from, index };
  const kpath = [...path, kind];
  const p = attempt(errs, undefined, () => (o[kind] === null || o[kind] === undefined ? {} : mapping(o[kind], kpath)));
  if (p === undefined) return undefined;
  attempt(errs, undefined, () => checkKeys(p, kpath, KIND_KEYS[kind]));
  let strategy: Strategy | undefined;
  switch (kind) {
    case 'threshold':
    case 'rate-of-change': {
      const window = attempt(errs, 1, () => {
        if (p.window === undefined) throw new StrategyConfigError([...kpath, 'window'], 'missing window (a duration such as "5m")');
        const w = duration(p.window, [...kpath, 'window']);
        if (w <= 0) throw new StrategyConfigError([...kpath, 'window'], 'must be more than 0');
        return w;
      });
      const where = attempt(errs, [], () => parseWhere(p.where, [...kpath, 'where']));
      const by = attempt(errs, [], () =>
        p.by === undefined ? [] : stringList(p.by, [...kpath, 'by']).map((f, j) => attempt(errs, f, () => eventField(f, [...kpath, 'by', j]))),
      );
      if (kind === 'threshold') {
        const count = attempt(errs, 1, () => {
          if (p.count === undefined) throw new StrategyConfigError([...kpath, 'count'], 'missing count (fire at this many matching events in a window)');
          return num(p.count, [...kpath, 'count'], 1, true);
        });
        strategy = { ...base, kind, where, window, by, count, factor: 0, minCount: 0 };
        break;
      }
      const factor = attempt(errs, 2, () => {
        if (p.factor === undefined) throw new StrategyConfigError([...kpath, 'factor'], 'missing factor (fire when a window has factor x the previous one)');
        const f = num(p.factor, [...kpath, 'factor'], 1, false);
        if (f <= 1) throw new StrategyConfigError([...kpath, 'factor'], `must be more than 1, got ${f}`);
        return f;
      });
      const minCount = attempt(errs, 10, () => (p.minCount === undefined ? 10 : num(p.minCount, [...kpath, 'minCount'], 1, true)));
      strategy = { ...base, kind, where, window, by, count: 0, factor, minCount };
      break;
    }
    case 'new-cluster':
      strategy = {
        ...base,
        kind,
        minDistance: attempt(errs, 0, () => (p.minDistance === undefined ? 0 : num(p.minDistance, [...kpath, 'minDistance'], 0, false))),
      };
      break;
    case 'topn-entry': {
      const watch = attempt(errs, (() => false) as ValueTest, () => {
        if (p.watch === undefined) throw new StrategyConfigError([...kpath, 'watch'], 'missing watch (the keys, or /patterns/, to watch for)');
        return valueTest(stringScalars(p.watch), [...kpath, 'watch'], undefined);
      });
      strategy = {
        ...base,
        kind,
        dimension: attempt(errs, undefined, () => str(p.dimension, [...kpath, 'dimension'], false)),
        watch,
        top: attempt(errs, 0, () => (p.top === undefined ? 0 : num(p.top, [...kpath, 'top'], 1, true))),
      };
      break;
    }
  }
  return errs.length > 0 ? undefined : strategy;
}

function parseWhere(raw: unknown, path: Path): EventCondition[] {
  if (raw === undefined || raw === null) return [];
  const o = mapping(raw, path);
  // Every condition is checked, so that one pass lists each wrong field.
  const errs: StrategyConfigError[] = [];
  const out = Object.entries(o).map(([field, v]) => {
    attempt(errs, field, () => eventField(field, [...path, field]));
    const names = field === 'severity' ? SEVERITY_NAMES : field === 'facility' ? FACILITY_NAMES : undefined;
    return { field, test: attempt(errs, (() => false) as ValueTest, () => valueTest(v, [...path, field], names)) };
  });
  throwErrors(errs);
  return out;
}

/**
 * A value test from YAML: a scalar (equal), a list (any of), a string `/re/flags` (matches),
 * `{min, max}` (a number within). With `names` (severity, facility keywords), names stand
 * for their numbers, so `severity: err` and `severity: {max: err}` work.
 */
export function valueTest(raw: unknown, path: Path, names: readonly string[] | undefined): ValueTest {
  if (Array.isArray(raw)) {
    if (raw.length === 0) throw new StrategyConfigError(path, 'an empty list matches nothing');
    const tests = raw.map((r, i) => valueTest(r, [...path, i], names));
    const plain = raw.every((r) => typeof r === 'number' || (typeof r === 'string' && !isRegex(r)) || typeof r === 'boolean');
    if (plain) {
      const set = new Set<unknown>(raw.map((r) => scalar(r, names)));
      return (v) => set.has(v);
    }
    return (v) => {
      for (const t of tests) if (t(v)) return true;
      return false;
    };
  }
  if (typeof raw === 'string' && isRegex(raw)) {
    const end = raw.lastIndexOf('/');
    let re: RegExp;
    try {
      re = new RegExp(raw.slice(1, end), raw.slice(end + 1));
    } catch (err) {
      throw new StrategyConfigError(path, `bad pattern ${raw}: ${(err as Error).message}`);
    }
    return (v) => v !== null && v !== undefined && re.test(typeof v === 'string' ? v : String(v));
  }
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') {
    const want = scalar(raw, names);
    if (names && typeof want === 'string' && typeof raw === 'string' && !names.includes(raw)) {
      const near = nearest(raw, names);
      throw new StrategyConfigError(path, `"${raw}" is not one of ${names.join(', ')} or a number${near ? `; did you mean "${near}"?` : ''}`);
    }
    return (v) => v === want;
  }
  if (typeof raw === 'object' && raw !== null) {
    const o = raw as Record<string, unknown>;
    checkKeys(o, path, ['min', 'max']);
    const min = o.min === undefined ? Number.NEGATIVE_INFINITY : rangeBound(o.min, [...path, 'min'], names);
    const max = o.max === undefined ? Number.POSITIVE_INFINITY : rangeBound(o.max, [...path, 'max'], names);
    if (o.min === undefined && o.max === undefined) throw new StrategyConfigError(path, 'a range needs min or max');
    return (v) => typeof v === 'number' && v >= min && v <= max;
  }
  throw new StrategyConfigError(path, `expected a value, a list of values, a /pattern/ or {min, max}, got ${describeValue(raw)}`);
}

/** Ranking keys are strings: `watch: [443]` means "443". */
function stringScalars(raw: unknown): unknown {
  if (Array.isArray(raw)) return raw.map(stringScalars);
  return typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : raw;
}

function isRegex(s: string): boolean {
  return s.length >= 2 && s[0] === '/' && s.lastIndexOf('/') > 0;
}

function scalar(raw: unknown, names: readonly string[] | undefined): unknown {
  if (names && typeof raw === 'string') {
    const i = names.indexOf(raw);
    if (i >= 0) return i;
  }
  return raw;
}

function rangeBound(raw: unknown, path: Path, names: readonly string[] | undefined): number {
  const v = scalar(raw, names);
  if (typeof v !== 'number')
    throw new StrategyConfigError(path, `expected a number${names ? ` or one of ${names.join(', ')}` : ''}, got ${describeValue(raw)}`);
  return v;
}

function eventField(f: string, path: Path): string {
  if (!(EVENT_FIELDS as readonly string[]).includes(f)) {
    const near = nearest(f, EVENT_FIELDS);
    throw new StrategyConfigError(path, `"${f}" is not an event field${near ? `; did you mean "${near}"?` : ` (fields: ${EVENT_FIELDS.join(', ')})`}`);
  }
  return f;
}

export function mapping(raw: unknown, path: Path): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new StrategyConfigError(path, `expected a mapping, got ${describeValue(raw)}`);
  return raw as Record<string, unknown>;
}

export function checkKeys(o: Record<string, unknown>, path: Path, known: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) {
      const near = nearest(k, known);
      throw new StrategyConfigError([...path, k], `unknown key "${k}"${near ? `; did you mean "${near}"?` : `; known keys: ${known.join(', ')}`}`);
    }
  }
}

export function str(raw: unknown, path: Path, required: true): string;
export function str(raw: unknown, path: Path, required: false): string | undefined;
export function str(raw: unknown, path: Path, required: boolean): string | undefined {
  if (raw === undefined || raw === null) {
    if (required) throw new StrategyConfigError(path, `missing ${path[path.length - 1]}`);
    return undefined;
  }
  if (typeof raw !== 'string' || raw.length === 0) throw new StrategyConfigError(path, `expected a non-empty string, got ${describeValue(raw)}`);
  return raw;
}

function stringList(raw: unknown, path: Path): string[] {
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'string'))
    throw new StrategyConfigError(path, `expected a list of field names, got ${describeValue(raw)}`);
  return list as string[];
}

export function num(raw: unknown, path: Path, min: number, int: boolean): number {
  if (typeof raw !== 'number' || !Number.isFinite(raw)) throw new StrategyConfigError(path, `expected a number, got ${describeValue(raw)}`);
  if (int && !Number.isInteger(raw)) throw new StrategyConfigError(path, `expected an integer, got ${raw}`);
  if (raw < min) throw new StrategyConfigError(path, `must be >= ${min}, got ${raw}`);
  return raw;
}

export function duration(raw: unknown, path: Path): number {
  const ms = typeof raw === 'string' ? parseDuration(raw) : undefined;
  if (ms === undefined) throw new StrategyConfigError(path, `expected a duration such as "5m" (ms, s, m, h, d), got ${describeValue(raw)}`);
  if (belowOneMs(raw as string)) throw new StrategyConfigError(path, `must be 0 or at least 1ms (no timer waits less than 1ms), got ${describeValue(raw)}`);
  return ms;
}

export function enumOf<T extends string>(raw: unknown, path: Path, values: readonly T[]): T {
  if (typeof raw !== 'string' || !values.includes(raw as T)) {
    const near = typeof raw === 'string' ? nearest(raw, values) : undefined;
    throw new StrategyConfigError(path, `expected one of ${values.join(', ')}, got ${describeValue(raw)}${near ? `; did you mean "${near}"?` : ''}`);
  }
  return raw as T;
}
