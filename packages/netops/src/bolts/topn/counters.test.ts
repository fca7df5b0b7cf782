import { describe, expect, it } from 'vitest';
import { type CounterData, ExactCounter, SpaceSaving } from './counters.js';
import { RankMerge } from './ranking.js';
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

  it('breaks ties at the cut by key, as the exact counter does (the ranking an exact window would give)', () => {
    // Seen in a 4-event window: four sources once each, top 3. Arrival order must not decide.
    const keys = ['10.0.1.4', '10.0.2.14', '10.0.3.16', '10.0.0.16', '443', '80'];
    const s = new SpaceSaving(8);
    const e = new ExactCounter();
    for (const k of keys) {
      s.add(k);
      e.add(k);
    }
    s.add('z');
    e.add('z');
    s.add('z');
    e.add('z');
    for (const n of [1, 2, 3, 4, 5, 6]) {
      const got = s.report(n);
      const want = e.report(n);
      expect(got.keys).toEqual(want.keys);
      expect(got.counts).toEqual(want.counts);
      expect(got.bound).toBe(want.bound);
    }
    expect(s.report(4).keys).toEqual(['z', '80', '443', '10.0.0.16']);
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

describe('restoring and merging counters (keyed state)', () => {
  /** A counter's data as keyed state gives it back after a restart: a structured clone. */
  const restored = (d: CounterData) => structuredClone(d);

  it('exact counters add up', () => {
    const a = new ExactCounter();
    const b = new ExactCounter();
    for (const k of ['x', 'y', 'x']) a.add(k);
    for (const k of ['y', 'z']) b.add(k);
    const c = new ExactCounter();
    c.merge(restored(a.data));
    c.merge(restored(b.data));
    expect(Object.fromEntries(c.map)).toEqual({ x: 2, y: 2, z: 1 });
    expect(c.total).toBe(5);
    expect(c.accepts(new SpaceSaving(3).data)).toBe(false);
    expect(() => c.merge(new SpaceSaving(3).data)).toThrow(/cannot take/);
  });

  it('a summary restored into an empty one of the same capacity goes on exactly as the original', () => {
    const r = rng(9);
    const keys = Array.from({ length: 20_000 }, () => `k${Math.floor(r() ** 2 * 300)}`);
    const original = new SpaceSaving(50);
    for (const k of keys.slice(0, 10_000)) original.add(k);
    const copy = new SpaceSaving(50);
    copy.merge(restored(original.data));
    for (const k of keys.slice(10_000)) {
      original.add(k);
      copy.add(k);
    }
    expect(copy.report(0)).toEqual(original.report(0));
  });

  it('two summaries of different streams merge with bounds that hold, into a smaller capacity too', () => {
    const r = rng(17);
    const stream = (n: number, prefix: string) =>
      Array.from({ length: n }, () => (r() < 0.3 ? `heavy-${Math.floor(r() * 5)}` : `${prefix}-${Math.floor(r() * 3000)}`));
    const sa = stream(30_000, 'a');
    const sb = stream(20_000, 'b');
    const truth = new Map<string, number>();
    for (const k of [...sa, ...sb]) truth.set(k, (truth.get(k) ?? 0) + 1);
    const a = new SpaceSaving(100);
    const b = new SpaceSaving(80);
    for (const k of sa) a.add(k);
    for (const k of sb) b.add(k);
    const exact = new ExactCounter();
    for (const k of ['heavy-0', 'only-exact', 'only-exact']) exact.add(k);
    truth.set('heavy-0', truth.get('heavy-0')! + 1);
    truth.set('only-exact', 2);
    for (const capacity of [100, 60]) {
      const m = new SpaceSaving(capacity);
      m.merge(restored(a.data));
      m.merge(restored(b.data));
      m.merge(restored(exact.data));
      const rep = m.report(0);
      expect(rep.total).toBe(sa.length + sb.length + 3);
      expect(rep.keys.length).toBe(capacity);
      expect([...rep.counts]).toEqual([...rep.counts].sort((x, y) => y - x));
      for (const [i, k] of rep.keys.entries()) {
        const t = truth.get(k) ?? 0;
        expect(t, k).toBeLessThanOrEqual(rep.counts[i]!);
        expect(t, k).toBeGreaterThanOrEqual(rep.counts[i]! - rep.errors![i]!);
      }
      // A key not listed has at most the bound; the five heavy keys are listed, in the top five.
      const listed = new Set(rep.keys);
      for (const [k, t] of truth) if (!listed.has(k)) expect(t, k).toBeLessThanOrEqual(rep.bound);
      expect(new Set(rep.keys.slice(0, 5))).toEqual(new Set(Array.from({ length: 5 }, (_, h) => `heavy-${h}`)));
      expect(rep.rest).toBeGreaterThanOrEqual(0);
      // It goes on counting as a summary.
      m.add('heavy-1');
      expect(m.total).toBe(rep.total + 1);
    }
  });
});

describe('RankMerge', () => {
  it('absorbing what another merge added up is adding its reports here', () => {
    const reports = [
      { keys: ['a', 'b'], counts: [5, 3], errors: [1, 0], total: 10, rest: 2, bound: 2, distinct: -1 },
      { keys: ['b', 'c'], counts: [4, 4], errors: null, total: 8, rest: 0, bound: 0, distinct: 2 },
      { keys: ['a', 'd'], counts: [2, 1], errors: null, total: 4, rest: 1, bound: 1, distinct: 3 },
    ];
    const all = new RankMerge();
    for (const r of reports) all.add(r);
    const one = new RankMerge();
    one.add(reports[0]!);
    const two = new RankMerge();
    two.add(reports[1]!);
    two.add(reports[2]!);
    const restoredOne = new RankMerge(structuredClone(one.data));
    restoredOne.absorb(structuredClone(two.data));
    expect(restoredOne.data).toEqual(all.data);
    expect(restoredOne.result(3, false, ' | ')).toEqual(all.result(3, false, ' | '));
    expect(restoredOne.reports).toBe(3);
  });
});
