import { describe, expect, it } from 'vitest';
import { COUNTED, COUNTED_EARLIER, countInWindow, earlierThreshold, LATE, type WindowCount } from './window-count.js';

const W = 100;
const fresh = (start: number): WindowCount => ({ start, count: 0, prevStart: start - W, prevCount: 0, fired: false });

describe('countInWindow', () => {
  it('without lateness keeps the newest window and the one before it only', () => {
    const c = fresh(0);
    expect(countInWindow(c, 0, W)).toBe(COUNTED);
    expect(countInWindow(c, 100, W)).toBe(COUNTED);
    expect(countInWindow(c, 0, W)).toBe(COUNTED_EARLIER);
    expect(c).toMatchObject({ start: 100, count: 1, prevStart: 0, prevCount: 2 });
    expect(countInWindow(c, 300, W)).toBe(COUNTED);
    // A gap: the previous window (200) had nothing, and 100 is closed.
    expect(c).toMatchObject({ start: 300, count: 1, prevStart: 200, prevCount: 0 });
    expect(countInWindow(c, 100, W)).toBe(LATE);
    expect(c.older).toBeUndefined();
  });

  it('with lateness keeps older windows while their end is less than lateness before the newest start', () => {
    const c = fresh(0);
    countInWindow(c, 0, W, 250);
    countInWindow(c, 0, W, 250);
    countInWindow(c, 100, W, 250);
    // Jump ahead over a gap: window 0 ends 300 before 400 and closes; window 100 ends 200 before, and stays.
    countInWindow(c, 400, W, 250);
    expect(c.older).toEqual([100, 1, 0]);
    expect(countInWindow(c, 0, W, 250)).toBe(LATE);
    expect(countInWindow(c, 100, W, 250)).toBe(COUNTED_EARLIER);
    expect(countInWindow(c, 300, W, 250)).toBe(COUNTED_EARLIER);
    expect(c).toMatchObject({ start: 400, count: 1, prevStart: 300, prevCount: 1, older: [100, 2, 0] });
    // Threshold 2 reached in window 100 by that late event: reported once.
    expect(earlierThreshold(c, 100, 2)).toBe(2);
    expect(earlierThreshold(c, 100, 2)).toBe(-1);
    // Moving on: 300 (the previous window) becomes older, 100 now ends 400 before 500: closed.
    countInWindow(c, 500, W, 250);
    expect(c.older).toEqual([300, 1, 0]);
    countInWindow(c, 900, W, 250);
    expect(c.older).toBeUndefined();
  });
});
