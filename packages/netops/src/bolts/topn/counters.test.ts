import { describe, expect, it } from 'vitest';
import { ExactCounter, SpaceSaving } from './counters.js';
import { rng, shuffle } from './test-support.js';

describe('ExactCounter', () => {
  it('reports every key, or the largest with the largest left-out count as bound', () => {
    const c = new ExactCounter();
    for (const k of ['a', 'b', 'a', 'c', 'a', 'b', 'd']) c.add(k);
    const all = c.report(0);
    expect(Object.fromEntries(all.keys.map((k, i) => [k, all.counts[i]]))).toEqual({ a: 3, b: 2, c: 1, d: 1 });
    expect(all).toMatchObject({ total: 7, rest: 0, bound: 0, distinct: 4, errors: null });
    const top = c.report(2);
    expect(top).toMatchObject({ keys: ['a', 'b'], counts: [3, 2], total: 7, rest: 2, bound: 1, distinct: 4 });
  });
});

describe('SpaceSaving', () => {
  it('is exact while the distinct keys fit its capacity', () => {
    const s = new SpaceSaving(10);
    const truth = new Map<string, number>();
    const r = rng(7);
    for (let i = 0; i < 5000; i++) {
      const k = `k${Math.floor(r() * r() * 10)}`;
      s.add(k);
      truth.set(k, (truth.get(k) ?? 0) + 1);
    }
    const rep = s.report(0);
    expect(rep.errors).toBeNull();
    expect(rep.bound).toBe(0);
    expect(rep.distinct).toBe(truth.size);
    expect(new Map(rep.keys.map((k, i) => [k, rep.counts[i]!]))).toEqual(truth);
    // sorted, largest first
    expect([...rep.counts]).toEqual([...rep.counts].sort((a, b) => b - a));
  });

  it('100k spoofed keys and capacity 1000: memory bounded, heavy hitters found, error bounds hold', () => {
    const r = rng(42);
    const stream: string[] = [];
    // 100,000 distinct spoofed sources, once each
    for (let i = 0; i < 100_000; i++) stream.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    // 20 heavy hitters with 500..2400 packets each, and 200 medium keys with 1..60
    const truth = new Map<string, number>();
    for (let h = 0; h < 20; h++) for (let j = 0; j < 500 + h * 100; j++) stream.push(`heavy-${h}`);
    for (let m = 0; m < 200; m++) {
      const c = 1 + Math.floor(r() * 60);
      for (let j = 0; j < c; j++) stream.push(`medium-${m}`);
    }
    shuffle(stream, r);
    for (const k of stream) truth.set(k, (truth.get(k) ?? 0) + 1);

    const s = new SpaceSaving(1000);
    for (const k of stream) s.add(k);
    expect(s.size).toBe(1000);
    expect(s.total).toBe(stream.length);
    expect((s as unknown as { index: Map<string, number> }).index.size).toBe(1000);
    expect(s.evictions).toBeGreaterThan(100_000 - 1000);

    const rep = s.report(0);
    expect(rep.keys).toHaveLength(1000);
    expect(rep.counts.reduce((a, b) => a + b, 0)).toBe(stream.length); // counters sum to the stream length
    expect(rep.distinct).toBe(-1);
    const min = rep.counts[rep.counts.length - 1]!;
    expect(rep.bound).toBe(min);
    const outOfBounds = rep.keys.filter((k, i) => {
      const t = truth.get(k)!;
      return t > rep.counts[i]! || t < rep.counts[i]! - rep.errors![i]!;
    });
    expect(outOfBounds).toEqual([]);
    // every key above total/capacity is monitored, and keys not monitored never exceed the minimum
    const monitored = new Set(rep.keys);
    const missed = [...truth].filter(([k, t]) => !monitored.has(k) && (t > stream.length / 1000 || t > min));
    expect(missed).toEqual([]);
    // the heavy hitters are the top 20, in order
    const top = s.report(20);
    expect(top.keys).toEqual(Array.from({ length: 20 }, (_, h) => `heavy-${19 - h}`));
    expect(top.bound).toBe(rep.counts[20]);
  });
});
