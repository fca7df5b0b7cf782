/**
 * Key counters for one dimension of one window: exact (a Map) and Space-Saving (bounded), and
 * what either reports at the end of a window (a `Report`).
 */

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

export interface KeyCounter {
  add(key: string): void;
  readonly total: number;
  /** The counters, the `limit` largest (0: all). */
  report(limit: number): Report;
}

/** One counter per key. */
export class ExactCounter implements KeyCounter {
  readonly map = new Map<string, number>();
  total = 0;

  add(key: string): void {
    const m = this.map;
    m.set(key, (m.get(key) ?? 0) + 1);
    this.total++;
  }

  report(limit: number): Report {
    const m = this.map;
    if (limit === 0 || m.size <= limit) {
      const keys = new Array<string>(m.size);
      const counts = new Array<number>(m.size);
      let i = 0;
      for (const [k, c] of m) {
        keys[i] = k;
        counts[i++] = c;
      }
      return { keys, counts, errors: null, total: this.total, rest: 0, bound: 0, distinct: m.size };
    }
    const sorted = [...m].sort(byCountThenKey);
    const keys = new Array<string>(limit);
    const counts = new Array<number>(limit);
    let listed = 0;
    for (let i = 0; i < limit; i++) {
      keys[i] = sorted[i]![0];
      listed += counts[i] = sorted[i]![1];
    }
    return { keys, counts, errors: null, total: this.total, rest: this.total - listed, bound: sorted[limit]![1], distinct: m.size };
  }
}

function byCountThenKey(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/**
 * Space-Saving (Metwally, Agrawal, El Abbadi 2005) with `capacity` counters. The counters are
 * kept in arrays sorted by count, largest first; an increment swaps the entry with the first of
 * its equal-count run (found by binary search) and adds one, so an update is a Map lookup and
 * O(log capacity) comparisons, with no allocation. A new key, when all counters are taken,
 * replaces the smallest one (the last), inheriting its count as its error.
 *
 * Guarantees: sum of counts = total; for a listed key, count - error <= true count <= count; a
 * key not listed has a true count <= the smallest count (when a key was ever evicted), so every
 * key with a true count above total/capacity is listed.
 */
export class SpaceSaving implements KeyCounter {
  readonly capacity: number;
  total = 0;
  size = 0;
  /** How many keys were replaced. */
  evictions = 0;
  private readonly keys: string[];
  private readonly counts: Float64Array;
  private readonly errs: Float64Array;
  private readonly index = new Map<string, number>();

  constructor(capacity: number) {
    this.capacity = capacity;
    this.keys = new Array<string>(capacity).fill('');
    this.counts = new Float64Array(capacity);
    this.errs = new Float64Array(capacity);
  }

  add(key: string): void {
    this.total++;
    let i = this.index.get(key);
    if (i === undefined) {
      if (this.size < this.capacity) {
        i = this.size++;
        this.counts[i] = 0;
        this.errs[i] = 0;
      } else {
        i = this.size - 1;
        this.index.delete(this.keys[i]!);
        this.errs[i] = this.counts[i]!;
        this.evictions++;
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

  report(limit: number): Report {
    const n = limit === 0 ? this.size : Math.min(limit, this.size);
    const keys = new Array<string>(n);
    const counts = new Array<number>(n);
    const errors = this.evictions > 0 ? new Array<number>(n) : null;
    let listed = 0;
    for (let i = 0; i < n; i++) {
      keys[i] = this.keys[i]!;
      listed += counts[i] = this.counts[i]!;
      if (errors) errors[i] = this.errs[i]!;
    }
    const bound = n < this.size ? this.counts[n]! : this.evictions > 0 ? this.counts[this.size - 1]! : 0;
    return { keys, counts, errors, total: this.total, rest: this.total - listed, bound, distinct: this.evictions > 0 ? -1 : this.size };
  }
}
