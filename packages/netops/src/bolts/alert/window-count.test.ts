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

  it('with lateness, a window the key had no event in yet still takes its first late event', () => {
    const c = fresh(0);
    countInWindow(c, 0, W, 250);
    countInWindow(c, 400, W, 250);
    // Window 200 ends 100 before 400: open, though nothing of the key fell in it before.
    expect(countInWindow(c, 200, W, 250)).toBe(COUNTED_EARLIER);
    expect(countInWindow(c, 100, W, 250)).toBe(COUNTED_EARLIER);
    expect(c.older).toEqual([100, 1, 0, 200, 1, 0]);
    expect(earlierThreshold(c, 200, 1)).toBe(1);
  });

  it('keeps every window the watermark has not passed, and closes them as it passes', () => {
    const c = fresh(0);
    countInWindow(c, 0, W, 0, -Infinity);
    // Another upstream task is far ahead: the key moves on, but the watermark waits for this one.
    countInWindow(c, 1000, W, 0, 50);
    expect(countInWindow(c, 0, W, 0, 50)).toBe(COUNTED_EARLIER);
    expect(countInWindow(c, 300, W, 0, 50)).toBe(COUNTED_EARLIER);
    expect(c.older).toEqual([0, 2, 0, 300, 1, 0]);
    // The watermark passes window 0 (it ends at 100), not window 300.
    expect(countInWindow(c, 0, W, 0, 150)).toBe(LATE);
    expect(countInWindow(c, 300, W, 0, 150)).toBe(COUNTED_EARLIER);
    expect(c.older).toEqual([300, 2, 0]);
    // Once the watermark is past it, only the previous window stays open.
    expect(countInWindow(c, 500, W, 0, 990)).toBe(LATE);
    expect(c.older).toBeUndefined();
    expect(countInWindow(c, 900, W, 0, 990)).toBe(COUNTED_EARLIER);
  });
});
