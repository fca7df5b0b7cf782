import type { MessagePort } from 'node:worker_threads';
import { Packr, Unpackr } from 'msgpackr';
import type { PeerMessage } from './protocol.js';
import { NO_ROOTS, type SourceStream, TupleImpl } from './tuple-impl.js';

/** Where a worker delivers batches for its own tasks. */
export interface LocalSink {
  /** Queues a batch for a local task. `fromWorker` is -1 for local senders. */
  enqueue(task: number, batch: TupleImpl[], fromWorker: number): void;
  /** Batches queued for a local task (for local congestion). */
  queued(task: number): number;
  /** Applies acks and fails for a local spout task. */
  applyAcks(task: number, acks: readonly number[] | Float64Array | null, fails: readonly number[] | Float64Array | null): void;
}

/** A local bolt that takes tuples as direct function calls. */
export interface DirectTarget {
  deliver(t: TupleImpl): void;
}

/** Tuples buffered for one (source task, stream, destination task). */
class OutBuffer {
  tuples: TupleImpl[] = [];
  values: unknown[][] = [];
  anchors: number[] = [];
  anchored = false;
  n = 0;
  dirty = false;
  constructor(
    readonly dst: number,
    readonly dstWorker: number,
    readonly local: boolean,
    readonly src: SourceStream,
  ) {}
}

interface AckBuffer {
  acks: number[];
  fails: number[];
  dirty: boolean;
}

/**
 * The thread transport: batches tuples per destination task, sends them to local executors as
 * arrays and to other threads as msgpackr batches over MessagePorts, and enforces credit-based
 * flow control per edge (this thread -> destination task).
 */
export class Transfer {
  private readonly packr = new Packr({ useRecords: false });
  private readonly unpackr = new Unpackr({ useRecords: false });
  private readonly dirty: OutBuffer[] = [];
  /** Credits left per remote destination task. */
  private readonly credits: Int32Array;
  /** Batches waiting for credit, per remote destination task. */
  private readonly waiting: (PeerMessage[] | undefined)[];
  private readonly ackBuffers: (AckBuffer | undefined)[];
  private readonly dirtyAcks: number[] = [];
  /** Credits to return, per sending worker: flat [task, n, ...]. */
  private readonly creditReturns: number[][];
  /** Messages that count for termination detection, per peer worker. */
  readonly sentTo: number[];
  readonly recvFrom: number[];
  private lingerTimer: NodeJS.Timeout | undefined;
  /** Local tasks that are called directly instead of through a batch, by task id. */
  readonly direct: (DirectTarget | undefined)[];

  constructor(
    private readonly worker: number,
    private readonly taskWorker: readonly number[],
    private readonly peers: (MessagePort | null)[],
    private readonly batchSize: number,
    private readonly lingerMs: number,
    private readonly initialCredits: number,
    private readonly local: LocalSink,
    /** Called when credits arrive, so the scheduler can run blocked tasks. */
    private readonly onUnblocked: () => void,
  ) {
    const nTasks = taskWorker.length;
    this.direct = new Array(nTasks);
    this.credits = new Int32Array(nTasks).fill(initialCredits);
    this.waiting = new Array(nTasks);
    this.ackBuffers = new Array(nTasks);
    this.creditReturns = peers.map(() => []);
    this.sentTo = peers.map(() => 0);
    this.recvFrom = peers.map(() => 0);
  }

  /** Buffers one tuple copy for `dst`. Flushes when the batch is full. */
  push(dst: number, src: SourceStream, values: unknown[], roots: readonly number[], lo: number, hi: number): void {
    const direct = this.direct[dst];
    if (direct !== undefined) {
      direct.deliver(new TupleImpl(values, src, roots, lo, hi));
      return;
    }
    let row = src.buffers as (OutBuffer | undefined)[] | undefined;
    if (!row) src.buffers = row = new Array(this.taskWorker.length);
    let b = row[dst];
    if (!b) {
      const w = this.taskWorker[dst]!;
      row[dst] = b = new OutBuffer(dst, w, w === this.worker, src);
    }
    if (b.local) {
      b.tuples.push(new TupleImpl(values, src, roots, lo, hi));
    } else {
      b.values.push(values);
      if (roots.length > 0) {
        if (!b.anchored) {
          // Earlier tuples of this batch were unanchored: give them empty anchor records.
          for (let i = 0; i < b.n; i++) b.anchors.push(0, 0, 0);
          b.anchored = true;
        }
        b.anchors.push(lo, hi, roots.length);
        for (let i = 0; i < roots.length; i++) b.anchors.push(roots[i]!);
      } else if (b.anchored) {
        b.anchors.push(0, 0, 0);
      }
    }
    b.n++;
    if (b.n >= this.batchSize) this.flushBuffer(b);
    else if (!b.dirty) {
      b.dirty = true;
      this.dirty.push(b);
      this.armLinger();
    }
  }

  /**
   * True when `dst` cannot take more now: a local inbox is full (a directly called bolt queues
   * tuples while an async execute runs) or a remote edge is out of credit.
   */
  congested(dst: number): boolean {
    if (this.taskWorker[dst] === this.worker) return this.local.queued(dst) >= this.initialCredits;
    return this.waiting[dst] !== undefined && this.waiting[dst]!.length > 0;
  }

  private flushBuffer(b: OutBuffer): void {
    if (b.n === 0) return;
    if (b.local) {
      const batch = b.tuples;
      b.tuples = [];
      b.n = 0;
      this.local.enqueue(b.dst, batch, -1);
    } else {
      const payload = this.packr.pack([b.values, b.anchored ? b.anchors : null]);
      // pack() returns a view into a reused buffer: copy before transferring.
      const data = new Uint8Array(payload.length);
      data.set(payload);
      const msg: PeerMessage = { k: 'B', to: b.dst, from: b.src.task, stream: b.src.stream, n: b.n, data };
      b.values = [];
      b.anchors = [];
      b.anchored = false;
      b.n = 0;
      this.sendBatch(b.dst, b.dstWorker, msg);
    }
  }

  private sendBatch(dst: number, dstWorker: number, msg: PeerMessage & { k: 'B' }): void {
    const q = this.waiting[dst];
    if (this.credits[dst]! > 0 && (!q || q.length === 0)) {
      this.credits[dst]!--;
      this.post(dstWorker, msg, [msg.data.buffer as ArrayBuffer]);
    } else {
      (this.waiting[dst] ??= []).push(msg);
    }
  }

  private post(worker: number, msg: PeerMessage, transfer?: ArrayBuffer[]): void {
    const port = this.peers[worker];
    if (!port) return;
    if (msg.k !== 'C') this.sentTo[worker]!++;
    port.postMessage(msg, transfer);
  }

  /** Flushes every partly filled batch and pending acks now. */
  flushAll(): void {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    const dirty = this.dirty.splice(0);
    for (const b of dirty) {
      b.dirty = false;
      this.flushBuffer(b);
    }
    this.flushAcks();
    this.flushCredits();
  }

  private armLinger(): void {
    if (this.lingerTimer) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.flushAll();
    }, this.lingerMs);
  }

  // --- acks -------------------------------------------------------------------------------

  ack(spoutTask: number, root: number, lo: number, hi: number): void {
    const b = this.ackBuffer(spoutTask);
    b.acks.push(root, lo, hi);
  }

  fail(spoutTask: number, root: number): void {
    this.ackBuffer(spoutTask).fails.push(root);
  }

  private ackBuffer(task: number): AckBuffer {
    let b = this.ackBuffers[task];
    if (!b) this.ackBuffers[task] = b = { acks: [], fails: [], dirty: false };
    if (!b.dirty) {
      b.dirty = true;
      this.dirtyAcks.push(task);
      this.armLinger();
    }
    return b;
  }

  flushAcks(): void {
    if (this.dirtyAcks.length === 0) return;
    const tasks = this.dirtyAcks.splice(0);
    for (const task of tasks) {
      const b = this.ackBuffers[task]!;
      b.dirty = false;
      const w = this.taskWorker[task]!;
      if (w === this.worker) {
        const acks = b.acks;
        const fails = b.fails;
        b.acks = [];
        b.fails = [];
        this.local.applyAcks(task, acks, fails);
      } else {
        const acks = b.acks.length ? Float64Array.from(b.acks) : null;
        const fails = b.fails.length ? Float64Array.from(b.fails) : null;
        b.acks.length = 0;
        b.fails.length = 0;
        const transfer: ArrayBuffer[] = [];
        if (acks) transfer.push(acks.buffer);
        if (fails) transfer.push(fails.buffer);
        this.post(w, { k: 'A', to: task, acks, fails }, transfer);
      }
    }
  }

  // --- receiving --------------------------------------------------------------------------

  /** Decodes a batch from another thread into tuples. */
  decode(msg: PeerMessage & { k: 'B' }, src: SourceStream): TupleImpl[] {
    const [values, anchors] = this.unpackr.unpack(msg.data) as [unknown[][], number[] | null];
    const out = new Array<TupleImpl>(values.length);
    if (!anchors) {
      for (let i = 0; i < values.length; i++) out[i] = new TupleImpl(values[i]!, src, NO_ROOTS, 0, 0);
      return out;
    }
    let p = 0;
    for (let i = 0; i < values.length; i++) {
      const lo = anchors[p]!;
      const hi = anchors[p + 1]!;
      const n = anchors[p + 2]!;
      p += 3;
      const roots = n === 0 ? NO_ROOTS : anchors.slice(p, p + n);
      p += n;
      out[i] = new TupleImpl(values[i]!, src, roots, lo, hi);
    }
    return out;
  }

  /** Counts a message received from a peer (for termination detection). */
  received(fromWorker: number): void {
    this.recvFrom[fromWorker]!++;
  }

  /** A batch from `fromWorker` for local task `task` was processed: return its credit. */
  returnCredit(fromWorker: number, task: number): void {
    const r = this.creditReturns[fromWorker]!;
    const n = r.length;
    if (n >= 2 && r[n - 2] === task) r[n - 1]!++;
    else r.push(task, 1);
  }

  flushCredits(): void {
    for (let w = 0; w < this.creditReturns.length; w++) {
      const r = this.creditReturns[w]!;
      if (r.length === 0) continue;
      this.creditReturns[w] = [];
      this.post(w, { k: 'C', credits: r });
    }
  }

  /** Credits came back from a peer: send what was waiting. */
  addCredits(flat: readonly number[]): void {
    let unblocked = false;
    for (let i = 0; i < flat.length; i += 2) {
      const task = flat[i]!;
      this.credits[task]! += flat[i + 1]!;
      const q = this.waiting[task];
      while (q && q.length > 0 && this.credits[task]! > 0) {
        const msg = q.shift()! as PeerMessage & { k: 'B' };
        this.credits[task]!--;
        this.post(this.taskWorker[task]!, msg, [msg.data.buffer as ArrayBuffer]);
        if (q.length === 0) unblocked = true;
      }
    }
    if (unblocked) this.onUnblocked();
  }

  /** A peer worker was replaced: new port, full credits, counters restart; waiting batches go to the new thread. */
  replacePeer(worker: number, port: MessagePort): void {
    this.peers[worker] = port;
    this.sentTo[worker] = 0;
    this.recvFrom[worker] = 0;
    this.creditReturns[worker] = [];
    // Full credits for the new thread's tasks, granted through addCredits so that what was
    // waiting for the dead thread goes out at once.
    const grant: number[] = [];
    for (let t = 0; t < this.taskWorker.length; t++) {
      if (this.taskWorker[t] !== worker) continue;
      this.credits[t] = 0;
      grant.push(t, this.initialCredits);
    }
    this.addCredits(grant);
  }

  /** True when nothing is buffered or waiting for credit. */
  idle(): boolean {
    if (this.dirty.length > 0 || this.dirtyAcks.length > 0) return false;
    for (const q of this.waiting) if (q && q.length > 0) return false;
    return true;
  }
}
