/**
 * The simulated timeline of one task: how many lines per simulated second each part of the run
 * holds, and so the simulated time of line i and which source (normal traffic or a fault) it
 * belongs to. Everything here is on the simulated clock, in ms from `start`.
 *
 * The density (lines per simulated second) is piecewise constant:
 *   base x factor(t) + the rates of the faults active at t
 * where base is `rate / speedup` when the spout is paced (`rate` > 0) and `baseRate` when it runs
 * as fast as it can, and factor(t) is the last rate step at or before t (1 before the first).
 * The cumulative count N(t) is then piecewise linear, and line i sits where N(t) = i: a pure
 * function of i and the schedule, whatever the real pacing was.
 */

/** One rate step: from `at` (ms of simulated time after start) on, the base density is multiplied by `factor`. */
export interface RateStep {
  readonly at: number;
  readonly factor: number;
}

/** What the schedule needs to know of a fault. */
export interface ScheduledFault {
  /** Start, ms of simulated time after start. */
  readonly at: number;
  /** How long it lasts, ms of simulated time. */
  readonly duration: number;
  /** Lines per simulated second, in addition to the normal traffic. */
  readonly rate: number;
}

/** A span of simulated time with a constant density. */
export interface Segment {
  /** Start, ms after the simulated start. */
  readonly t0: number;
  /** End (exclusive), ms; Infinity for the last. */
  readonly t1: number;
  /** The (fractional) line count N(t0). */
  readonly n0: number;
  /** N(t1); Infinity for the last. */
  readonly n1: number;
  /** Simulated ms per line. */
  readonly msPerLine: number;
  /** Lines per simulated second. */
  readonly density: number;
  /** The base (normal traffic) density of this span, lines per simulated second. */
  readonly baseDensity: number;
  /** Indexes (into the fault list) of the faults active in this span. */
  readonly faults: readonly number[];
  /**
   * Cumulative thresholds over [0, 2^16): a line whose mixing draw u (0..65535) is below
   * `thresholds[0]` is normal traffic, below `thresholds[k]` belongs to `faults[k - 1]`.
   */
  readonly thresholds: Uint32Array;
}

export const MIX_BITS = 16;
const MIX_RANGE = 1 << MIX_BITS;

export class Schedule {
  readonly segments: readonly Segment[];
  private cur = 0;

  constructor(baseDensity: number, steps: readonly RateStep[], faults: readonly ScheduledFault[]) {
    const points = new Set<number>([0]);
    for (const s of steps) points.add(s.at);
    for (const f of faults) {
      points.add(f.at);
      points.add(f.at + f.duration);
    }
    const times = [...points].filter((t) => t >= 0 && Number.isFinite(t)).sort((a, b) => a - b);
    const sortedSteps = [...steps].sort((a, b) => a.at - b.at);
    const segments: Segment[] = [];
    let n = 0;
    for (let k = 0; k < times.length; k++) {
      const t0 = times[k]!;
      const t1 = k + 1 < times.length ? times[k + 1]! : Infinity;
      let factor = 1;
      for (const s of sortedSteps) if (s.at <= t0) factor = s.factor;
      const base = baseDensity * factor;
      const active: number[] = [];
      let density = base;
      for (let j = 0; j < faults.length; j++) {
        const f = faults[j]!;
        if (f.at <= t0 && t0 < f.at + f.duration) {
          active.push(j);
          density += f.rate;
        }
      }
      const thresholds = new Uint32Array(active.length + 1);
      let acc = base;
      thresholds[0] = Math.round((acc / density) * MIX_RANGE);
      for (let a = 0; a < active.length; a++) {
        acc += faults[active[a]!]!.rate;
        thresholds[a + 1] = a + 1 === active.length ? MIX_RANGE : Math.round((acc / density) * MIX_RANGE);
      }
      const n1 = t1 === Infinity ? Infinity : n + ((t1 - t0) * density) / 1000;
      segments.push({ t0, t1, n0: n, n1, msPerLine: 1000 / density, density, baseDensity: base, faults: active, thresholds });
      n = n1;
    }
    this.segments = segments;
  }

  /** The segment line `i` falls in (lines are mostly asked in order, so the last one is tried first). */
  segmentOf(i: number): Segment {
    const segs = this.segments;
    let s = segs[this.cur]!;
    if (i >= s.n0 && i < s.n1) return s;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid]!.n0 <= i) lo = mid;
      else hi = mid - 1;
    }
    // Skip empty spans (several breakpoints at one time).
    while (lo + 1 < segs.length && segs[lo]!.n1 <= i) lo++;
    this.cur = lo;
    s = segs[lo]!;
    return s;
  }

  /** Simulated ms after start of line `i` (fractional). */
  offsetOf(i: number): number {
    const s = this.segmentOf(i);
    return s.t0 + (i - s.n0) * s.msPerLine;
  }

  /** How many lines have a time at or before `t` (ms after start): lines 0 .. result-1. */
  linesBy(t: number): number {
    if (t < 0) return 0;
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid]!.t0 <= t) lo = mid;
      else hi = mid - 1;
    }
    const s = segs[lo]!;
    return Math.floor(s.n0 + ((t - s.t0) * s.density) / 1000) + 1;
  }

  /** Lines per simulated second at `t` ms after start, normal traffic and faults together. */
  densityAt(t: number): number {
    for (let k = this.segments.length - 1; k >= 0; k--) if (this.segments[k]!.t0 <= t) return this.segments[k]!.density;
    return this.segments[0]!.density;
  }
}
