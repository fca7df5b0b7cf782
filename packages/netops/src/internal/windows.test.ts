import { describe, expect, it } from 'vitest';
import { Watermark, windowStartOf } from './windows.js';

describe('windowStartOf', () => {
  it('aligns windows to the epoch, negative times included', () => {
    expect(windowStartOf(300_000, 300_000)).toBe(300_000);
    expect(windowStartOf(599_999, 300_000)).toBe(300_000);
    expect(windowStartOf(-1, 300_000)).toBe(-300_000);
  });
});

describe('Watermark', () => {
  it('with one input: the highest event time minus the lateness, never going back', () => {
    const w = new Watermark(30);
    expect(w.value).toBe(Number.NEGATIVE_INFINITY);
    expect(w.observe(1, 100)).toBe(70);
    expect(w.observe(1, 90)).toBe(70);
    expect(w.observe(1, 200)).toBe(170);
    expect(w.max).toBe(200);
  });

  it('with several inputs: the one furthest behind holds it back', () => {
    const w = new Watermark(10);
    w.expect([1, 2]);
    // Input 2 has sent nothing yet: no window may close on input 1's word alone.
    expect(w.observe(1, 1000)).toBe(Number.NEGATIVE_INFINITY);
    expect(w.observe(2, 500)).toBe(490);
    expect(w.observe(1, 5000)).toBe(490);
    // Input 2 catches up past input 1's last time: input 1 is now the one behind.
    expect(w.observe(2, 9000)).toBe(4990);
    expect(w.observe(1, 8000)).toBe(7990);
    expect(w.max).toBe(9000);
  });

  it('an input silent for idleMs stops holding it back, and counts again once it sends', () => {
    const w = new Watermark(0, 1000);
    w.at(0);
    w.expect([1, 2]);
    w.observe(1, 100);
    w.observe(2, 50);
    expect(w.value).toBe(50);
    w.at(500);
    w.observe(1, 300);
    expect(w.value).toBe(50); // input 2 is quiet, not idle yet
    w.at(1000);
    // Input 2 last sent at 0: idle now, so input 1 alone sets the watermark.
    expect(w.value).toBe(300);
    w.observe(1, 400);
    expect(w.value).toBe(400);
    // Input 2 sends again: it counts again, but the watermark does not go back.
    w.at(1100);
    expect(w.observe(2, 350)).toBe(400);
    expect(w.observe(1, 900)).toBe(400);
    expect(w.observe(2, 800)).toBe(800);
  });

  it('an expected input that never sends is left out after idleMs', () => {
    const w = new Watermark(0, 1000);
    w.at(0);
    w.expect([1, 2, 3]);
    w.observe(1, 100);
    w.observe(2, 200);
    expect(w.value).toBe(Number.NEGATIVE_INFINITY);
    w.at(999);
    w.observe(1, 150);
    w.observe(2, 250);
    expect(w.value).toBe(Number.NEGATIVE_INFINITY);
    w.at(1000);
    expect(w.value).toBe(150);
  });

  it("when every input is idle, goes on with the wall clock from each one's last event, without a jump", () => {
    const w = new Watermark(5, 1000);
    w.at(0);
    w.expect([1, 2]);
    w.observe(1, 10_000);
    w.at(200);
    w.observe(2, 9_000); // a parser whose devices' clocks are 1 s behind
    expect(w.value).toBe(8_995);
    w.at(1_000); // input 1 idle: input 2 alone holds it
    expect(w.value).toBe(8_995);
    w.at(1_200); // both idle: input 2's time has not moved on yet, so no jump
    expect(w.value).toBe(8_995);
    w.at(3_200); // silent 2 s beyond idleMs: input 2 at 11,000, input 1 at 12,200
    expect(w.value).toBe(10_995);
    // A new event behind the projection is not taken back; the watermark follows it from there.
    w.observe(2, 10_500);
    expect(w.value).toBe(10_995);
    w.at(3_300);
    w.observe(1, 13_000);
    w.observe(2, 13_100);
    expect(w.value).toBe(12_995);
  });

  it('an input that never sent an event does not move it on when all are idle', () => {
    const w = new Watermark(0, 1000);
    w.at(0);
    w.expect([1]);
    w.at(50_000);
    expect(w.value).toBe(Number.NEGATIVE_INFINITY);
  });

  it('seed: a clock from an earlier run, before any input; it goes on after idleMs and gives way to the first real input', () => {
    const w = new Watermark(0, 1000);
    w.at(0);
    w.seed(5000);
    expect(w.value).toBe(5000);
    w.at(3000); // silent 2 s beyond idleMs
    expect(w.value).toBe(7000);
    // A real input takes over; the watermark never goes back.
    expect(w.observe(1, 6000)).toBe(7000);
    expect(w.observe(1, 9000)).toBe(9000);
    // Only before any input.
    const v = new Watermark(0, 1000);
    v.observe(1, 100);
    v.seed(5000);
    expect(v.value).toBe(100);
  });

  it('with idleMs 0 a silent input holds it back for good', () => {
    const w = new Watermark(0, 0);
    w.at(0);
    w.expect([1, 2]);
    w.observe(1, 100);
    w.at(1e9);
    w.observe(1, 200);
    expect(w.value).toBe(Number.NEGATIVE_INFINITY);
  });
});
