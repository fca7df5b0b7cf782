/**
 * The bookkeeping of a spout whose line i is a pure function of i (the generators): which
 * sequence numbers were emitted and not yet acked, which failed and must be emitted again, and
 * the lowest number not yet acked, where a restarted task resumes. Nothing but numbers is kept:
 * a failed line is regenerated, not stored.
 */
export class SequenceLedger {
  /** The next new sequence number. */
  seq: number;
  /** Emitted and not yet acked; insertion order is sequence order, so the first is the lowest. */
  private readonly pending = new Set<number>();
  private replay: number[] = [];
  private replayHead = 0;

  constructor(
    start: number,
    /** Whether emits carry message ids (acking on); without, nothing is pending or replayed. */
    private readonly reliable: boolean,
  ) {
    this.seq = start;
  }

  /** True while failed numbers wait to be emitted again. */
  get replaying(): boolean {
    return this.replayHead < this.replay.length;
  }

  /** The next failed number to emit again, or -1 when none is left. */
  nextReplay(): number {
    while (this.replayHead < this.replay.length) {
      const i = this.replay[this.replayHead++]!;
      if (this.pending.has(i)) return i; // else acked after it failed
    }
    if (this.replayHead > 0) {
      this.replay = [];
      this.replayHead = 0;
    }
    return -1;
  }

  /** Number `i` was emitted with message id `i`. */
  track(i: number): void {
    if (this.reliable) this.pending.add(i);
  }

  /** True when `i` was pending (the lowest unacked number may have moved). */
  ack(i: number): boolean {
    return this.pending.delete(i);
  }

  /** True when `i` was pending and is now queued to be emitted again. */
  fail(i: number): boolean {
    if (!this.pending.has(i)) return false;
    this.replay.push(i);
    return true;
  }

  /** The lowest number not yet acked (the next new one when nothing is pending): a checkpoint. */
  lowest(): number {
    for (const i of this.pending) return i;
    return this.seq;
  }
}
