import type { Logger, Tuple } from '@qitian/api';

/**
 * Turns tuples into lines: JSON objects (`{"field":value,...}`) or tab-separated text. Values
 * JSON cannot hold are written as something it can, never an error: a bigint as a decimal
 * string, bytes (Uint8Array, Buffer) as a base64 string, a Map as an object, a Set as an array,
 * an Error as {name, message}, a RegExp as its /source/flags, NaN and the infinities as null,
 * undefined as null; a value that cannot be serialized at all
 * (a cycle, a toJSON that throws) as a string saying so, `"[unserializable: cyclic object]"`,
 * counted in `unrepresentable`: the line is still written.
 */

function base64(v: Uint8Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

/** JSON.stringify replacer for values nested inside objects and arrays. */
function replacer(this: unknown, key: string, value: unknown): unknown {
  // toJSON has already run on `value`; the holder still has the original (a Buffer's toJSON
  // would give {type, data}).
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Uint8Array) return base64(original);
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'object':
      if (value === null) return null;
      if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<unknown>);
      if (value instanceof Map) {
        const o: Record<string, unknown> = {};
        for (const [k, v] of value) o[String(k)] = v;
        return converted(this, value, o);
      }
      if (value instanceof Set) return converted(this, value, [...value]);
      // JSON.stringify writes both as {}: what they say would be lost.
      if (value instanceof Error) return { name: value.name, message: value.message };
      if (value instanceof RegExp) return String(value);
      return value;
    default:
      return value;
  }
}

/** The Map or Set each object the replacer made stands for, and the holder it was made in. */
const convertedFrom = new WeakMap<object, Map<unknown, unknown> | Set<unknown>>();
const convertedIn = new WeakMap<object, unknown>();

/**
 * Records `to`, made from `from` inside `holder`, after checking that `from` is not already being
 * converted higher up. JSON.stringify sees a cycle through an object or array, but not one made
 * only of Maps and Sets (a Map holding itself): each pass converts them anew, so it recursed until
 * the stack overflowed.
 */
function converted<T extends object>(holder: unknown, from: Map<unknown, unknown> | Set<unknown>, to: T): T {
  for (let h = holder; typeof h === 'object' && h !== null; h = convertedIn.get(h)) {
    if (convertedFrom.get(h) === from) throw new TypeError('Converting circular structure to JSON (through a Map or Set)');
  }
  convertedFrom.set(to, from);
  convertedIn.set(to, holder);
  return to;
}

/** The first value a formatter could not serialize: its field (when known) and what was written instead. */
export interface Unrepresentable {
  field: string | undefined;
  /** Why: `cyclic object`, or the error serializing it threw. */
  readonly reason: string;
  /** What was written in its place. */
  readonly written: string;
}

/** Where a sink counts and logs what its formatter could not serialize (its TopologyContext). */
export interface UnrepresentableReport {
  count(name: string, delta: number, reason?: string): void;
  readonly logger: Logger;
}

export class LineFormatter {
  /** Values written as a placeholder because JSON could not represent them; read and reset by the sink. */
  unrepresentable = 0;
  /** The first such value ever met (kept, not reset). */
  firstUnrepresentable: Unrepresentable | undefined;
  /** The last value that could not be serialized, until json() or text() finds its field. */
  private lastUnrepresentable: unknown;
  private loggedUnrepresentable = false;

  /** One plan per distinct fields array seen (streams are few); the last one first. */
  private plans: Plan[] = [];

  constructor(
    /** Fields to write, in this order; all of the tuple's when undefined. */
    private readonly only: readonly string[] | undefined,
  ) {}

  /** `{"a":1,"b":"x"}` followed by a newline. */
  json(tuple: Tuple): string {
    const plan = this.planFor(tuple.fields);
    const values = tuple.values;
    const idx = plan.indexes;
    const keys = plan.jsonKeys;
    if (idx.length === 0) return '{}\n';
    const before = this.unrepresentable;
    let line = keys[0]! + this.jsonValue(idx[0]! < 0 ? undefined : values[idx[0]!]);
    for (let k = 1; k < idx.length; k++) line += keys[k]! + this.jsonValue(idx[k]! < 0 ? undefined : values[idx[k]!]);
    if (this.unrepresentable !== before) this.nameField(plan, values);
    return line + '}\n';
  }

  /** Values separated by tabs, followed by a newline; tabs and newlines inside values become \t, \n, \r. */
  text(tuple: Tuple): string {
    const plan = this.planFor(tuple.fields);
    const values = tuple.values;
    const idx = plan.indexes;
    if (idx.length === 0) return '\n';
    const before = this.unrepresentable;
    let line = this.textValue(idx[0]! < 0 ? undefined : values[idx[0]!]);
    for (let k = 1; k < idx.length; k++) line += '\t' + this.textValue(idx[k]! < 0 ? undefined : values[idx[k]!]);
    if (this.unrepresentable !== before) this.nameField(plan, values);
    return line + '\n';
  }

  /**
   * Counts the values that could not be serialized since the last call in `errors` (reason
   * `unserializable_value`), and logs the first one, with its field, once per formatter.
   */
  reportUnrepresentable(to: UnrepresentableReport, sink: string): void {
    const n = this.unrepresentable;
    if (n === 0) return;
    this.unrepresentable = 0;
    to.count('errors', n, 'unserializable_value');
    const first = this.firstUnrepresentable;
    if (this.loggedUnrepresentable || first === undefined) return;
    this.loggedUnrepresentable = true;
    const where = first.field === undefined ? 'a value' : `field "${first.field}"`;
    to.logger.warn(
      `${sink}: ${where} could not be written as JSON (${first.reason}); it is written as ${first.written} instead, ` +
        'here and wherever that happens again (counted in errors{reason="unserializable_value"}, not logged again)',
      { field: first.field, reason: first.reason },
    );
  }

  /** A value of this line could not be serialized: the first one ever gets its field name. */
  private nameField(plan: Plan, values: readonly unknown[]): void {
    const bad = this.lastUnrepresentable;
    this.lastUnrepresentable = undefined;
    const first = this.firstUnrepresentable;
    if (bad === undefined || first === undefined || first.field !== undefined) return;
    const k = plan.indexes.findIndex((i) => i >= 0 && values[i] === bad);
    if (k >= 0) first.field = plan.names[k];
  }

  jsonValue(v: unknown): string {
    switch (typeof v) {
      case 'string':
        return JSON.stringify(v);
      case 'number':
        return Number.isFinite(v) ? `${v}` : 'null';
      case 'boolean':
        return v ? 'true' : 'false';
      case 'bigint':
        return `"${v.toString()}"`;
      case 'object':
        if (v === null) return 'null';
        if (v instanceof Uint8Array) return `"${base64(v)}"`;
        try {
          return JSON.stringify(v, replacer) ?? 'null';
        } catch (err) {
          return JSON.stringify(this.unserializable(v, err));
        }
      default:
        return 'null'; // undefined, functions, symbols
    }
  }

  textValue(v: unknown): string {
    switch (typeof v) {
      case 'string':
        return ESCAPE_TEST.test(v) ? v.replace(ESCAPE_ALL, escapeChar) : v;
      case 'number':
      case 'boolean':
      case 'bigint':
        return `${v}`;
      case 'undefined':
        return '';
      case 'object': {
        if (v === null) return '';
        if (v instanceof Uint8Array) return base64(v);
        const s = this.jsonValue(v);
        return ESCAPE_TEST.test(s) ? s.replace(ESCAPE_ALL, escapeChar) : s;
      }
      default:
        return '';
    }
  }

  /** Counts a value JSON.stringify threw on, and gives the string written in its place. */
  private unserializable(v: unknown, err: unknown): string {
    this.unrepresentable++;
    const reason = unserializableReason(err);
    const written = `[unserializable: ${reason}]`;
    if (this.firstUnrepresentable === undefined) {
      this.firstUnrepresentable = { field: undefined, reason, written: JSON.stringify(written) };
      this.lastUnrepresentable = v;
    }
    return written;
  }

  private planFor(fields: readonly string[]): Plan {
    const plans = this.plans;
    for (let p = 0; p < plans.length; p++) if (plans[p]!.fields === fields) return plans[p]!;
    // A new array: maybe the same fields again (a runtime that does not share the array).
    for (let p = 0; p < plans.length; p++) {
      const plan = plans[p]!;
      if (sameFields(plan.fields, fields)) {
        plan.fields = fields;
        return plan;
      }
    }
    const keys = this.only ?? fields;
    const plan: Plan = {
      fields,
      names: keys,
      indexes: keys.map((k) => fields.indexOf(k)),
      jsonKeys: keys.map((k, i) => (i === 0 ? '{' : ',') + JSON.stringify(k) + ':'),
    };
    if (plans.length >= 16) plans.pop();
    plans.unshift(plan);
    return plan;
  }
}

interface Plan {
  fields: readonly string[];
  /** The names of the written fields, in order. */
  readonly names: readonly string[];
  /** Index in the tuple of each written field, -1 when the tuple lacks it (written as null). */
  readonly indexes: readonly number[];
  /** `{"name":` then `,"name":` ... */
  readonly jsonKeys: readonly string[];
}

function sameFields(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `cyclic object`, or what the error thrown while serializing said (a toJSON or getter that throws). */
function unserializableReason(err: unknown): string {
  if (err instanceof TypeError && /circular|cyclic/i.test(err.message)) return 'cyclic object';
  // A cycle through a Map or Set: each pass converts it anew, so JSON.stringify never sees it twice.
  if (err instanceof RangeError && /call stack/i.test(err.message)) return 'cyclic or too deeply nested';
  let text: string;
  try {
    text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } catch {
    text = 'serializing it threw';
  }
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > 120 ? `${text.slice(0, 119)}…` : text || 'serializing it threw';
}

const ESCAPE_TEST = /[\t\n\r]/;
const ESCAPE_ALL = /[\t\n\r]/g;
function escapeChar(c: string): string {
  return c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r';
}
