/**
 * For topn's tests and engine fixtures only (not exported from the package): seeded events and a
 * brute-force Top-N to check results against.
 */
import { compareKeys } from './key-order.js';
import { EVENT, EVENT_FIELDS } from '../../syslog/event.js';

/** Deterministic PRNG (mulberry32): numbers in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(a: T[], r: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export interface EventParts {
  time: number;
  host?: string | null;
  severity?: number;
  eventType?: string | null;
  srcIp?: string | null;
  dstIp?: string | null;
  dstPort?: number | null;
}

/** The values of a parsed event (EVENT_FIELDS order) with the parts topn reads. */
export function eventValues(p: EventParts): unknown[] {
  const v = new Array<unknown>(EVENT_FIELDS.length).fill(null);
  v[EVENT.time] = p.time;
  v[EVENT.host] = p.host ?? null;
  v[EVENT.facility] = 23;
  v[EVENT.severity] = p.severity ?? 6;
  v[EVENT.eventType] = p.eventType ?? null;
  v[EVENT.srcIp] = p.srcIp ?? null;
  v[EVENT.dstIp] = p.dstIp ?? null;
  v[EVENT.dstPort] = p.dstPort ?? null;
  v[EVENT.message] = 'test';
  v[EVENT.format] = 'rfc3164';
  v[EVENT.parsed] = true;
  return v;
}

/** Skewed choice in 0..n-1 (small values much more likely). */
function skewed(r: () => number, n: number): number {
  return Math.floor(n * r() ** 3);
}

/**
 * `count` events with times from `from`, step `step` ms, and skewed keys: 30 hosts, 400 sources,
 * 60 destinations, 25 ports, 12 event types; about 3% with no source address.
 */
export function randomEvents(seed: number, count: number, from = 0, step = 10): unknown[][] {
  const r = rng(seed);
  const out: unknown[][] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      eventValues({
        time: from + i * step,
        host: `r${skewed(r, 30)}`,
        severity: skewed(r, 8),
        eventType: `TYPE-${skewed(r, 12)}`,
        srcIp: r() < 0.03 ? null : `10.0.${skewed(r, 4)}.${skewed(r, 100)}`,
        dstIp: `192.168.0.${skewed(r, 60)}`,
        dstPort: [22, 23, 53, 80, 123, 161, 179, 443, 514, 8080, 3306, 5432, 6379, 25, 110, 143, 993, 995, 21, 69, 88, 389, 636, 1812, 1813][skewed(r, 25)]!,
      }),
    );
  }
  return out;
}

export interface TruthEntry {
  key: string;
  count: number;
}

/** Exact counts per `${windowStart}/${dimension}`, every key, largest first then by key. */
export function bruteForce(
  events: readonly (readonly unknown[])[],
  dims: readonly { name: string; fields: readonly string[] }[],
  size: number,
  slide = size,
  separator = ' | ',
): Map<string, TruthEntry[]> {
  const counts = new Map<string, Map<string, number>>();
  for (const v of events) {
    const t = v[EVENT.time] as number;
    for (let s = Math.floor(t / slide) * slide; s > t - size; s -= slide) {
      for (const d of dims) {
        const parts = d.fields.map((f) => v[EVENT[f as keyof typeof EVENT]]);
        // One field: a null value is not counted. Several: a null part is '-', all null is not counted.
        const missing = (p: unknown) => p === null || p === undefined;
        if (parts.length === 1 ? missing(parts[0]) : parts.every(missing)) continue;
        const key = parts.map((p) => (missing(p) ? '-' : String(p))).join(separator);
        const id = `${s}/${d.name}`;
        let m = counts.get(id);
        if (!m) counts.set(id, (m = new Map()));
        m.set(key, (m.get(key) ?? 0) + 1);
      }
    }
  }
  const out = new Map<string, TruthEntry[]>();
  for (const [id, m] of counts) {
    out.set(
      id,
      [...m].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || compareKeys(a.key, b.key)),
    );
  }
  return out;
}
