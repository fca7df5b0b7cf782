/**
 * The options of the device-syslog model, checked: what the spout's YAML config and a test or
 * benchmark give, turned into numbers (ms, lines per second) with errors that name the place.
 */
import { parseConfigPath, parseDuration } from '@qitian/api';
import type { RateStep } from './schedule.js';

/** A bad `device-syslog` option: `path` names it (`faults[1].at`). */
export class DeviceSyslogConfigError extends Error {
  override readonly name = 'DeviceSyslogConfigError';
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(`device-syslog ${path}: ${message}`, options);
    this.path = path;
  }

  /** Read by validation to put the error at this place in the YAML (file:line:col). */
  get configPath(): readonly (string | number)[] {
    return parseConfigPath(this.path);
  }
}

export const FAULT_KINDS = ['link-flap', 'port-scan', 'auth-storm', 'new-event'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A fault as written: durations as `30s` (or ms as numbers, for code). */
export interface FaultInput {
  readonly kind: FaultKind;
  readonly at: string | number;
  readonly duration: string | number;
  /** A device name (`sw-acc-03`) or index. */
  readonly device?: string | number;
  /** The attacking address (port-scan, auth-storm). */
  readonly source?: string;
  /** Lines per simulated second. */
  readonly rate?: number;
}

export interface RateStepInput {
  readonly at: string | number;
  readonly factor: number;
}

/** The model's options; every one has a default. */
export interface DeviceSyslogOptions {
  readonly seed?: number;
  /** How many devices the network has (1..2000). */
  readonly devices?: number;
  /** The simulated start: ms since the epoch, an ISO time, or `now` (the default). */
  readonly start?: number | string;
  /** Simulated seconds per real second. */
  readonly speedup?: number;
  /** Lines per real second per task; 0: as fast as asked (the clock then moves by `baseRate`). */
  readonly rate?: number;
  /** Lines per simulated second when `rate` is 0. */
  readonly baseRate?: number;
  readonly rateSteps?: readonly RateStepInput[];
  readonly faults?: readonly FaultInput[];
}

export interface ResolvedFaultInput {
  readonly kind: FaultKind;
  readonly at: number;
  readonly duration: number;
  readonly device: string | number | undefined;
  readonly source: string | undefined;
  readonly rate: number | undefined;
}

export interface ResolvedOptions {
  readonly seed: number;
  readonly devices: number;
  readonly startMs: number;
  readonly speedup: number;
  readonly rate: number;
  readonly baseRate: number;
  readonly rateSteps: readonly RateStep[];
  readonly faults: readonly ResolvedFaultInput[];
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function durationAt(path: string, v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  if (typeof v === 'string') {
    const ms = parseDuration(v);
    if (ms !== undefined) return ms;
  }
  throw new DeviceSyslogConfigError(path, `expected a duration such as "30s" or "5m", got ${JSON.stringify(v)}`);
}

function positive(path: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new DeviceSyslogConfigError(path, `expected a number above 0, got ${JSON.stringify(v)}`);
  return v;
}

function mapping(path: string, v: unknown, keys: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new DeviceSyslogConfigError(path, `expected a mapping with ${keys.join(', ')}, got ${JSON.stringify(v)}`);
  const m = v as Record<string, unknown>;
  for (const k of Object.keys(m)) if (!keys.includes(k)) throw new DeviceSyslogConfigError(`${path}.${k}`, `unknown key; known keys: ${keys.join(', ')}`);
  return m;
}

/** The simulated start in ms since the epoch. */
export function resolveStart(start: number | string | undefined, now: () => number = Date.now): number {
  if (start === undefined || start === 'now') return now();
  if (typeof start === 'number' && Number.isFinite(start)) return Math.floor(start);
  if (typeof start === 'string') {
    const ms = Date.parse(start);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new DeviceSyslogConfigError('start', `expected "now" or an ISO time such as "2024-03-01T08:00:00Z", got ${JSON.stringify(start)}`);
}

/** Checks the options and fills in defaults; throws a `DeviceSyslogConfigError` naming the bad one. */
export function resolveOptions(o: DeviceSyslogOptions, now: () => number = Date.now): ResolvedOptions {
  const devices = o.devices ?? 40;
  if (!Number.isInteger(devices) || devices < 1 || devices > 2000)
    throw new DeviceSyslogConfigError('devices', `expected an integer from 1 to 2000, got ${devices}`);
  const rate = o.rate ?? 0;
  if (!(rate >= 0) || !Number.isFinite(rate)) throw new DeviceSyslogConfigError('rate', `expected a number >= 0, got ${rate}`);
  const rateSteps: RateStep[] = [];
  const stepsIn: unknown = o.rateSteps ?? [];
  if (!Array.isArray(stepsIn)) throw new DeviceSyslogConfigError('rateSteps', 'expected a list of {at, factor}');
  stepsIn.forEach((s, k) => {
    const m = mapping(`rateSteps[${k}]`, s, ['at', 'factor']);
    rateSteps.push({ at: durationAt(`rateSteps[${k}].at`, m.at), factor: positive(`rateSteps[${k}].factor`, m.factor) });
  });
  const faults: ResolvedFaultInput[] = [];
  const faultsIn: unknown = o.faults ?? [];
  if (!Array.isArray(faultsIn)) throw new DeviceSyslogConfigError('faults', 'expected a list of {kind, at, duration, device?, source?, rate?}');
  faultsIn.forEach((f, k) => {
    const path = `faults[${k}]`;
    const m = mapping(path, f, ['kind', 'at', 'duration', 'device', 'source', 'rate']);
    if (typeof m.kind !== 'string' || !(FAULT_KINDS as readonly string[]).includes(m.kind))
      throw new DeviceSyslogConfigError(`${path}.kind`, `expected one of ${FAULT_KINDS.join(', ')}, got ${JSON.stringify(m.kind)}`);
    if (m.at === undefined) throw new DeviceSyslogConfigError(`${path}.at`, 'missing: when the fault starts, e.g. "30s"');
    if (m.duration === undefined) throw new DeviceSyslogConfigError(`${path}.duration`, 'missing: how long the fault lasts, e.g. "1m"');
    const device = m.device;
    if (device !== undefined && typeof device !== 'string' && !(typeof device === 'number' && Number.isInteger(device)))
      throw new DeviceSyslogConfigError(`${path}.device`, `expected a device name or index, got ${JSON.stringify(device)}`);
    const source = m.source;
    if (source !== undefined && (typeof source !== 'string' || !IPV4_RE.test(source)))
      throw new DeviceSyslogConfigError(`${path}.source`, `expected an IPv4 address, got ${JSON.stringify(source)}`);
    faults.push({
      kind: m.kind as FaultKind,
      at: durationAt(`${path}.at`, m.at),
      duration: durationAt(`${path}.duration`, m.duration),
      device: device as string | number | undefined,
      source: source as string | undefined,
      rate: m.rate === undefined ? undefined : positive(`${path}.rate`, m.rate),
    });
  });
  return {
    seed: (o.seed ?? 1) | 0,
    devices,
    startMs: resolveStart(o.start, now),
    speedup: positive('speedup', o.speedup ?? 1),
    rate,
    baseRate: positive('baseRate', o.baseRate ?? 1000),
    rateSteps,
    faults,
  };
}
