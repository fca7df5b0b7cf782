/**
 * The alert bolt's count strategies decide in event-time order, as one upstream task would give
 * them: events of several tasks (parse with parallelism 2) arrive interleaved batch by batch, so
 * that in arrival order a key's window moves on before the other task's events of the window
 * before arrive (a rate-of-change judged on half its counts), and the event that crosses a
 * threshold is whichever task's batch came first (an alert time before the crossing). Events wait
 * here, in a min-heap by event time, until every upstream task has passed their time (a watermark
 * without lateness), and are then counted oldest first.
 *
 * The heap is kept as plain data (an array of records) so that it can live in keyed state: held
 * events were acked when they arrived, so a restarted thread must find them in the state copy.
 */

/** A held event: its time, its arrival number (equal times keep their order), and what it counts for. */
export interface HeldEvent {
  readonly time: number;
  readonly seq: number;
  /** Per matching count strategy: its index, the key, and the `by` fields' values (for details). */
  readonly hits: readonly Hit[];
}

export interface Hit {
  readonly strategy: number;
  readonly key: string;
  readonly by: Record<string, unknown>;
}

/** Past this many held events the oldest are counted at once, in order: memory stays bounded. */
export const MAX_HELD = 100_000;

/** The heap, over an array another owner (keyed state) may hold. */
export class EventOrder {
  constructor(
    /** The heap's array: index 0 the earliest event. */
    readonly heap: HeldEvent[],
    private seq = 0,
  ) {
    for (const e of heap) if (e.seq >= this.seq) this.seq = e.seq + 1;
  }

  get size(): number {
    return this.heap.length;
  }

  hold(time: number, hits: readonly Hit[]): void {
    const heap = this.heap;
    const e: HeldEvent = { time, seq: this.seq++, hits };
    let i = heap.length;
    heap.push(e);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(e, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = e;
  }

  /** Takes out, earliest first, every event at or before `upTo` (and more while over MAX_HELD). */
  release(upTo: number, count: (e: HeldEvent) => void): void {
    const heap = this.heap;
    while (heap.length > 0 && (heap[0]!.time <= upTo || heap.length > MAX_HELD)) count(this.pop());
  }

  private pop(): HeldEvent {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    const n = heap.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(heap[r]!, heap[l]!) ? r : l;
      if (!before(heap[c]!, last)) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: HeldEvent, b: HeldEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
