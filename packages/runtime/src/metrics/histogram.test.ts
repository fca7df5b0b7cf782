import { describe, expect, test } from 'vitest';
import { addHistograms, LATENCY_BUCKETS, newHistogram, observe, quantile, subtractHistograms } from './histogram.js';

describe('latency histogram', () => {
  test('an observation lands in the first bucket whose bound it does not exceed (le, as Prometheus)', () => {
    const h = newHistogram();
    observe(h, 0.001); // exactly a bound: that bucket
    observe(h, 0.0011);
    observe(h, 20); // beyond the last bound: +Inf
    observe(h, 0.000001, 3);
    const at = (le: number) => h.counts[LATENCY_BUCKETS.indexOf(le)];
    expect(at(0.001)).toBe(1);
    expect(at(0.0025)).toBe(1);
    expect(at(0.00001)).toBe(3);
    expect(h.counts[LATENCY_BUCKETS.length]).toBe(1);
    expect(h.count).toBe(6);
    expect(h.sum).toBeCloseTo(0.001 + 0.0011 + 20 + 0.000003, 9);
  });

  test('quantiles interpolate inside the bucket, like histogram_quantile', () => {
    const h = newHistogram();
    for (let i = 0; i < 100; i++) observe(h, 0.003); // all in (0.0025, 0.005]
    expect(quantile(h, 0.5)).toBeCloseTo(0.0025 + 0.0025 * 0.5, 9);
    expect(quantile(h, 0.99)).toBeCloseTo(0.0025 + 0.0025 * 0.99, 9);
    expect(quantile(newHistogram(), 0.99)).toBeNaN();
    const slow = newHistogram();
    observe(slow, 60);
    expect(quantile(slow, 0.5)).toBe(10);
  });

  test('the difference of two snapshots holds what was observed between them', () => {
    const a = newHistogram();
    observe(a, 0.002, 5);
    const before = structuredClone(a);
    observe(a, 0.2, 2);
    const d = subtractHistograms(a, before);
    expect(d.count).toBe(2);
    expect(quantile(d, 0.5)).toBeGreaterThan(0.1);
    expect(addHistograms(before, d)).toEqual(a);
  });
});
