import type { MessagePort } from 'node:worker_threads';
import type { BatchMessage, PeerMessage } from './protocol.js';
import { rootTask } from './roots.js';
import { project } from './routing.js';
import { NO_ROOTS, type SourceStream, TupleImpl } from './tuple-impl.js';

/**
 * Batches a local task may have waiting before its local senders wait. A sender and its consumer
 * in one thread never run at the same time, so a deeper queue adds no throughput, only tuples
 * that live long enough to be promoted out of the young generation: with 32 (the remote credits)
 * the syslog pipeline spent a fifth of its time in GC, and ran 37% faster with 1.
 */
const LOCAL_QUEUE_BATCHES = 1;

/** Where a worker delivers batches for its own tasks. */
export interface LocalSink {
  /** Queues a batch for a local task. `fromWorker` is -1 for local senders. */
  enqueue(task: number, batch: TupleImpl[], fromWorker: number): void;
  /** Batches from this thread queued for a local task (for local congestion). */
  localBatches(task: number): number;
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
  /** Remote: the tuples' values one after another, `width` each unless `widths` says otherwise. */
  values: unknown[] = [];
  widths: number[] | null = null;
  anchors: number[] = [];
  anchored = false;
  n = 0;
  /** About how many bytes the batch's values hold (sizeOf): a batch of large tuples leaves early. */
  bytes = 0;
  dirty = false;
  readonly width: number;
  constructor(
    readonly dst: number,
    readonly dstWorker: number,
    readonly local: boolean,
    readonly src: SourceStream,
  ) {
    this.width = src.fields.length;
  }
}

interface AckBuffer {
  acks: number[];
  fails: number[];
  dirty: boolean;
}

/**
 * The thread transport: batches tuples per destination task, sends them to local executors as
 * arrays and to other threads as flat value arrays over MessagePorts (V8's structured clone does
 * the copying, in C++), and enforces credit-based flow control per edge (this thread ->
 * destination task).
 */
export class Transfer {
  private readonly dirty: OutBuffer[] = [];
  /** Credits left per remote destination task. */
  private readonly credits: Int32Array;
  /** Batches waiting for credit, per remote destination task. */
  private readonly waiting: (BatchMessage[] | undefined)[];
  private readonly ackBuffers: (AckBuffer | undefined)[];
  private readonly dirtyAcks: number[] = [];
  /** Credits to return, per sending worker: flat [task, n, ...]. */
  private readonly creditReturns: number[][];
  /** Credits waiting in creditReturns, per sending worker, and how many are sent back at once. */
  private readonly creditsOwed: Int32Array;
  private readonly creditReturnAt: number;
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
    /** Tuples of `srcTask` to `dstTask` that could not be sent (values that cannot be cloned): counted there; `err` is the first clone error. */
    private readonly onUndeliverable: (srcTask: number, dstTask: number, stream: string, count: number, err: Error) => void = () => {},
    /** A batch leaves once its values reach about this many bytes (config.batchBytes). */
    private readonly batchBytes: number = Number.POSITIVE_INFINITY,
  ) {
    const nTasks = taskWorker.length;
    this.direct = new Array(nTasks);
    this.credits = new Int32Array(nTasks).fill(initialCredits);
    this.waiting = new Array(nTasks);
    this.ackBuffers = new Array(nTasks);
    this.creditReturns = peers.map(() => []);
    this.creditsOwed = new Int32Array(peers.length);
    this.creditReturnAt = Math.max(1, initialCredits >> 2);
    this.sentTo = peers.map(() => 0);
    this.recvFrom = peers.map(() => 0);
  }

  /** push() for an untracked tuple with all its values: the at-most-once fast path, kept small. */
  pushWhole(dst: number, src: SourceStream, values: unknown[]): void {
    const direct = this.direct[dst];
    if (direct !== undefined) direct.deliver(new TupleImpl(values, src, NO_ROOTS, 0, 0));
    else this.push(dst, src, values, null, NO_ROOTS, 0, 0);
  }

  /**
   * Buffers one tuple copy for `dst`: `values`, or with `select` only the values at those indexes
   * (a stream's `select:`). Flushes when the batch is full. A copy for another thread is written
   * straight into its batch, so a selected copy makes no array of its own there.
   */
  push(dst: number, src: SourceStream, values: unknown[], select: readonly number[] | null, roots: readonly number[], lo: number, hi: number): void {
    const direct = this.direct[dst];
    if (direct !== undefined) {
      direct.deliver(new TupleImpl(select === null ? values : project(values, select), src, roots, lo, hi));
      return;
    }
    let row = src.buffers as (OutBuffer | undefined)[] | undefined;
    if (!row) src.buffers = row = new Array(this.taskWorker.length);
    let b = row[dst];
    if (!b) {
      const w = this.taskWorker[dst]!;
      row[dst] = b = new OutBuffer(dst, w, w === this.worker, src);
    }
    let bytes = b.bytes;
    if (b.local) {
      const v = select === null ? values : project(values, select);
      b.tuples.push(new TupleImpl(v, src, roots, lo, hi));
      for (let i = 0; i < v.length; i++) bytes += sizeOf(v[i]);
    } else {
      const width = select === null ? values.length : select.length;
      if (width !== b.width && b.widths === null) b.widths = new Array<number>(b.n).fill(b.width);
      if (b.widths !== null) b.widths.push(width);
      const out = b.values;
      if (select === null) {
        for (let i = 0; i < width; i++) {
          out.push(values[i]);
          bytes += sizeOf(values[i]);
        }
      } else {
        for (let i = 0; i < width; i++) {
          out.push(values[select[i]!]);
          bytes += sizeOf(values[select[i]!]);
        }
      }
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
    b.bytes = bytes;
    if (b.n >= this.batchSize || bytes >= this.batchBytes) this.flushBuffer(b);
    else if (!b.dirty) {
      b.dirty = true;
      this.dirty.push(b);
      this.armLinger();
    }
  }

  /**
   * True when `dst` cannot take more now: a local task already has a batch from this thread
   * waiting (a batch bolt, or a directly called bolt queueing tuples while an async execute runs)
   * or a remote edge is out of credit.
   */
  congested(dst: number): boolean {
    if (this.taskWorker[dst] === this.worker) return this.local.localBatches(dst) >= LOCAL_QUEUE_BATCHES;
    return this.waiting[dst] !== undefined && this.waiting[dst]!.length > 0;
  }

  private flushBuffer(b: OutBuffer): void {
    if (b.n === 0) return;
    b.bytes = 0;
    if (b.local) {
      const batch = b.tuples;
      b.tuples = [];
      b.n = 0;
      this.local.enqueue(b.dst, batch, -1);
    } else {
      const msg: BatchMessage = {
        k: 'B',
        to: b.dst,
        from: b.src.task,
        stream: b.src.stream,
        n: b.n,
        width: b.width,
        values: b.values,
        widths: b.widths,
        anchors: b.anchored ? b.anchors : null,
      };
      b.values = [];
      b.widths = null;
      b.anchors = [];
      b.anchored = false;
      b.n = 0;
      this.sendBatch(b.dst, b.dstWorker, msg);
    }
  }

  private sendBatch(dst: number, dstWorker: number, msg: BatchMessage): void {
    const q = this.waiting[dst];
    if (this.credits[dst]! > 0 && (!q || q.length === 0)) {
      this.credits[dst]!--;
      this.postBatch(dstWorker, msg);
    } else {
      (this.waiting[dst] ??= []).push(msg);
    }
  }

  /**
   * Posts a batch that holds a credit. The values are copied by postMessage's structured clone,
   * which throws on what it cannot copy (functions, symbols, WeakMaps, promises...): then the tuples that cannot be copied are dropped, counted and their trees failed,
   * and the rest go.
   */
  private postBatch(worker: number, msg: BatchMessage): void {
    try {
      this.post(worker, msg);
    } catch (err) {
      const rest = this.salvage(msg, err instanceof Error ? err : new Error(String(err)));
      if (rest === null) this.credits[msg.to]!++;
      else this.post(worker, rest);
    }
  }

  /** The part of a batch that can be cloned, or null if none can; the rest is dropped and failed. */
  private salvage(msg: BatchMessage, err: Error): BatchMessage | null {
    const tuples = splitBatch(msg);
    const values: unknown[] = [];
    const widths: number[] = [];
    const anchors: number[] | null = msg.anchors ? [] : null;
    let n = 0;
    let dropped = 0;
    let first: Error | undefined;
    for (const t of tuples) {
      try {
        structuredClone(t.values);
      } catch (e) {
        dropped++;
        first ??= e instanceof Error ? e : err;
        for (const root of t.roots) this.fail(rootTask(root), root);
        continue;
      }
      n++;
      widths.push(t.values.length);
      for (const v of t.values) values.push(v);
      if (anchors) anchors.push(t.lo, t.hi, t.roots.length, ...t.roots);
    }
    this.onUndeliverable(msg.from, msg.to, msg.stream, dropped, first ?? err);
    if (n === 0) return null;
    return { ...msg, n, values, widths, anchors };
  }

  private post(worker: number, msg: PeerMessage, transfer?: ArrayBuffer[]): void {
    const port = this.peers[worker];
    if (!port) return;
    port.postMessage(msg, transfer);
    // Counted after the post, which throws when the batch cannot be cloned.
    if (msg.k !== 'C') this.sentTo[worker]!++;
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

  /** Turns a batch from another thread into tuples. */
  decode(msg: BatchMessage, src: SourceStream): TupleImpl[] {
    const { values, widths, anchors, n } = msg;
    const out = new Array<TupleImpl>(n);
    let v = 0;
    let p = 0;
    for (let i = 0; i < n; i++) {
      const width = widths === null ? msg.width : widths[i]!;
      const tupleValues = values.slice(v, v + width);
      v += width;
      if (anchors === null) {
        out[i] = new TupleImpl(tupleValues, src, NO_ROOTS, 0, 0);
        continue;
      }
      const lo = anchors[p]!;
      const hi = anchors[p + 1]!;
      const r = anchors[p + 2]!;
      p += 3;
      const roots = r === 0 ? NO_ROOTS : anchors.slice(p, p + r);
      p += r;
      out[i] = new TupleImpl(tupleValues, src, roots, lo, hi);
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
    // A quarter of a sender's credits back at once, not only at the end of the turn: a sender
    // that runs out mid-turn would wait idle for the rest of it.
    if (++this.creditsOwed[fromWorker]! >= this.creditReturnAt) this.flushCreditsTo(fromWorker);
  }

  flushCredits(): void {
    for (let w = 0; w < this.creditReturns.length; w++) this.flushCreditsTo(w);
  }

  private flushCreditsTo(w: number): void {
    const r = this.creditReturns[w]!;
    this.creditsOwed[w] = 0;
    if (r.length === 0) return;
    this.creditReturns[w] = [];
    this.post(w, { k: 'C', credits: r });
  }

  /** Credits came back from a peer: send what was waiting. */
  addCredits(flat: readonly number[]): void {
    let unblocked = false;
    for (let i = 0; i < flat.length; i += 2) {
      const task = flat[i]!;
      this.credits[task]! += flat[i + 1]!;
      const q = this.waiting[task];
      while (q && q.length > 0 && this.credits[task]! > 0) {
        const msg = q.shift()!;
        this.credits[task]!--;
        this.postBatch(this.taskWorker[task]!, msg);
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
    this.creditsOwed[worker] = 0;
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

/** The tuples of a batch message, for the slow path that sorts out values that cannot be cloned. */
function splitBatch(msg: BatchMessage): { values: unknown[]; roots: number[]; lo: number; hi: number }[] {
  const out = [];
  let v = 0;
  let p = 0;
  for (let i = 0; i < msg.n; i++) {
    const width = msg.widths === null ? msg.width : msg.widths[i]!;
    const values = msg.values.slice(v, v + width);
    v += width;
    if (msg.anchors === null) {
      out.push({ values, roots: [], lo: 0, hi: 0 });
      continue;
    }
    const a = msg.anchors;
    const r = a[p + 2]!;
    out.push({ values, lo: a[p]!, hi: a[p + 1]!, roots: a.slice(p + 3, p + 3 + r) });
    p += 3 + r;
  }
  return out;
}

/** About how many bytes a value takes in a batch: strings by length, bytes by size, anything else a word. */
function sizeOf(v: unknown): number {
  if (typeof v === 'string') return v.length;
  if (typeof v === 'object' && v !== null && ArrayBuffer.isView(v)) return v.byteLength;
  return 8;
}
