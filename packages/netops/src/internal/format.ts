import type { Tuple } from '@qitian/api';

/**
 * Turns tuples into lines: JSON objects (`{"field":value,...}`) or tab-separated text. Values
 * JSON cannot hold are written as something it can, never an error: a bigint as a decimal
 * string, bytes (Uint8Array, Buffer) as a base64 string, a Map as an object, a Set as an array,
 * NaN and the infinities as null, undefined as null; a value that cannot be serialized at all
 * (a cycle) as its String() and counted in `unrepresentable`.
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
        return o;
      }
      if (value instanceof Set) return [...value];
      return value;
    default:
      return value;
  }
}

export class LineFormatter {
  /** Values written as their String() because JSON could not represent them; read and reset by the sink. */
  unrepresentable = 0;

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
    let line = keys[0]! + this.jsonValue(idx[0]! < 0 ? undefined : values[idx[0]!]);
    for (let k = 1; k < idx.length; k++) line += keys[k]! + this.jsonValue(idx[k]! < 0 ? undefined : values[idx[k]!]);
    return line + '}\n';
  }

  /** Values separated by tabs, followed by a newline; tabs and newlines inside values become \t, \n, \r. */
  text(tuple: Tuple): string {
    const plan = this.planFor(tuple.fields);
    const values = tuple.values;
    const idx = plan.indexes;
    if (idx.length === 0) return '\n';
    let line = this.textValue(idx[0]! < 0 ? undefined : values[idx[0]!]);
    for (let k = 1; k < idx.length; k++) line += '\t' + this.textValue(idx[k]! < 0 ? undefined : values[idx[k]!]);
    return line + '\n';
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
        } catch {
          this.unrepresentable++;
          return JSON.stringify(safeString(v));
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

function safeString(v: unknown): string {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

const ESCAPE_TEST = /[\t\n\r]/;
const ESCAPE_ALL = /[\t\n\r]/g;
function escapeChar(c: string): string {
  return c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r';
}
