/**
 * Load-aware shuffle (as in Storm 2): each thread publishes how busy its event loop is, in
 * memory that every thread of the engine shares, and a shuffle edge whose consumer has tasks both
 * in the sender's thread and in others moves its share of tuples towards the side with time to
 * spare. A spout thread that runs flat out while another thread idles hands that thread more of
 * the work behind the shuffle; when neither side is short of time the spread goes back to even.
 */
import { type EventLoopUtilization, performance } from 'node:perf_hooks';

/** How often a thread measures itself and moves its edges' shares. */
export const BALANCE_INTERVAL_MS = 100;
/** Share moved per interval: small, so that it settles near the balance instead of swinging past it. */
const STEP = 0.02;
/** Busy fraction from which a thread counts as saturated. */
const SATURATED = 0.9;
/** Below this on both sides, nobody is short of time: the spread drifts back to even. */
const RELAXED = 0.8;
/** How much busier one side must be before tuples move towards the other. */
const MARGIN = 0.1;
/** Weight of the newest measurement in a thread's smoothed load. */
const SMOOTHING = 0.5;

/**
 * The next share of tuples an edge sends to other threads, from its sender thread's load and
 * the mean load of the threads its other tasks are in (smoothed busy fractions, 0..1).
 */
export function nextShare(share: number, evenShare: number, local: number, remote: number): number {
  if (local >= SATURATED && local - remote >= MARGIN) return Math.min(1, share + STEP);
  if (remote >= SATURATED && remote - local >= MARGIN) return Math.max(0, share - STEP);
  if (local < RELAXED && remote < RELAXED) {
    return share > evenShare ? Math.max(evenShare, share - STEP) : Math.min(evenShare, share + STEP);
  }
  // Both saturated, or close to it: hold where the shares balanced them.
  return share;
}

/** The picking side of one load-aware shuffle edge: `share` of the tuples go to `remote`. */
export class ShuffleBalance {
  /** Fraction of tuples for tasks in other threads; starts even (as many as round-robin gives them). */
  share: number;
  readonly evenShare: number;
  /** Remote picks owed: the share accumulates per tuple, so picks are spread evenly, not in runs. */
  private owed = 0;
  private nextLocal: number;
  private nextRemote: number;

  constructor(
    readonly local: readonly number[],
    readonly remote: readonly number[],
    /** The threads `remote` is in, each once. */
    readonly remoteWorkers: readonly number[],
    offset: number,
    /** Who sends and to whom, for the share's metric. */
    readonly labels: { readonly component: string; readonly task: string; readonly to: string } = { component: '', task: '', to: '' },
  ) {
    this.evenShare = remote.length / (local.length + remote.length);
    this.share = this.evenShare;
    this.nextLocal = offset % local.length;
    this.nextRemote = offset % remote.length;
  }

  pick(): number {
    const owed = this.owed + this.share;
    if (owed >= 1) {
      this.owed = owed - 1;
      const i = this.nextRemote;
      this.nextRemote = i + 1 >= this.remote.length ? 0 : i + 1;
      return this.remote[i]!;
    }
    this.owed = owed;
    const i = this.nextLocal;
    this.nextLocal = i + 1 >= this.local.length ? 0 : i + 1;
    return this.local[i]!;
  }
}

/** One thread's side: measures and publishes its load, and moves its edges' shares. */
export class Balancer {
  private last: EventLoopUtilization = performance.eventLoopUtilization();
  /** This thread's busy fraction, smoothed; -1 before the first measurement. */
  smoothed = -1;

  constructor(
    /** Smoothed busy fraction per thread in thousandths (-1: not measured yet); shared by all threads. */
    private readonly loads: Int32Array,
    private readonly worker: number,
    readonly edges: readonly ShuffleBalance[],
  ) {}

  sample(): void {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, this.last).utilization;
    this.last = now;
    this.smoothed = this.smoothed < 0 ? busy : SMOOTHING * busy + (1 - SMOOTHING) * this.smoothed;
    Atomics.store(this.loads, this.worker, Math.round(this.smoothed * 1000));
    for (const edge of this.edges) {
      let sum = 0;
      let known = 0;
      for (const w of edge.remoteWorkers) {
        const load = Atomics.load(this.loads, w);
        if (load < 0) continue;
        sum += load;
        known++;
      }
      // A thread that has not measured itself yet (still starting) says nothing either way.
      if (known === 0) continue;
      edge.share = nextShare(edge.share, edge.evenShare, this.smoothed, sum / known / 1000);
    }
  }
}
