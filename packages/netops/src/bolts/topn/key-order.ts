/**
 * The order of tied keys in a ranking: numbers as numbers (ports 9, 10, 100, as nfdump lists
 * them), before anything else, which goes as text. A key is a number here when it is plain decimal
 * digits without a leading zero (up to 15 digits, exact in a double). Numbers first, rather than a
 * mixed pair as text, keeps it one order: otherwise 9 < 10 < 10.0.0.16 < 9.
 */
const DECIMAL = /^(?:0|[1-9]\d{0,14})$/;

export function compareKeys(a: string, b: string): number {
  const na = DECIMAL.test(a);
  if (na !== DECIMAL.test(b)) return na ? -1 : 1;
  if (na) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}
