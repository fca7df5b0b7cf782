/** Load-aware shuffle: how the share moves with the threads' load, and how picks follow it. */
import { describe, expect, test } from 'vitest';
import { nextShare, ShuffleBalance } from './balance.js';

describe('nextShare', () => {
  test('moves towards the other threads while this one is saturated and they are not', () => {
    expect(nextShare(0.5, 0.5, 1, 0.6)).toBeCloseTo(0.52);
    expect(nextShare(1, 0.5, 1, 0.2)).toBe(1);
  });

  test('moves back while the other threads are saturated and this one is not', () => {
    expect(nextShare(0.7, 0.5, 0.6, 0.95)).toBeCloseTo(0.68);
    expect(nextShare(0.3, 0.5, 0.6, 0.95)).toBeCloseTo(0.28);
    expect(nextShare(0, 0.5, 0.2, 1)).toBe(0);
  });

  test('holds while both sides are about as busy and near saturation', () => {
    expect(nextShare(0.66, 0.5, 1, 0.95)).toBe(0.66);
    expect(nextShare(0.66, 0.5, 0.85, 0.85)).toBe(0.66);
  });

  test('drifts back to the even share when nobody is short of time', () => {
    expect(nextShare(0.7, 0.5, 0.3, 0.4)).toBeCloseTo(0.68);
    expect(nextShare(0.2, 0.5, 0.3, 0.4)).toBeCloseTo(0.22);
    expect(nextShare(0.51, 0.5, 0.3, 0.4)).toBe(0.5);
  });
});

describe('ShuffleBalance', () => {
  function tally(b: ShuffleBalance, n: number): Map<number, number> {
    const m = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const t = b.pick();
      m.set(t, (m.get(t) ?? 0) + 1);
    }
    return m;
  }

  test('starts even: every task gets the same number of tuples', () => {
    const b = new ShuffleBalance([0, 1], [2, 3, 4], [1], 0);
    expect(b.share).toBeCloseTo(0.6);
    // Within one: the share accumulates in floating point.
    for (const c of tally(b, 5000).values()) expect(Math.abs(c - 1000)).toBeLessThanOrEqual(1);
  });

  test('sends `share` of the tuples to the remote tasks, spread over them', () => {
    const b = new ShuffleBalance([0], [1, 2], [1], 0);
    b.share = 0.8;
    const m = tally(b, 1000);
    expect(m.get(0)).toBe(200);
    expect(m.get(1)).toBe(400);
    expect(m.get(2)).toBe(400);
  });

  test('spreads remote picks evenly instead of in runs', () => {
    const b = new ShuffleBalance([0], [1], [1], 0);
    b.share = 0.25;
    const picks = Array.from({ length: 12 }, () => b.pick());
    expect(picks).toEqual([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
  });

  test('a share of 0 or 1 keeps every tuple on one side', () => {
    const b = new ShuffleBalance([0], [1], [1], 0);
    b.share = 0;
    expect(new Set(Array.from({ length: 100 }, () => b.pick()))).toEqual(new Set([0]));
    b.share = 1;
    expect(new Set(Array.from({ length: 100 }, () => b.pick()))).toEqual(new Set([1]));
  });
});
