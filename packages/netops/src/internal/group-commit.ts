/**
 * When a sink that writes one chunk at a time writes what it holds, when no timer paces it: as
 * soon as no write is running (group commit). What arrives during a write goes in the next one,
 * so chunks are large under load and a single line goes out at once when there is little.
 * Holding input for a timer instead would hold its acks too, and a spout that may have only
 * `maxSpoutPending` tuples in flight would wait for the timer.
 */
export class GroupCommit {
  /** Writes handed to the sink's chain and not yet ended. */
  private inFlight = 0;
  /** A flush is queued for after this turn of the event loop. */
  private queued = false;
  private readonly onTurnEnd = (): void => {
    this.queued = false;
    if (this.inFlight === 0) this.flush();
  };

  constructor(private readonly flush: () => void) {}

  /** Input is held: it is written once this turn's input is in, unless a write runs (whose end writes it). */
  held(): void {
    if (this.inFlight > 0 || this.queued) return;
    this.queued = true;
    setImmediate(this.onTurnEnd);
  }

  /** A write was handed to the chain. */
  started(): void {
    this.inFlight++;
  }

  /** A write ended (written or failed); `more`: input held meanwhile, which goes now. */
  ended(more: boolean): void {
    if (--this.inFlight === 0 && more) this.flush();
  }
}
