/**
 * Tumbling windows and event-time watermarks, shared by the windowed bolts (cluster, alert).
 * Windows are aligned to the epoch: a window of `size` ms holding time t starts at
 * t - (t mod size), so every task, run and replay cuts the stream at the same instants.
 */

/** The start of the tumbling window of `size` ms that holds `time` (ms since the epoch). */
export function windowStartOf(time: number, size: number): number {
  const r = time % size;
  return r >= 0 ? time - r : time - r - size;
}

/** An event time read from a tuple value: a finite number of ms, else undefined. */
export function eventTimeOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (v instanceof Date) {
    const t = v.getTime();
    return Number.isFinite(t) ? t : undefined;
  }
  return undefined;
}

/**
 * An event-time watermark: the highest event time seen minus the allowed lateness. A window
 * whose end is at or below the watermark is complete; an event older than the watermark's
 * closed windows is late. Monotonic: it never goes back.
 */
export class Watermark {
  private maxTime = Number.NEGATIVE_INFINITY;

  constructor(readonly latenessMs: number) {}

  /** Notes an event time; returns the watermark after it. */
  observe(time: number): number {
    if (time > this.maxTime) this.maxTime = time;
    return this.maxTime - this.latenessMs;
  }

  /** The current watermark; -Infinity before any event. */
  get value(): number {
    return this.maxTime - this.latenessMs;
  }

  /** The highest event time seen. */
  get max(): number {
    return this.maxTime;
  }
}
