/**
 * The order of tied keys in a ranking: numbers as numbers (ports 9, 10, 100, as nfdump lists
 * them), anything else as text. A key is a number here when it is plain decimal digits without a
 * leading zero (up to 15 digits, exact in a double); a mixed pair compares as text.
 */
const DECIMAL = /^(?:0|[1-9]\d{0,14})$/;

export function compareKeys(a: string, b: string): number {
  if (DECIMAL.test(a) && DECIMAL.test(b)) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}
