import { randomFillSync } from 'node:crypto';

/**
 * Edge ids for the XOR acker: 64 random bits as two int32 halves, from xorshift128 seeded by the
 * OS per thread. Math.random would do too; this is cheaper and never yields a zero pair.
 */
export class EdgeIds {
  private s = new Int32Array(4);
  lo = 0;
  hi = 0;
  constructor() {
    randomFillSync(this.s);
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1;
  }
  private step(): number {
    const s = this.s;
    let t = s[3]!;
    const x = s[0]!;
    s[3] = s[2]!;
    s[2] = s[1]!;
    s[1] = x;
    t ^= t << 11;
    t ^= t >>> 8;
    s[0] = t ^ x ^ (x >>> 19);
    return s[0]!;
  }
  /** Draws the next edge id into `lo` and `hi`. */
  next(): void {
    do {
      this.lo = this.step();
      this.hi = this.step();
    } while ((this.lo | this.hi) === 0);
  }
}
