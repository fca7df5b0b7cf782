import type { Anchors, Bolt, FinishInfo, OutputCollector, Tuple } from '@qitian/api';
import type { TaskContext } from './context.js';
import type { Tap } from './tap.js';
import { checkDirectTask, Emitter } from './emitter.js';
import { REPORTED } from './error-log.js';
import { Inbox, type InboxEntry } from './inbox.js';
import { rootTask } from './roots.js';
import { consumerTasks, type StreamRoute } from './routing.js';
import type { ExecutorStats } from './stats.js';
import { performance as perf } from 'node:perf_hooks';
import { observe } from './metrics/histogram.js';
import type { Transfer } from './transfer.js';
import { NO_ROOTS, STATE_ACKED, STATE_FAILED, TupleImpl } from './tuple-impl.js';
import type { CallMarker } from './call-marker.js';

/**
 * Time spent in directly called executes, shared by the executors of one thread: a caller (a
 * spout's next, a bolt's batch) subtracts what its callees spent, so that busy time is each
 * task's own.
 */
export class BusyClock {
  nestedMs = 0;
}

/**
 * Tuples until the next timed execute: uniform in [1, 2n - 1], so 1 in n on average, and never in
 * step with a pattern in the input (every 100th tuple being a slow one, say).
 */
function nextCountdown(n: number): number {
  if (n === 0) return NEVER;
  return n === 1 ? 1 : 1 + Math.floor(Math.random() * (2 * n - 1));
}

/** The countdown when sampling is off: it runs out only every 2^30 tuples, and then starts over. */
const NEVER = 2 ** 30;

/** Sampled tuples of a manual-ack bolt waiting for their ack, at most this many. */
const MAX_SAMPLED_OPEN = 1024;

/** `fromWorker` of a local tuple that could not be executed directly and was queued. */
const DEFERRED = -2;
/** `fromWorker` of a batch whose sending thread was replaced: no credit to return. */
const FORGOTTEN = -3;

/**
 * Runs one bolt task. Emits made during one `execute` are staged and routed only when it
 * returns, so a throwing execute fails its input without leaking half of its output.
 */
export class BoltExecutor implements OutputCollector {
  readonly kind: 'bolt' | 'sink';
  private readonly inbox = new Inbox();
  /** An async execute is in progress. */
  private running = false;
  /** When the async execute in progress began (perf.now()), for stuckFor(). */
  private runningSince = 0;
  private current: TupleImpl | null = null;
  private staging = false;
  /**
   * Acks and fails a manual-ack bolt makes inside execute wait for its staged emits: an input
   * acked before its children join the tree would complete the tree too early.
   */
  private readonly deferred: TupleImpl[] = [];
  private readonly deferredFail: boolean[] = [];
  private readonly stagedValues: unknown[][] = [];
  private readonly stagedAnchors: (Anchors | undefined)[] = [];
  private readonly stagedRoutes: StreamRoute[] = [];
  private readonly stagedDirect: number[] = [];
  /** Staged emits are entries [0, staged) of the staged* arrays; they are overwritten, not cleared. */
  private staged = 0;
  /** A batch whose rest waits for an async execute. */
  private resume: { tuples: TupleImpl[]; index: number; entry: InboxEntry } | null = null;
  /** Local tuples queued because a direct call was not possible: later ones queue behind them. */
  private localWaiting = 0;
  blockedSince = 0;
  /** Taps on this task's output (qitian tap); empty unless someone is tapping. */
  taps: Tap[] = [];
  /** The consuming component whose task had no credit when this executor became blocked. */
  blockedOn = '';
  /** Tasks this bolt may send to, including through local bolts it calls directly. */
  targets: number[] = [];
  /** Consumer tasks of its own streams. */
  readonly directTargets: number[];
  /**
   * config.stateAcks after-copy: while this task has keyed state, acks wait for its next state
   * copy (releaseAcks), so that a replacement thread never misses an update of an acked tuple.
   */
  holdAcks = false;
  /** Held acks, flat: root, lo, hi. */
  private heldAcks: number[] = [];
  private defaultRoute: StreamRoute | undefined;
  /** Tuples until the next timed execute. */
  private countdown: number;
  /** Start of the async execute in progress when it is a sampled one, else 0. */
  private asyncT0 = 0;
  /** Arrival time of the tuples of the batch being run; -1 while tuples are called directly. */
  private arrival = -1;
  /** Manual-ack bolts: arrival times of sampled tuples not yet acked (process latency ends at the ack). */
  private readonly sampledOpen: Map<TupleImpl, number> | null;
  /**
   * Emits are held until execute returns only when tuple trees are tracked (acking on): then a
   * failed execute must not leak half of its output into a tree that will be replayed. With
   * acking off nothing is replayed, so emits go out as they are made, as in Storm.
   */
  private readonly stage: boolean;
  /** With acking off, the default stream when it has a `whole` edge (Emitter.routeWhole), else null. */
  private fastRoute: StreamRoute | null;
  /** Emits after cleanup began (closeRoutes), dropped: nothing downstream takes them any more. */
  private emittedAfterClose = -1;

  constructor(
    readonly taskId: number,
    readonly bolt: Bolt,
    readonly context: TaskContext,
    readonly stats: ExecutorStats,
    kind: 'bolt' | 'sink',
    private routes: Map<string, StreamRoute>,
    private readonly emitter: Emitter,
    private readonly transfer: Transfer,
    private readonly autoAck: boolean,
    private readonly acking: boolean,
    private readonly onError: (err: unknown, where: string) => void,
    /** Called when an async execute finishes, so the scheduler runs again. */
    private readonly schedule: () => void,
    /** Local tuples that wait for an async execute are queued in batches of up to this many. */
    private readonly batchSize: number,
    /** Time 1 execute in this many (0: none) for the latency histograms and busy time. */
    private readonly sampleEvery: number,
    private readonly clock: BusyClock,
    /** Says which task runs component code: a local tuple is executed inside its sender's call. */
    private readonly marker: CallMarker,
  ) {
    this.kind = kind;
    this.countdown = nextCountdown(sampleEvery);
    this.sampledOpen = autoAck || sampleEvery === 0 ? null : new Map();
    this.stage = acking;
    this.defaultRoute = routes.get('default');
    this.fastRoute = !acking && this.defaultRoute?.whole ? this.defaultRoute : null;
    this.directTargets = consumerTasks(routes);
  }

  enqueue(entry: InboxEntry): void {
    this.inbox.push(entry);
    this.stats.queued = this.inbox.size;
  }

  queued(): number {
    return this.inbox.size;
  }

  /**
   * Batches from this thread waiting in the queue: what local senders are held back by. Batches
   * from other threads are bounded by their own credits and do not count here, so a local sender
   * is not starved by a busy remote one.
   */
  localBatches(): number {
    return this.inbox.localSize();
  }

  runnable(): boolean {
    return !this.running && (this.resume !== null || this.inbox.size > 0);
  }

  /** How long (ms) the async execute in progress has run, or 0: one that never settles holds this task's input. */
  stuckFor(now: number): number {
    return this.running ? now - this.runningSince : 0;
  }

  busy(): boolean {
    return this.running || this.resume !== null || this.inbox.size > 0;
  }

  /**
   * A tuple from a task in this thread: executed right away, as a function call, unless an
   * async execute is in progress or earlier local tuples still wait (per-sender order holds).
   */
  deliver(t: TupleImpl): void {
    if (this.running || this.localWaiting > 0) this.defer(t);
    else {
      const marked = this.marker.enter(this.taskId);
      this.executeOne(t);
      this.marker.restore(marked);
    }
  }

  /** Queues a local tuple that cannot run now. Apart from deliver() so that deliver stays small enough to inline. */
  private defer(t: TupleImpl): void {
    // Queued in batches, so that queued() counts batches as it does for the other senders and
    // local senders see this bolt congested (backpressure) once a batch waits.
    const last = this.inbox.lastLocal();
    if (last !== undefined && last.fromWorker === DEFERRED && last.tuples!.length < this.batchSize) {
      last.tuples!.push(t);
    } else {
      this.enqueue({ tuples: [t], decode: null, fromWorker: DEFERRED, at: perf.now() });
      this.localWaiting++;
    }
    this.schedule();
  }

  /**
   * A peer thread was replaced: batches it sent that still wait here return no credit, since the
   * new thread starts with full credits.
   */
  forgetSender(worker: number): void {
    this.inbox.relabel(worker, FORGOTTEN);
    if (this.resume && this.resume.entry.fromWorker === worker) this.resume.entry.fromWorker = FORGOTTEN;
  }

  /** Executes the next queued batch (or resumes one an async execute interrupted). */
  processOne(): boolean {
    if (this.running) return false;
    const resume = this.resume;
    if (resume) {
      this.resume = null;
      this.runFrom(resume.tuples, resume.index, resume.entry);
      return true;
    }
    const entry = this.inbox.shift();
    if (entry === undefined) return false;
    this.stats.queued = this.inbox.size;
    if (entry.fromWorker === DEFERRED) this.localWaiting--;
    let tuples: TupleImpl[];
    try {
      tuples = entry.tuples ?? entry.decode!();
    } catch (err) {
      this.stats.errors++;
      this.onError(err, 'decode');
      this.returnCredit(entry);
      return true;
    }
    if (this.bolt.executeBatch) {
      const t0 = perf.now();
      const nested = this.clock.nestedMs;
      const pendingAsync = this.runBatch(tuples);
      if (pendingAsync) {
        // Its synchronous part kept the thread busy; the wait for the promise did not.
        this.stats.busyMs += Math.max(0, perf.now() - t0 - (this.clock.nestedMs - nested));
        this.running = true;
        this.runningSince = perf.now();
        pendingAsync.then(
          () => this.afterAsyncBatch(entry, t0, tuples.length),
          (err) => {
            this.onError(err, 'executeBatch');
            this.afterAsyncBatch(entry, t0, tuples.length);
          },
        );
      } else {
        this.batchTimed(entry, t0, tuples.length, this.clock.nestedMs - nested);
        this.returnCredit(entry);
      }
      return true;
    }
    this.runFrom(tuples, 0, entry);
    return true;
  }

  private runFrom(tuples: TupleImpl[], from: number, entry: InboxEntry): void {
    const t0 = perf.now();
    const nested = this.clock.nestedMs;
    this.arrival = entry.at;
    for (let i = from; i < tuples.length; i++) {
      this.executeOne(tuples[i]!);
      if (this.running) {
        // An async execute: the rest of this batch waits for it.
        this.resume = { tuples, index: i + 1, entry };
        break;
      }
    }
    this.arrival = -1;
    // Measured whole, less what directly called bolts downstream spent (an estimate, hence the floor).
    this.stats.busyMs += Math.max(0, perf.now() - t0 - (this.clock.nestedMs - nested));
    if (!this.running) this.returnCredit(entry);
  }

  private executeOne(t: TupleImpl): void {
    if (--this.countdown === 0) this.executeTimed(t);
    else if (this.stage) this.executeStaged(t);
    else this.executeUnstaged(t);
  }

  /** executeOne with acking on: emits are staged until execute returns, acks and fails deferred. */
  private executeStaged(t: TupleImpl): void {
    this.current = t;
    this.staging = true;
    let r: void | Promise<void>;
    try {
      r = this.bolt.execute(t);
    } catch (err) {
      this.executeFailed(t, err);
      return;
    }
    if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
      this.awaitExecute(t, r as Promise<void>);
      return;
    }
    this.executeSucceeded(t);
  }

  /**
   * executeOne with acking off: nothing is staged, deferred or tracked, so a successful execute
   * only counts, and (auto-ack) marks the tuple acked. The common at-most-once path, kept lean.
   */
  private executeUnstaged(t: TupleImpl): void {
    let r: void | Promise<void>;
    try {
      r = this.bolt.execute(t);
    } catch (err) {
      this.executeFailed(t, err);
      return;
    }
    if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
      this.awaitExecute(t, r as Promise<void>);
      return;
    }
    if (!t.src.tick) this.stats.executed++;
    if (this.autoAck && t.state === 0) {
      t.state = STATE_ACKED;
      this.stats.acked++;
    }
  }

  /** executeOne for a sampled tuple: the same, timed. Kept apart so that the common path stays lean. */
  private executeTimed(t: TupleImpl): void {
    this.countdown = nextCountdown(this.sampleEvery);
    if (this.sampleEvery === 0) {
      this.executeOne(t);
      return;
    }
    if (this.stage) {
      this.current = t;
      this.staging = true;
    }
    const t0 = perf.now();
    let r: void | Promise<void>;
    try {
      r = this.bolt.execute(t);
    } catch (err) {
      this.sampled(t, t0);
      this.executeFailed(t, err);
      return;
    }
    if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
      this.asyncT0 = t0;
      this.awaitExecute(t, r as Promise<void>);
      return;
    }
    this.sampled(t, t0);
    this.executeSucceeded(t);
  }

  private awaitExecute(t: TupleImpl, r: Promise<void>): void {
    this.running = true;
    this.runningSince = perf.now();
    r.then(
      () => this.afterAsync(t, undefined),
      (err: unknown) => this.afterAsync(t, err ?? new Error('execute rejected')),
    );
  }

  /**
   * Records a timed execute that began at `t0`: its latency, and for a directly called bolt
   * (whose executes no batch timer covers) its share of busy time, scaled by the sampling rate.
   */
  private sampled(t: TupleImpl, t0: number): void {
    const now = perf.now();
    const ms = now - t0;
    const stats = this.stats;
    observe(stats.executeLatency, ms / 1000);
    const arrival = this.arrival < 0 ? t0 : this.arrival;
    // Acked (or failed) already, within execute (acking off applies it at once): it ends here.
    if (this.sampledOpen === null || t.state !== 0) observe(stats.processLatency, (now - arrival) / 1000);
    else if (this.sampledOpen.size < MAX_SAMPLED_OPEN) this.sampledOpen.set(t, arrival);
    if (this.arrival < 0 && !this.running) {
      const estimate = ms * this.sampleEvery;
      stats.busyMs += estimate;
      this.clock.nestedMs += estimate;
    }
  }

  /** A batch bolt's timing: per-tuple execute latency is the batch's time over its size. */
  private batchTimed(entry: InboxEntry, t0: number, n: number, nestedMs: number): void {
    const now = perf.now();
    const ms = Math.max(0, now - t0 - nestedMs);
    this.stats.busyMs += ms;
    if (n === 0) return;
    observe(this.stats.executeLatency, ms / n / 1000, n);
    observe(this.stats.processLatency, (now - entry.at) / 1000, n);
  }

  private afterAsync(t: TupleImpl, err: unknown): void {
    if (this.asyncT0 !== 0) {
      const t0 = this.asyncT0;
      this.asyncT0 = 0;
      // Latency only: while it waited, the thread was free for other work, so no busy time.
      observe(this.stats.executeLatency, (perf.now() - t0) / 1000);
      const arrival = this.arrival < 0 ? t0 : this.arrival;
      // As in sampled(): a manual-ack bolt's tuple not yet acked waits for its ack.
      if (this.sampledOpen === null || t.state !== 0) observe(this.stats.processLatency, (perf.now() - arrival) / 1000);
      else if (this.sampledOpen.size < MAX_SAMPLED_OPEN) this.sampledOpen.set(t, arrival);
    }
    // Staging stayed on across the await: all of this tuple's emits go out now, or none on failure.
    this.current = t;
    if (err === undefined) this.executeSucceeded(t);
    else this.executeFailed(t, err);
    this.running = false;
    if (!this.resume && this.inbox.size === 0) this.stats.queued = 0;
    this.schedule();
  }

  private afterAsyncBatch(entry: InboxEntry, t0: number, n: number): void {
    this.running = false;
    if (n > 0) {
      const now = perf.now();
      observe(this.stats.executeLatency, (now - t0) / n / 1000, n);
      observe(this.stats.processLatency, (now - entry.at) / 1000, n);
    }
    this.returnCredit(entry);
    this.schedule();
  }

  private returnCredit(entry: InboxEntry): void {
    if (entry.fromWorker >= 0) this.transfer.returnCredit(entry.fromWorker, this.taskId);
  }

  private executeSucceeded(t: TupleImpl): void {
    if (!t.src.tick) this.stats.executed++;
    this.staging = false;
    this.routeStaged();
    if (this.deferred.length > 0) this.applyDeferred();
    this.current = null;
    if (this.autoAck) this.ack(t);
  }

  private executeFailed(t: TupleImpl, err: unknown): void {
    if (!t.src.tick) this.stats.executed++;
    this.staging = false;
    this.clearStaged();
    if (this.deferred.length > 0) this.applyDeferred();
    this.current = null;
    this.stats.errors++;
    this.onError(err, 'execute');
    this.fail(t);
  }

  private runBatch(tuples: TupleImpl[]): Promise<void> | undefined {
    this.staging = this.stage;
    const settle = (err?: unknown): void => {
      this.staging = false;
      // A tick comes alone in its batch, and is not input.
      if (tuples.length === 0 || !tuples[0]!.src.tick) this.stats.executed += tuples.length;
      if (err !== undefined) {
        this.clearStaged();
        if (this.deferred.length > 0) this.applyDeferred();
        this.stats.errors++;
        this.onError(err, 'executeBatch');
        for (const t of tuples) this.fail(t);
        return;
      }
      this.routeStaged();
      if (this.deferred.length > 0) this.applyDeferred();
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

  emit(values: unknown[], anchors?: Anchors, stream?: string): void {
    // At-most-once on a default stream with one consumer that takes whole tuples: no ids or
    // anchors to work out and one task to choose, so the tuple goes straight to the transfer.
    const fast = this.fastRoute;
    if (fast !== null && (stream === undefined || stream === 'default') && this.taps.length === 0) {
      // Counted once it went: an emit routeWhole rejects (wrong arity) is not emitted.
      this.emitter.routeWhole(fast, values);
      this.stats.emitted++;
      this.stats.transferred++;
      return;
    }
    this.emitTo(-1, values, anchors, stream ?? 'default');
  }

  emitDirect(taskId: number, values: unknown[], anchors?: Anchors, stream = 'default'): void {
    checkDirectTask(taskId, this.context.componentId);
    this.emitTo(taskId, values, anchors, stream);
  }

  /** An emit to `taskId`, or routed by the stream's groupings when -1. */
  private emitTo(taskId: number, values: unknown[], anchors: Anchors | undefined, stream: string): void {
    const route = this.routeOf(stream);
    if (route === null) return;
    if (this.staging) {
      // Checked now, so that a bad emit throws inside the execute that made it and fails it.
      Emitter.check(route, taskId, values);
      const i = this.staged++;
      this.stagedValues[i] = values;
      this.stagedAnchors[i] = anchors;
      this.stagedRoutes[i] = route;
      this.stagedDirect[i] = taskId;
      return;
    }
    this.send(values, anchors === undefined && this.autoAck ? this.current : (anchors ?? null), route, taskId);
  }

  /** The route of `stream`; null for an emit after cleanup began (counted as dropped). */
  private routeOf(stream: string): StreamRoute | null {
    const route = stream === 'default' ? this.defaultRoute : this.routes.get(stream);
    if (!route) {
      if (this.emittedAfterClose >= 0) {
        this.emittedAfterClose++;
        this.stats.dropped++;
        return null;
      }
      if (this.kind === 'sink') throw new RangeError(`sink "${this.context.componentId}" emitted, but a sink ends its streams and declares none to emit on`);
      throw new RangeError(`bolt "${this.context.componentId}" emitted on undeclared stream "${stream}"`);
    }
    return route;
  }

  private routeStaged(): void {
    const n = this.staged;
    if (n === 0) return;
    this.staged = 0;
    for (let i = 0; i < n; i++) {
      const a = this.stagedAnchors[i];
      try {
        this.send(this.stagedValues[i]!, a === undefined && this.autoAck ? this.current : (a ?? null), this.stagedRoutes[i]!, this.stagedDirect[i]!);
      } catch (err) {
        // Only a custom grouping's own code can throw here: the emit is lost, so say so. The
        // scheduler (and with it the whole thread) must not see it.
        this.stats.errors++;
        this.stats.dropped++;
        this.onError(err, 'grouping');
      }
    }
  }

  private clearStaged(): void {
    this.staged = 0;
  }

  private send(values: unknown[], anchors: Anchors, route: StreamRoute, direct: number): void {
    if (this.taps.length > 0) for (const tap of this.taps) tap.offer(route.stream, route.fields, values);
    let roots: readonly number[] = NO_ROOTS;
    if (this.acking && anchors !== null) {
      if (anchors instanceof TupleImpl) roots = anchors.roots;
      else if (Array.isArray(anchors)) roots = unionRoots(anchors as readonly TupleImpl[]);
    }
    const n = this.emitter.route(route, values, roots, direct);
    // Counted once routed: an emit the route rejects (wrong arity) throws before this.
    this.stats.emitted++;
    this.stats.dropped += this.emitter.dropped;
    this.stats.transferred += n;
    if (n === 0 || roots.length === 0 || anchors === null) return;
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

  private applyDeferred(): void {
    const tuples = this.deferred.splice(0);
    const fails = this.deferredFail.splice(0);
    for (let i = 0; i < tuples.length; i++) {
      if (fails[i]) this.fail(tuples[i]!);
      else this.ack(tuples[i]!);
    }
  }

  ack(tuple: Tuple): void {
    const t = tuple as TupleImpl;
    if (this.staging) {
      this.deferred.push(t);
      this.deferredFail.push(false);
      return;
    }
    if (t.state !== 0) return;
    t.state = STATE_ACKED;
    this.stats.acked++;
    if (this.sampledOpen !== null && this.sampledOpen.size > 0) this.closeSample(t);
    const roots = t.roots;
    if (roots.length === 0) return;
    const lo = t.edgeLo ^ t.ackLo;
    const hi = t.edgeHi ^ t.ackHi;
    if (this.holdAcks && this.context.states.size > 0) {
      for (let i = 0; i < roots.length; i++) this.heldAcks.push(roots[i]!, lo, hi);
      return;
    }
    for (let i = 0; i < roots.length; i++) this.transfer.ack(rootTask(roots[i]!), roots[i]!, lo, hi);
  }

  /** Sends the acks held since the last state copy (called right after a copy was sent). */
  releaseAcks(): void {
    const held = this.heldAcks;
    if (held.length === 0) return;
    this.heldAcks = [];
    for (let i = 0; i < held.length; i += 3) this.transfer.ack(rootTask(held[i]!), held[i]!, held[i + 1]!, held[i + 2]!);
  }

  fail(tuple: Tuple): void {
    const t = tuple as TupleImpl;
    if (this.staging) {
      this.deferred.push(t);
      this.deferredFail.push(true);
      return;
    }
    if (t.state !== 0) return;
    t.state = STATE_FAILED;
    this.stats.failed++;
    if (this.sampledOpen !== null && this.sampledOpen.size > 0) this.closeSample(t);
    const roots = t.roots;
    for (let i = 0; i < roots.length; i++) this.transfer.fail(rootTask(roots[i]!), roots[i]!);
  }

  private closeSample(t: TupleImpl): void {
    const arrival = this.sampledOpen!.get(t);
    if (arrival === undefined) return;
    this.sampledOpen!.delete(t);
    observe(this.stats.processLatency, (perf.now() - arrival) / 1000);
  }

  reportError(error: unknown, _tuple?: Tuple): void {
    this.stats.errors++;
    this.onError(error, REPORTED);
  }

  /**
   * Cleanup begins: the components downstream have finished, so what this bolt emits from now on
   * (from cleanup(), or a timer of its own) is dropped and counted, not delivered to them. The
   * routes go, so that the per-emit paths pay nothing for it: a missing route is the slow path.
   */
  closeRoutes(): void {
    this.emittedAfterClose = 0;
    this.fastRoute = null;
    this.defaultRoute = undefined;
    this.routes = new Map();
  }

  /** The run is ending: a bolt holding inputs writes them now (Bolt.drain). */
  drain(): void {
    this.bolt.drain?.();
  }

  /** Runs finish() outside any execute; its emits go out unanchored unless anchored explicitly. */
  async finish(end: FinishInfo): Promise<void> {
    await this.bolt.finish?.(end);
  }

  async cleanup(): Promise<void> {
    try {
      await this.bolt.cleanup?.();
    } finally {
      // Said once, with how many emits closeRoutes dropped (also when cleanup() threw).
      const n = this.emittedAfterClose;
      if (n > 0) {
        this.context.logger.warn(
          `emitted ${n} tuple${n === 1 ? '' : 's'} after its cleanup() began (from cleanup() or a timer of its own): dropped, counted as dropped, since the components downstream had finished; emit final results in finish()`,
        );
      }
    }
  }
}

function unionRoots(anchors: readonly TupleImpl[]): readonly number[] {
  if (anchors.length === 1) return anchors[0]!.roots;
  const set = new Set<number>();
  for (const a of anchors) for (const r of a.roots) set.add(r);
  return set.size === 0 ? NO_ROOTS : [...set];
}
