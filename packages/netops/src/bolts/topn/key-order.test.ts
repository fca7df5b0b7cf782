import { describe, expect, it } from 'vitest';
import { compareKeys } from './key-order.js';

describe('compareKeys: the order of tied keys', () => {
  it('puts numbers in numeric order, as nfdump lists ports', () => {
    expect(['443', '10', '9', '100', '0'].sort(compareKeys)).toEqual(['0', '9', '10', '100', '443']);
  });

  it('compares anything else, or a mixed pair, as text', () => {
    expect(['b', 'a', '10.0.0.2', '10.0.0.10'].sort(compareKeys)).toEqual(['10.0.0.10', '10.0.0.2', 'a', 'b']);
    // A leading zero, a sign or a fraction is text: "010" is not 10.
    expect(compareKeys('010', '9')).toBeLessThan(0);
    expect(compareKeys('-1', '2')).toBeLessThan(0);
    expect(compareKeys('9', 'a')).toBeLessThan(0);
    expect(compareKeys('7', '7')).toBe(0);
  });
});
