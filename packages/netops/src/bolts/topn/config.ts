/** The topn config checked beyond what the spec's field types can say: dimensions, slide. */
import { parseConfigPath } from '@qitian/api';
import { collectErrors, throwErrors } from '../../internal/config-errors.js';
import type { TopNConfig } from './spec.js';

/** A topn config that is not consistent (dimensions malformed, slide above window...). */
export class TopNConfigError extends Error {
  override readonly name = 'TopNConfigError';
  /** Where in the config, e.g. `dimensions[2].fields`. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
  }

  /** Read by validation to put the error at this place in the YAML (file:line:col). */
  get configPath(): readonly (string | number)[] {
    return parseConfigPath(this.path);
  }
}

export interface Dimension {
  readonly name: string;
  readonly fields: readonly string[];
  readonly n: number;
  /** Every field of `groupedBy` is one of `fields`: each key is counted by one partial task. */
  readonly partitioned: boolean;
}

/** The default dimensions: the five statistics of the network-ops method. */
export const DEFAULT_DIMENSIONS: readonly { name: string; fields: readonly string[]; n?: number }[] = [
  { name: 'severity', fields: ['severity'], n: 8 },
  { name: 'event', fields: ['host', 'srcIp', 'dstIp', 'eventType'] },
  { name: 'source', fields: ['srcIp'] },
  { name: 'destination', fields: ['dstIp'] },
  { name: 'port', fields: ['dstPort'] },
];

const DIMENSION_KEYS = new Set(['name', 'fields', 'n']);

/** The dimensions of a config; throws TopNConfigError, or an AggregateError of every one found. */
export function resolveDimensions(config: TopNConfig): Dimension[] {
  const raw: readonly unknown[] = config.dimensions ?? DEFAULT_DIMENSIONS;
  if (raw.length === 0) throw new TopNConfigError('dimensions', 'must name at least one dimension');
  const groupedBy = config.groupedBy ?? [];
  const seen = new Set<string>();
  // Every dimension and each of its keys is checked, so that validation lists every problem at once.
  const errors: TopNConfigError[] = [];
  const out = raw.map((d, i): Dimension | undefined => {
    const at = `dimensions[${i}]`;
    if (typeof d !== 'object' || d === null || Array.isArray(d)) {
      errors.push(new TopNConfigError(at, 'expected a mapping { name, fields, n }'));
      return undefined;
    }
    const o = d as Record<string, unknown>;
    const before = errors.length;
    for (const k of Object.keys(o))
      if (!DIMENSION_KEYS.has(k)) errors.push(new TopNConfigError(`${at}.${k}`, 'unknown key; a dimension has name, fields and n'));
    if (typeof o.name !== 'string' || o.name.length === 0) errors.push(new TopNConfigError(`${at}.name`, 'expected a non-empty string'));
    else if (seen.has(o.name)) errors.push(new TopNConfigError(`${at}.name`, `dimension "${o.name}" is named twice`));
    else seen.add(o.name);
    const fields = typeof o.fields === 'string' ? [o.fields] : o.fields;
    if (!Array.isArray(fields) || fields.length === 0 || fields.some((f) => typeof f !== 'string' || f.length === 0)) {
      errors.push(new TopNConfigError(`${at}.fields`, 'expected a non-empty list of field names'));
    }
    let n = config.n;
    if (o.n !== undefined) {
      if (typeof o.n !== 'number' || !Number.isInteger(o.n) || o.n < 1)
        errors.push(new TopNConfigError(`${at}.n`, `expected an integer >= 1, got ${String(o.n)}`));
      else n = o.n;
    }
    if (errors.length > before) return undefined;
    const names = fields as string[];
    const partitioned = groupedBy.length > 0 && groupedBy.every((g) => names.includes(g));
    return { name: o.name as string, fields: names, n, partitioned };
  });
  throwErrors(errors);
  return out as Dimension[];
}

export interface Windowing {
  readonly size: number;
  readonly slide: number;
}

export function resolveWindowing(config: TopNConfig): Windowing {
  const slide = config.slide ?? config.window;
  if (slide > config.window) throw new TopNConfigError('slide', `must not exceed window (${config.window}ms), got ${slide}ms`);
  return { size: config.window, slide };
}

/** Checks everything; throws TopNConfigError, or an AggregateError of every one found. */
export function checkTopNConfig(config: TopNConfig): void {
  if (config.stage === 'merge') return;
  const errors: unknown[] = [];
  collectErrors(errors, () => resolveDimensions(config));
  collectErrors(errors, () => resolveWindowing(config));
  throwErrors(errors);
}
