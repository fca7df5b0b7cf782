/**
 * Key counters for one dimension of one window: exact (a Map) and Space-Saving (bounded), and
 * what either reports at the end of a window (a `Report`).
 */
import { compareKeys } from './key-order.js';

/**
 * What a counter knows at the end of a window, as a partial task sends it: the listed keys with
 * their counts (overestimates by at most `errors[i]`), the number of tuples counted, how many of
 * them the listed counts do not cover (`rest`), and `bound`, the largest true count any key that
 * is not listed can have (0 when every counted key is listed with its exact count).
 */
export interface Report {
  readonly keys: string[];
  readonly counts: number[];
  /** Per listed key; null when every error is 0. */
  readonly errors: number[] | null;
  readonly total: number;
  readonly rest: number;
  readonly bound: number;
  /** Distinct keys counted; -1 when not known exactly. */
  readonly distinct: number;
}

/** An exact counter as plain data (keyed state holds and snapshots it as it is). */
export interface ExactData {
  readonly kind: 'exact';
  readonly map: Map<string, number>;
  total: number;
}

/**
 * A Space-Saving summary as plain data: `keys`, `counts` and `errs` hold `capacity` slots, the
 * first `size` in use, sorted by count, largest first.
 */
export interface SpaceSavingData {
  readonly kind: 'space-saving';
  readonly capacity: number;
  total: number;
  size: number;
  /** How many keys were replaced (or left out by a merge). */
  evictions: number;
  readonly keys: string[];
  readonly counts: Float64Array;
  readonly errs: Float64Array;
}

/**
 * What a counter counts, as plain data: a keyed state entry references it and the runtime
 * snapshots it by structured clone, which keeps Maps, arrays and typed arrays (and drops the
 * prototypes of class instances). The counter updates it in place.
 */
export type CounterData = ExactData | SpaceSavingData;

export interface KeyCounter {
  add(key: string): void;
  readonly total: number;
  /** The counters, the `limit` largest (0: all). */
  report(limit: number): Report;
  /** The counter's state, updated in place (see CounterData). */
  readonly data: CounterData;
  /** Whether `merge` can take this data without claiming more than it knows. */
  accepts(data: CounterData): boolean;
  /** Adds what another counter of the same window counted (a task's restored window); see accepts. */
  merge(data: CounterData): void;
}

/** One counter per key. */
export class ExactCounter implements KeyCounter {
  readonly data: ExactData;
  readonly map: Map<string, number>;

  constructor() {
    this.map = new Map();
    this.data = { kind: 'exact', map: this.map, total: 0 };
  }

  get total(): number {
    return this.data.total;
  }

  add(key: string): void {
    const m = this.map;
    m.set(key, (m.get(key) ?? 0) + 1);
    this.data.total++;
  }

  /** Only exact counts: those of a Space-Saving summary are bounds, which an exact counter cannot carry. */
  accepts(data: CounterData): boolean {
    return data.kind === 'exact';
  }

  merge(data: CounterData): void {
    if (data.kind !== 'exact') throw new TypeError('an exact counter cannot take the bounded counts of a Space-Saving summary');
    const m = this.map;
    for (const [k, c] of data.map) m.set(k, (m.get(k) ?? 0) + c);
    this.data.total += data.total;
  }

  report(limit: number): Report {
    const m = this.map;
    const total = this.data.total;
    if (limit === 0 || m.size <= limit) {
      const keys = new Array<string>(m.size);
      const counts = new Array<number>(m.size);
      let i = 0;
      for (const [k, c] of m) {
        keys[i] = k;
        counts[i++] = c;
      }
      return { keys, counts, errors: null, total, rest: 0, bound: 0, distinct: m.size };
    }
    const sorted = [...m].sort(byCountThenKey);
    const keys = new Array<string>(limit);
    const counts = new Array<number>(limit);
    let listed = 0;
    for (let i = 0; i < limit; i++) {
      keys[i] = sorted[i]![0];
      listed += counts[i] = sorted[i]![1];
    }
    return { keys, counts, errors: null, total, rest: total - listed, bound: sorted[limit]![1], distinct: m.size };
  }
}

function byCountThenKey(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || compareKeys(a[0], b[0]);
}

/**
 * Space-Saving (Metwally, Agrawal, El Abbadi 2005) with `capacity` counters. The counters are
 * kept in arrays sorted by count, largest first; an increment swaps the entry with the first of
 * its equal-count run (found by binary search) and adds one, so an update is a Map lookup and
 * O(log capacity) comparisons, with no allocation. A new key, when all counters are taken,
 * replaces the smallest one (the last), inheriting its count as its error.
 *
 * Guarantees: for a listed key, count - error <= true count <= count; a key not listed has a true
 * count <= the smallest count (when a key was ever evicted), so every key with a true count above
 * total/capacity is listed. The counts add up to total until a merge (see merge).
 */
export class SpaceSaving implements KeyCounter {
  readonly data: SpaceSavingData;
  // The arrays of `data`, at hand.
  private readonly keys: string[];
  private readonly counts: Float64Array;
  private readonly errs: Float64Array;
  /** Key -> slot; not part of `data` (rebuilt from its keys). */
  private readonly index = new Map<string, number>();

  constructor(capacity: number) {
    this.keys = new Array<string>(capacity).fill('');
    this.counts = new Float64Array(capacity);
    this.errs = new Float64Array(capacity);
    this.data = { kind: 'space-saving', capacity, total: 0, size: 0, evictions: 0, keys: this.keys, counts: this.counts, errs: this.errs };
  }

  get capacity(): number {
    return this.data.capacity;
  }
  get total(): number {
    return this.data.total;
  }
  get size(): number {
    return this.data.size;
  }
  /** How many keys were replaced. */
  get evictions(): number {
    return this.data.evictions;
  }

  add(key: string): void {
    const d = this.data;
    d.total++;
    let i = this.index.get(key);
    if (i === undefined) {
      if (d.size < d.capacity) {
        i = d.size++;
        this.counts[i] = 0;
        this.errs[i] = 0;
      } else {
        i = d.size - 1;
        this.index.delete(this.keys[i]!);
        this.errs[i] = this.counts[i]!;
        d.evictions++;
      }
      this.keys[i] = key;
      this.index.set(key, i);
    }
    const counts = this.counts;
    const c = counts[i]!;
    // First position whose count is <= c; every position before it holds more.
    let lo = 0;
    let hi = i;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (counts[mid]! > c) lo = mid + 1;
      else hi = mid;
    }
    if (lo !== i) {
      const keys = this.keys;
      const k = keys[lo]!;
      keys[lo] = keys[i]!;
      keys[i] = k;
      const e = this.errs[lo]!;
      this.errs[lo] = this.errs[i]!;
      this.errs[i] = e;
      this.index.set(keys[lo]!, lo);
      this.index.set(k, i);
    }
    counts[lo] = c + 1;
  }

  /** Count and error of `key`, or undefined when it is not monitored. */
  get(key: string): { count: number; error: number } | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : { count: this.counts[i]!, error: this.errs[i]! };
  }

  /**
   * A run of equal counts across the cut at `n`: the slots hold them in arrival order, so which
   * of them are listed is decided here by key, as the exact counter and the ranking order ties.
   */
  private tiesByKey(n: number, keys: string[], errors: number[] | null): void {
    const counts = this.counts;
    const c = counts[n - 1]!;
    let a = n - 1;
    while (a > 0 && counts[a - 1]! === c) a--;
    let b = n + 1;
    while (b < this.data.size && counts[b]! === c) b++;
    const run: number[] = [];
    for (let i = a; i < b; i++) run.push(i);
    run.sort((p, q) => compareKeys(this.keys[p]!, this.keys[q]!));
    for (let i = a; i < n; i++) {
      keys[i] = this.keys[run[i - a]!]!;
      if (errors) errors[i] = this.errs[run[i - a]!]!;
    }
  }

  /** Exact counts, and summaries of any capacity. */
  accepts(_data: CounterData): boolean {
    return true;
  }

  /**
   * Merges another summary of the same window into this one, as mergeable summaries do (Agarwal
   * et al. 2012): a key listed on one side only gets, from the other, that side's bound for keys
   * it does not list (its smallest count, when it ever evicted one; else 0) added to both its
   * count and its error; the largest `capacity` are kept. So every guarantee above still holds:
   * the counts remain upper bounds and count - error lower bounds, and a key not listed has at
   * most the smallest count kept. The counts may then add up to more than total.
   */
  merge(other: CounterData): void {
    const d = this.data;
    if (d.total === 0 && other.kind === 'space-saving' && other.size <= d.capacity) {
      // Into an empty summary (a restored window's first part): taken as it is, order of equal
      // counts included, so that it goes on exactly as the summary it was would have.
      for (let i = 0; i < other.size; i++) {
        this.keys[i] = other.keys[i]!;
        this.counts[i] = other.counts[i]!;
        this.errs[i] = other.errs[i]!;
        this.index.set(other.keys[i]!, i);
      }
      d.size = other.size;
      d.total = other.total;
      d.evictions = other.evictions;
      return;
    }
    const mine = d.evictions > 0 && d.size > 0 ? this.counts[d.size - 1]! : 0;
    const all = new Map<string, { count: number; error: number; theirs: boolean }>();
    for (let i = 0; i < d.size; i++) all.set(this.keys[i]!, { count: this.counts[i]!, error: this.errs[i]!, theirs: false });
    let theirs = 0;
    const take = (key: string, count: number, error: number) => {
      const a = all.get(key);
      if (a === undefined) all.set(key, { count: count + mine, error: error + mine, theirs: true });
      else {
        a.count += count;
        a.error += error;
        a.theirs = true;
      }
    };
    if (other.kind === 'exact') for (const [k, c] of other.map) take(k, c, 0);
    else {
      for (let i = 0; i < other.size; i++) take(other.keys[i]!, other.counts[i]!, other.errs[i]!);
      if (other.evictions > 0 && other.size > 0) theirs = other.counts[other.size - 1]!;
      d.evictions += other.evictions;
    }
    const merged = [...all];
    if (theirs > 0) {
      for (const [, a] of merged) {
        if (a.theirs) continue;
        a.count += theirs;
        a.error += theirs;
      }
    }
    merged.sort((a, b) => b[1].count - a[1].count || compareKeys(a[0], b[0]));
    const size = Math.min(merged.length, d.capacity);
    d.evictions += merged.length - size;
    this.index.clear();
    for (let i = 0; i < size; i++) {
      const [k, a] = merged[i]!;
      this.keys[i] = k;
      this.counts[i] = a.count;
      this.errs[i] = a.error;
      this.index.set(k, i);
    }
    for (let i = size; i < d.size; i++) {
      this.keys[i] = '';
      this.counts[i] = 0;
      this.errs[i] = 0;
    }
    d.size = size;
    d.total += other.total;
  }

  report(limit: number): Report {
    const d = this.data;
    const n = limit === 0 ? d.size : Math.min(limit, d.size);
    const keys = new Array<string>(n);
    const counts = new Array<number>(n);
    const errors = d.evictions > 0 ? new Array<number>(n) : null;
    let listed = 0;
    for (let i = 0; i < n; i++) {
      keys[i] = this.keys[i]!;
      listed += counts[i] = this.counts[i]!;
      if (errors) errors[i] = this.errs[i]!;
    }
    if (n > 0 && n < d.size && this.counts[n]! === this.counts[n - 1]!) this.tiesByKey(n, keys, errors);
    const bound = n < d.size ? this.counts[n]! : d.evictions > 0 ? this.counts[d.size - 1]! : 0;
    // After a merge the counts may add up to more than total (each side's bound is added in).
    const rest = Math.max(0, d.total - listed);
    return { keys, counts, errors, total: d.total, rest, bound, distinct: d.evictions > 0 ? -1 : d.size };
  }
}

/** A new counter of the given mode. */
export function newCounter(spaceSaving: boolean, capacity: number): KeyCounter {
  return spaceSaving ? new SpaceSaving(capacity) : new ExactCounter();
}
