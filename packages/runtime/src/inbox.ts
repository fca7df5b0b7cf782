import type { TupleImpl } from './tuple-impl.js';

/** A batch waiting in a bolt's input queue: tuples, or a still-encoded batch from another thread. */
export interface InboxEntry {
  tuples: TupleImpl[] | null;
  decode: (() => TupleImpl[]) | null;
  /** The sending worker, -1 for a local batch, -2 for deferred local tuples, -3 for a replaced sender's batch. */
  fromWorker: number;
  /** When it arrived in the queue (perf.now() of this thread): process latency starts there. */
  at: number;
}

/** The batches of one sending thread, oldest first. */
class Lane {
  entries: InboxEntry[] = [];
  head = 0;
}

/**
 * A bolt's input queue, fair between the threads that feed it: batches are taken from each
 * sending thread in turn, one at a time, as Flink's input gate takes buffers from its channels.
 * A single FIFO favoured whichever sender could keep more batches waiting: a remote sender may
 * have all its credits queued while a sender in the consumer's own thread holds back after one
 * batch, so under backpressure the local sender got 1 / (1 + credits) of the bolt. Order within
 * a thread's lane is arrival order, which keeps each sending task's order.
 */
export class Inbox {
  /** Lane 0 holds this thread's batches (local, deferred); lane w + 1 those of worker w. */
  private readonly lanes: Lane[] = [new Lane()];
  /** The lane to look at first on the next take. */
  private next = 0;
  size = 0;

  push(entry: InboxEntry): void {
    const i = entry.fromWorker < 0 ? 0 : entry.fromWorker + 1;
    let lane = this.lanes[i];
    if (lane === undefined) {
      while (this.lanes.length <= i) this.lanes.push(new Lane());
      lane = this.lanes[i]!;
    }
    lane.entries.push(entry);
    this.size++;
  }

  /** The oldest batch of the next sending thread in turn that has one. */
  shift(): InboxEntry | undefined {
    if (this.size === 0) return undefined;
    const lanes = this.lanes;
    let i = this.next;
    for (;;) {
      if (i >= lanes.length) i = 0;
      const lane = lanes[i]!;
      if (lane.head < lane.entries.length) break;
      i++;
    }
    const lane = lanes[i]!;
    const entry = lane.entries[lane.head]!;
    lane.entries[lane.head++] = undefined as unknown as InboxEntry;
    if (lane.head === lane.entries.length) {
      lane.entries.length = 0;
      lane.head = 0;
    } else if (lane.head > 1024 && lane.head * 2 > lane.entries.length) {
      lane.entries.splice(0, lane.head);
      lane.head = 0;
    }
    this.size--;
    this.next = i + 1;
    return entry;
  }

  /** Batches from this thread waiting (local, deferred). */
  localSize(): number {
    const lane = this.lanes[0]!;
    return lane.entries.length - lane.head;
  }

  /** The newest batch from this thread, if it is still waiting. */
  lastLocal(): InboxEntry | undefined {
    const lane = this.lanes[0]!;
    return lane.head < lane.entries.length ? lane.entries[lane.entries.length - 1] : undefined;
  }

  /** Marks the waiting batches of `worker` as sent by `as` instead; they keep their place. */
  relabel(worker: number, as: number): void {
    const lane = this.lanes[worker + 1];
    if (lane === undefined) return;
    for (let i = lane.head; i < lane.entries.length; i++) lane.entries[i]!.fromWorker = as;
  }
}
