import type { Anchors, Bolt, OutputCollector, Tuple } from '@qitian/api';
import type { TaskContext } from './context.js';
import type { Emitter } from './emitter.js';
import { rootTask } from './roots.js';
import type { StreamRoute } from './routing.js';
import type { ExecutorStats } from './stats.js';
import type { Transfer } from './transfer.js';
import { NO_ROOTS, TupleImpl } from './tuple-impl.js';

/** A batch waiting in a bolt's input queue: tuples, or a still-encoded batch from another thread. */
export interface InboxEntry {
  tuples: TupleImpl[] | null;
  decode: (() => TupleImpl[]) | null;
  fromWorker: number;
}

const STATE_ACKED = 1;
const STATE_FAILED = 2;

/**
 * Runs one bolt task. Emits made during one `execute` are staged and routed only when it
 * returns, so a throwing execute fails its input without leaking half of its output.
 */
export class BoltExecutor implements OutputCollector {
  readonly kind: 'bolt' | 'sink';
  private readonly inbox: InboxEntry[] = [];
  private head = 0;
  /** An async execute is in progress. */
  private running = false;
  private current: TupleImpl | null = null;
  private currentBatch: readonly TupleImpl[] | null = null;
  private staging = false;
  private readonly stagedValues: unknown[][] = [];
  private readonly stagedAnchors: (Anchors | undefined)[] = [];
  private readonly stagedStreams: string[] = [];
  private readonly stagedDirect: number[] = [];
  blockedSince = 0;
  readonly targets: number[];

  constructor(
    readonly taskId: number,
    readonly bolt: Bolt,
    readonly context: TaskContext,
    readonly stats: ExecutorStats,
    kind: 'bolt' | 'sink',
    private readonly routes: Map<string, StreamRoute>,
    private readonly emitter: Emitter,
    private readonly transfer: Transfer,
    private readonly autoAck: boolean,
    private readonly acking: boolean,
    private readonly onError: (err: unknown, where: string) => void,
    /** Called when an async execute finishes, so the scheduler runs again. */
    private readonly schedule: () => void,
  ) {
    this.kind = kind;
    this.targets = [...new Set([...routes.values()].flatMap((r) => [...r.edges.flatMap((e) => e.targets), ...r.direct]))];
  }

  enqueue(entry: InboxEntry): void {
    this.inbox.push(entry);
    this.stats.queued = this.inbox.length - this.head;
  }

  queued(): number {
    return this.inbox.length - this.head;
  }

  runnable(): boolean {
    return !this.running && this.head < this.inbox.length;
  }

  busy(): boolean {
    return this.running || this.head < this.inbox.length;
  }

  /** Executes the next queued batch. Returns false when nothing was run. */
  processOne(): boolean {
    if (!this.runnable()) return false;
    const entry = this.inbox[this.head]!;
    this.inbox[this.head++] = undefined as unknown as InboxEntry;
    if (this.head > 1024 && this.head * 2 > this.inbox.length) {
      this.inbox.splice(0, this.head);
      this.head = 0;
    }
    this.stats.queued = this.inbox.length - this.head;
    let tuples: TupleImpl[];
    try {
      tuples = entry.tuples ?? entry.decode!();
    } catch (err) {
      this.stats.errors++;
      this.onError(err, 'decode');
      this.returnCredit(entry);
      return true;
    }
    const t0 = performance.now();
    const pendingAsync = this.bolt.executeBatch ? this.runBatch(tuples) : this.runTuples(tuples, 0);
    if (pendingAsync) {
      this.running = true;
      pendingAsync.then(
        () => this.afterAsync(entry, t0),
        (err) => {
          this.onError(err, 'execute');
          this.afterAsync(entry, t0);
        },
      );
    } else {
      this.stats.busyMs += performance.now() - t0;
      this.returnCredit(entry);
    }
    return true;
  }

  private afterAsync(entry: InboxEntry, t0: number): void {
    this.running = false;
    this.stats.busyMs += performance.now() - t0;
    this.returnCredit(entry);
    this.schedule();
  }

  private returnCredit(entry: InboxEntry): void {
    if (entry.fromWorker >= 0) this.transfer.returnCredit(entry.fromWorker, this.taskId);
  }

  /** Runs tuples[from..]; returns a promise only if some execute went async. */
  private runTuples(tuples: TupleImpl[], from: number): Promise<void> | undefined {
    const bolt = this.bolt;
    for (let i = from; i < tuples.length; i++) {
      const t = tuples[i]!;
      this.current = t;
      this.staging = true;
      let r: void | Promise<void>;
      try {
        r = bolt.execute(t);
      } catch (err) {
        this.executeFailed(t, err);
        continue;
      }
      if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
        return (r as Promise<void>).then(
          () => {
            this.executeSucceeded(t);
            return this.runTuples(tuples, i + 1);
          },
          (err) => {
            this.executeFailed(t, err);
            return this.runTuples(tuples, i + 1);
          },
        );
      }
      this.executeSucceeded(t);
    }
    return undefined;
  }

  private executeSucceeded(t: TupleImpl): void {
    this.stats.executed++;
    this.staging = false;
    this.routeStaged();
    this.current = null;
    if (this.autoAck) this.ack(t);
  }

  private executeFailed(t: TupleImpl, err: unknown): void {
    this.stats.executed++;
    this.staging = false;
    this.clearStaged();
    this.current = null;
    this.stats.errors++;
    this.onError(err, 'execute');
    this.fail(t);
  }

  private runBatch(tuples: TupleImpl[]): Promise<void> | undefined {
    this.currentBatch = tuples;
    this.staging = true;
    const settle = (err?: unknown): void => {
      this.staging = false;
      this.currentBatch = null;
      this.stats.executed += tuples.length;
      if (err !== undefined) {
        this.clearStaged();
        this.stats.errors++;
        this.onError(err, 'executeBatch');
        for (const t of tuples) this.fail(t);
        return;
      }
      this.routeStaged();
      if (this.autoAck) for (const t of tuples) this.ack(t);
    };
    let r: void | Promise<void>;
    try {
      r = this.bolt.executeBatch!(tuples);
    } catch (err) {
      settle(err ?? new Error('executeBatch threw'));
      return undefined;
    }
    if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
      return (r as Promise<void>).then(
        () => settle(),
        (err) => settle(err ?? new Error('executeBatch rejected')),
      );
    }
    settle();
    return undefined;
  }

  // --- OutputCollector --------------------------------------------------------------------

  emit(values: unknown[], anchors?: Anchors, stream = 'default'): void {
    this.emitDirect(-1, values, anchors, stream);
  }

  emitDirect(taskId: number, values: unknown[], anchors?: Anchors, stream = 'default'): void {
    if (this.staging) {
      this.stagedValues.push(values);
      this.stagedAnchors.push(anchors);
      this.stagedStreams.push(stream);
      this.stagedDirect.push(taskId);
      return;
    }
    this.send(values, anchors === undefined && this.autoAck ? this.current : (anchors ?? null), stream, taskId);
  }

  private routeStaged(): void {
    const n = this.stagedValues.length;
    if (n === 0) return;
    for (let i = 0; i < n; i++) {
      const a = this.stagedAnchors[i];
      this.send(this.stagedValues[i]!, a === undefined && this.autoAck ? this.current : (a ?? null), this.stagedStreams[i]!, this.stagedDirect[i]!);
    }
    this.clearStaged();
  }

  private clearStaged(): void {
    this.stagedValues.length = 0;
    this.stagedAnchors.length = 0;
    this.stagedStreams.length = 0;
    this.stagedDirect.length = 0;
  }

  private send(values: unknown[], anchors: Anchors, stream: string, direct: number): void {
    const route = this.routes.get(stream);
    if (!route) throw new RangeError(`bolt "${this.context.componentId}" emitted on undeclared stream "${stream}"`);
    this.stats.emitted++;
    let roots: readonly number[] = NO_ROOTS;
    if (this.acking && anchors !== null) {
      if (anchors instanceof TupleImpl) roots = anchors.roots;
      else if (Array.isArray(anchors)) roots = unionRoots(anchors as readonly TupleImpl[]);
    }
    const n = this.emitter.route(route, values, roots, direct);
    if (n < 0) {
      this.stats.dropped++;
      return;
    }
    this.stats.transferred += n;
    if (roots.length === 0 || anchors === null) return;
    const lo = this.emitter.xorLo;
    const hi = this.emitter.xorHi;
    if (anchors instanceof TupleImpl) {
      anchors.ackLo ^= lo;
      anchors.ackHi ^= hi;
    } else {
      for (const a of anchors as readonly TupleImpl[]) {
        if (a.roots.length === 0) continue;
        a.ackLo ^= lo;
        a.ackHi ^= hi;
      }
    }
  }

  ack(tuple: Tuple): void {
    const t = tuple as TupleImpl;
    if (t.state !== 0) return;
    t.state = STATE_ACKED;
    this.stats.acked++;
    const roots = t.roots;
    if (roots.length === 0) return;
    const lo = t.edgeLo ^ t.ackLo;
    const hi = t.edgeHi ^ t.ackHi;
    for (let i = 0; i < roots.length; i++) this.transfer.ack(rootTask(roots[i]!), roots[i]!, lo, hi);
  }

  fail(tuple: Tuple): void {
    const t = tuple as TupleImpl;
    if (t.state !== 0) return;
    t.state = STATE_FAILED;
    this.stats.failed++;
    const roots = t.roots;
    for (let i = 0; i < roots.length; i++) this.transfer.fail(rootTask(roots[i]!), roots[i]!);
  }

  reportError(error: unknown, _tuple?: Tuple): void {
    this.stats.errors++;
    this.onError(error, 'reportError');
  }

  /** Runs finish() outside any execute; its emits go out unanchored unless anchored explicitly. */
  async finish(): Promise<void> {
    await this.bolt.finish?.();
  }

  async cleanup(): Promise<void> {
    await this.bolt.cleanup?.();
  }
}

function unionRoots(anchors: readonly TupleImpl[]): readonly number[] {
  if (anchors.length === 1) return anchors[0]!.roots;
  const set = new Set<number>();
  for (const a of anchors) for (const r of a.roots) set.add(r);
  return set.size === 0 ? NO_ROOTS : [...set];
}
