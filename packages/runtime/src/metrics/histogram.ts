/**
 * Latency histograms kept as plain numbers: an executor adds to a bucket with no metric call,
 * and the counts travel to the main thread with the other counters. Prometheus sees them as
 * `histogram` metrics with these upper bounds.
 */

/** Upper bounds in seconds, 10 us to 10 s, three per decade (then +Inf). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Counts per bucket (not cumulative; the last one is +Inf), their sum in seconds, and their number. */
export interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export function newHistogram(): Histogram {
  return { counts: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
}

/** Adds `n` observations of `seconds` each. */
export function observe(h: Histogram, seconds: number, n = 1): void {
  let i = 0;
  while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
  h.counts[i]! += n;
  h.sum += seconds * n;
  h.count += n;
}

export function addHistograms(a: Histogram, b: Histogram): Histogram {
  return { counts: a.counts.map((c, i) => c + (b.counts[i] ?? 0)), sum: a.sum + b.sum, count: a.count + b.count };
}

/** `later` minus `earlier`: the observations made between two snapshots of one histogram. */
export function subtractHistograms(later: Histogram, earlier: Histogram | undefined): Histogram {
  if (!earlier) return later;
  return {
    counts: later.counts.map((c, i) => Math.max(0, c - (earlier.counts[i] ?? 0))),
    sum: Math.max(0, later.sum - earlier.sum),
    count: Math.max(0, later.count - earlier.count),
  };
}

/**
 * The q-quantile (0..1) in seconds, interpolated linearly inside its bucket as Prometheus's
 * histogram_quantile does; NaN when there are no observations. The +Inf bucket answers with the
 * largest finite bound.
 */
export function quantile(h: Histogram, q: number): number {
  if (h.count === 0) return Number.NaN;
  const rank = q * h.count;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i]!;
    if (seen + c >= rank && c > 0) {
      if (i >= LATENCY_BUCKETS.length) return LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1]!;
      const lower = i === 0 ? 0 : LATENCY_BUCKETS[i - 1]!;
      const upper = LATENCY_BUCKETS[i]!;
      return lower + ((upper - lower) * (rank - seen)) / c;
    }
    seen += c;
  }
  return LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1]!;
}
