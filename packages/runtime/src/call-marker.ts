/**
 * Which task a worker thread is running component code for, kept in memory the main thread can
 * read while the thread is stuck in that code: a loop in `execute` or `next` never lets the thread
 * answer a message, so only shared memory can say which component holds it. One slot per worker
 * thread, holding the task id plus one, 0 between calls.
 */
export class CallMarker {
  constructor(
    private readonly slots: Int32Array,
    private readonly worker: number,
  ) {}

  /** Marks `taskId` as running; returns the mark it replaced, for `restore`. */
  enter(taskId: number): number {
    const previous = this.slots[this.worker]!;
    // A plain store: the main thread reads it seconds later, and this runs once a batch.
    this.slots[this.worker] = taskId + 1;
    return previous;
  }

  restore(previous: number): void {
    this.slots[this.worker] = previous;
  }

  /** No task is running: the thread is in the engine's own code. */
  leave(): void {
    this.slots[this.worker] = 0;
  }
}

/** The task a worker thread was last marked running, read from the main thread; -1 for none. */
export function markedTask(slots: Int32Array, worker: number): number {
  return Atomics.load(slots, worker) - 1;
}
