/**
 * Saves a spout's committed position at most every `intervalMs`, and only when it changed.
 * `touch()` is called on the hot path (every ack, every next) and costs a field check; the
 * save itself runs from a timer, so the last change is always saved, at most `intervalMs` late.
 */
export class CheckpointThrottle {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly fire = (): void => {
    this.timer = undefined;
    this.save();
  };

  constructor(
    /** Computes the position and saves it when it changed. */
    private readonly save: () => void,
    private readonly intervalMs = 100,
  ) {}

  /** The committed position may have moved: save it within `intervalMs`. */
  touch(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(this.fire, this.intervalMs);
    this.timer.unref?.();
  }

  /** Saves now (if changed) and cancels the pending timer. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.save();
  }

  /** Saves a last time and stops. */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
