/**
 * Tumbling windows and event-time watermarks, shared by the windowed bolts (topn, cluster, alert).
 * Windows are aligned to the epoch: a window of `size` ms holding time t starts at
 * t - (t mod size), so every task, run and replay cuts the stream at the same instants.
 */

/** The start of the tumbling window of `size` ms that holds `time` (ms since the epoch). */
export function windowStartOf(time: number, size: number): number {
  const r = time % size;
  return r >= 0 ? time - r : time - r - size;
}

/**
 * How far ahead of this machine's clock an event time may be. Further ahead is a device whose
 * clock is wrong (no NTP, set to 2099): one such event would drive the watermark past every
 * open window and make every real event late until that date, so it is dropped and counted.
 */
export const MAX_FUTURE_MS = 60 * 60_000;

/** The latest event time accepted now (MAX_FUTURE_MS ahead of the wall clock). */
export function futureLimit(): number {
  return Date.now() + MAX_FUTURE_MS;
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

/** An upstream task as the watermark sees it. */
interface Input {
  /** Highest event time it sent. */
  max: number;
  /** Processing time (ms) it last sent something, or was first expected. */
  seenAt: number;
}

/**
 * An event-time watermark over every upstream task, as Flink computes one: each input's highest
 * event time, the lowest of those, minus the allowed lateness. So when parallel upstream tasks
 * drift apart (two parsers under load can be tens of thousands of events apart), the slower
 * one's events are not late merely because the faster one is ahead. An input that has sent
 * nothing for `idleMs` of processing time stops holding the watermark back until it sends again
 * (a parser that gets no traffic must not stall every window). With one input this is the
 * highest event time minus the lateness. When every input has been silent for `idleMs`, event
 * time is taken to go on at the pace of the wall clock from there: each input's highest event
 * time plus the processing time it has been silent beyond `idleMs`, the lowest of those, minus
 * the lateness (no jump when silence begins). So the windows of a live feed that went quiet are
 * still emitted, `idleMs` after their end, instead of waiting for the next event; a device clock
 * that is off by a constant does not matter, since time goes on from each input's own last event.
 * Monotonic: it never goes back.
 */
/** The input id of seed(): no upstream task has it. */
const SEED_INPUT = -1_000_001;

export class Watermark {
  private readonly inputs = new Map<number, Input>();
  /** The input of the last observe: a batch comes from one sender, so this is usually a hit. */
  private lastId = Number.NaN;
  private last: Input | null = null;
  private now = 0;
  private wm = Number.NEGATIVE_INFINITY;
  /** seed() put a stand-in input in `inputs`, until a real one sends. */
  private seeded = false;

  constructor(
    readonly latenessMs: number,
    /** Processing time after which a silent input is left out; 0: never. */
    readonly idleMs = 0,
  ) {}

  /** Sets the processing time (ms) for what follows: once per batch (and per tick, so that silence is noticed). */
  at(now: number): void {
    this.now = now;
    // Idleness is a matter of processing time: an input may have gone idle since the last batch.
    if (this.idleMs > 0 && this.inputs.size > 0) this.recompute();
  }

  /** Inputs expected before they send (every task of an upstream component, on the first tuple from one). */
  expect(ids: readonly number[]): void {
    for (const id of ids) if (!this.inputs.has(id)) this.inputs.set(id, { max: Number.NEGATIVE_INFINITY, seenAt: this.now });
  }

  /**
   * Starts from event time `time`, as if an input had last sent it now: a task that restored open
   * windows from an earlier run (which got as far as `time`) has a clock before any new input, so
   * that its time goes on after idleMs of silence and those windows close. The seed counts as an
   * input until a real one sends.
   */
  seed(time: number): void {
    if (!Number.isFinite(time) || this.inputs.size > 0) return;
    this.inputs.set(SEED_INPUT, { max: time, seenAt: this.now });
    this.seeded = true;
    this.recompute();
  }

  /** Notes an event time from input `source` (the upstream task id); returns the watermark after it. */
  observe(source: number, time: number): number {
    if (this.seeded) {
      this.seeded = false;
      this.inputs.delete(SEED_INPUT);
    }
    let input = this.last;
    if (source !== this.lastId || input === null) {
      input = this.inputs.get(source) ?? null;
      if (input === null) {
        input = { max: Number.NEGATIVE_INFINITY, seenAt: this.now };
        this.inputs.set(source, input);
      }
      this.lastId = source;
      this.last = input;
    }
    input.seenAt = this.now;
    if (time > input.max) {
      // Only the input the watermark waits for (or one behind it) can move it.
      const wasLowest = input.max - this.latenessMs <= this.wm;
      input.max = time;
      if (wasLowest) this.recompute();
    }
    return this.wm;
  }

  private recompute(): void {
    let min = Number.POSITIVE_INFINITY;
    const idle = this.idleMs;
    for (const input of this.inputs.values()) {
      if (idle > 0 && this.now - input.seenAt >= idle) continue;
      if (input.max < min) min = input.max;
    }
    if (min === Number.POSITIVE_INFINITY) min = this.projected();
    if (min === Number.POSITIVE_INFINITY) return;
    const wm = min - this.latenessMs;
    if (wm > this.wm) this.wm = wm;
  }

  /**
   * Every input is idle: the lowest of their highest event times, each moved on by the processing
   * time that input has been silent beyond idleMs. +Infinity when none has sent an event yet.
   */
  private projected(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const input of this.inputs.values()) {
      if (input.max === Number.NEGATIVE_INFINITY) continue;
      const t = input.max + (this.now - input.seenAt - this.idleMs);
      if (t < min) min = t;
    }
    return min;
  }

  /** The current watermark; -Infinity until every active input has sent an event. */
  get value(): number {
    return this.wm;
  }

  /** The highest event time seen from any input (for diagnostics: computed when asked). */
  get max(): number {
    let max = Number.NEGATIVE_INFINITY;
    for (const input of this.inputs.values()) if (input.max > max) max = input.max;
    return max;
  }
}
