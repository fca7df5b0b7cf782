import { describe, expect, it } from 'vitest';
import { compareKeys } from './key-order.js';

describe('compareKeys: the order of tied keys', () => {
  it('puts numbers in numeric order, as nfdump lists ports', () => {
    expect(['443', '10', '9', '100', '0'].sort(compareKeys)).toEqual(['0', '9', '10', '100', '443']);
  });

  it('compares anything else as text, after the numbers', () => {
    expect(['b', 'a', '10.0.0.2', '10.0.0.10'].sort(compareKeys)).toEqual(['10.0.0.10', '10.0.0.2', 'a', 'b']);
    // A leading zero, a sign or a fraction is text: "010" is not 10.
    expect(compareKeys('010', '9')).toBeGreaterThan(0);
    expect(compareKeys('-1', '2')).toBeGreaterThan(0);
    expect(compareKeys('9', 'a')).toBeLessThan(0);
    expect(compareKeys('7', '7')).toBe(0);
  });

  it('is one order whatever the input order, numbers and text mixed (an app or procid dimension)', () => {
    // As text for a mixed pair, 9 < 10 < 10.0.0.16 < 9 went round in a circle, and the ranking of
    // tied keys depended on the order they were counted in.
    const keys = ['9', '10', '10.0.0.16', 'a', '010'];
    const want = ['9', '10', '010', '10.0.0.16', 'a'];
    const perms = (xs: string[]): string[][] =>
      xs.length <= 1 ? [xs] : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
    for (const p of perms(keys)) expect(p.sort(compareKeys)).toEqual(want);
  });
});
