import type { Spout, SpoutCollector, SpoutStatus } from '@qitian/api';
import type { BusyClock } from './bolt-executor.js';
import type { CallMarker } from './call-marker.js';
import type { TaskContext } from './context.js';
import type { Tap } from './tap.js';
import { checkDirectTask, type Emitter } from './emitter.js';
import { REPORTED } from './error-log.js';
import { ROOT_TASK_MODULUS } from './roots.js';
import { observe } from './metrics/histogram.js';
import { consumerTasks, type StreamRoute } from './routing.js';
import type { ExecutorStats } from './stats.js';
import { NO_ROOTS } from './tuple-impl.js';

interface PendingTree {
  lo: number;
  hi: number;
  readonly messageId: unknown;
  readonly born: number;
}

export interface SpoutExecutorOptions {
  readonly reliable: boolean;
  readonly maxPending: number;
  readonly timeoutMs: number;
  /** Failures of one message id before the engine gives up on it; -1: never. */
  readonly maxRetries: number;
  readonly batchSize: number;
  /** Threads that ran this task before (see WorkerInit.generation). */
  readonly generation: number;
  readonly clock: BusyClock;
  /** Says which task runs component code: an ack or fail arrives outside the spout's own turn. */
  readonly marker: CallMarker;
}

/** Failed message ids remembered to recognise their replays, at most this many. */
const MAX_FAILED_REMEMBERED = 10_000;

/**
 * Root ids are `seq * ROOT_TASK_MODULUS + task` and must stay exact doubles (< 2^53), so seq stays
 * below 2^41: each generation of a task starts its own 2^32 range of sequence numbers.
 */
const SEQ_PER_GENERATION = 2 ** 32;
const SEQ_GENERATIONS = 2 ** 9;

/**
 * Runs one spout task: asks it for tuples while it is active, below max pending and not
 * backpressured, and tracks each reliable tuple tree with the XOR acker until it completes,
 * fails or times out.
 */
export class SpoutExecutor implements SpoutCollector {
  readonly kind = 'spout';
  private readonly pending = new Map<number, PendingTree>();
  private seq: number;
  active = false;
  /** start() was called: from then on an inactive spout with nothing pending has ended. */
  private begun = false;
  /** The spout returned 'end' and has not been failed since. */
  private exhausted = false;
  /** The spout returned 'idle': wait for wake() or the retry timer. */
  private idle = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private reportedEnded = false;
  private reportedQuiet = false;
  /** Immediate completions (no consumers, or acking off) delivered after next() returns. */
  private readonly completedNow: unknown[] = [];
  blockedSince = 0;
  /** Taps on this task's output (qitian tap); empty unless someone is tapping. */
  taps: Tap[] = [];
  /** The consuming component whose task had no credit when this executor became blocked. */
  blockedOn = '';
  /** Tasks this executor may send to, including through local bolts it calls directly. */
  targets: number[] = [];
  /** Consumer tasks of its own streams. */
  readonly directTargets: number[];
  private defaultRoute: StreamRoute | undefined;
  /** The default stream when it has a `whole` edge (Emitter.routeWhole), else null. */
  private fastRoute: StreamRoute | null;
  /** Emits after the run began to close (closeRoutes), dropped: nothing downstream takes them any more. */
  private emittedAfterClose = -1;
  /** Message ids whose trees failed and that were not emitted again yet: the next emit is a replay. */
  private readonly failedIds = new Set<unknown>();
  /** With maxRetries: failures so far per message id, until its tree completes. */
  private readonly failures = new Map<unknown, number>();
  private gaveUpLogged = 0;
  /** deactivate() returned a promise (a spout emitting what it had already received): not ended until it settles. */
  private draining: Promise<void> | undefined;
  /** `emitted` when a deactivation made it quiet (-1: not yet): more by close came from outside next(). */
  private emittedWhenQuiet = -1;

  constructor(
    readonly taskId: number,
    readonly spout: Spout,
    readonly context: TaskContext,
    readonly stats: ExecutorStats,
    private routes: Map<string, StreamRoute>,
    private readonly emitter: Emitter,
    private readonly opts: SpoutExecutorOptions,
    /** Asks the worker to run its scheduler. */
    private readonly schedule: () => void,
    /** Tells the main thread whether this task has ended, and whether it is quiet (emits nothing new). */
    private readonly reportEnded: (ended: boolean, quiet: boolean) => void,
    private readonly onError: (err: unknown, where: string) => void,
  ) {
    this.seq = (opts.generation % SEQ_GENERATIONS) * SEQ_PER_GENERATION;
    this.defaultRoute = routes.get('default');
    this.fastRoute = this.defaultRoute?.whole ? this.defaultRoute : null;
    this.directTargets = consumerTasks(routes);
    context.wake = () => {
      if (!this.idle) return;
      this.idle = false;
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      this.schedule();
    };
  }

  /** True when `poll` would ask the spout for tuples. */
  runnable(): boolean {
    return this.active && !this.exhausted && !this.idle && this.pending.size < this.opts.maxPending;
  }

  poll(): void {
    const room = this.opts.reliable ? Math.min(this.opts.batchSize, this.opts.maxPending - this.pending.size) : this.opts.batchSize;
    const t0 = performance.now();
    const nested = this.opts.clock.nestedMs;
    let status: SpoutStatus;
    try {
      status = this.spout.next(room);
    } catch (err) {
      this.stats.errors++;
      this.onError(err, 'next');
      status = 'idle';
    }
    // The bolts it called directly kept their own time.
    // (The callees' share is an estimate from samples, hence the floor: a counter never goes down.)
    this.stats.busyMs += Math.max(0, performance.now() - t0 - (this.opts.clock.nestedMs - nested));
    this.stats.pending = this.pending.size;
    if (this.completedNow.length > 0) this.deliverImmediateAcks();
    if (status === 'end') {
      this.exhausted = true;
      this.checkEnded();
    } else if (status === 'idle') {
      this.idle = true;
      // Poll again soon even without wake(): rate-limited and polling spouts rely on this.
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined;
        this.context.wake();
      }, 1);
    }
  }

  // --- SpoutCollector ---------------------------------------------------------------------

  emit(values: unknown[], messageId?: unknown, stream?: string): void {
    // Untracked, on a default stream with one consumer that takes whole tuples: straight to the transfer.
    const fast = this.fastRoute;
    if (fast !== null && (messageId == null || !this.opts.reliable) && (stream === undefined || stream === 'default') && this.taps.length === 0) {
      this.emitter.routeWhole(fast, values);
      this.stats.emitted++;
      this.stats.transferred++;
      if (messageId != null) this.completedNow.push(messageId);
      return;
    }
    this.send(values, messageId, stream ?? 'default', -1);
  }

  emitDirect(taskId: number, values: unknown[], messageId?: unknown, stream = 'default'): void {
    checkDirectTask(taskId, this.context.componentId);
    this.send(values, messageId, stream, taskId);
  }

  reportError(error: unknown): void {
    this.stats.errors++;
    this.onError(error, REPORTED);
  }

  inputFailed(error: unknown): void {
    this.reportError(error);
    this.context.count(INPUT_FAILED, 1);
  }

  private send(values: unknown[], messageId: unknown, stream: string, direct: number): void {
    const route = stream === 'default' ? this.defaultRoute : this.routes.get(stream);
    if (!route) {
      if (this.emittedAfterClose >= 0) {
        this.emittedAfterClose++;
        this.stats.dropped++;
        return;
      }
      throw new RangeError(`spout "${this.context.componentId}" emitted on undeclared stream "${stream}"`);
    }
    if (this.taps.length > 0) for (const tap of this.taps) tap.offer(route.stream, route.fields, values);
    if (messageId == null || !this.opts.reliable) {
      this.stats.transferred += this.emitter.route(route, values, NO_ROOTS, direct);
      // Counted once routed: an emit the route rejects (wrong arity) throws before this.
      this.stats.emitted++;
      if (this.failedIds.size > 0 && messageId != null && this.failedIds.delete(messageId)) this.stats.replayed++;
      this.stats.dropped += this.emitter.dropped;
      if (messageId != null) this.completedNow.push(messageId);
      return;
    }
    const root = ++this.seq * ROOT_TASK_MODULUS + this.taskId;
    const roots = [root];
    const n = this.emitter.route(route, values, roots, direct);
    this.stats.emitted++;
    if (this.failedIds.size > 0 && this.failedIds.delete(messageId)) this.stats.replayed++;
    this.stats.dropped += this.emitter.dropped;
    // A grouping that threw failed the tree (its fail arrives with the acks): keep it pending for that.
    if (n === 0 && !this.emitter.treeFailed) {
      // Nothing to track: the tree is complete as soon as it is made.
      this.completedNow.push(messageId);
      return;
    }
    this.stats.transferred += n;
    this.pending.set(root, { lo: this.emitter.xorLo, hi: this.emitter.xorHi, messageId, born: performance.now() });
  }

  private deliverImmediateAcks(): void {
    const ids = this.completedNow.splice(0);
    for (const id of ids) {
      this.stats.acked++;
      this.callAck(id);
    }
  }

  // --- acker ------------------------------------------------------------------------------

  applyAcks(acks: ArrayLike<number> | null, fails: ArrayLike<number> | null): void {
    const marked = this.opts.marker.enter(this.taskId);
    try {
      this.ackAndFail(acks, fails);
    } finally {
      this.opts.marker.restore(marked);
    }
  }

  private ackAndFail(acks: ArrayLike<number> | null, fails: ArrayLike<number> | null): void {
    if (fails) for (let i = 0; i < fails.length; i++) this.failTree(fails[i]!, false);
    if (acks) {
      const now = performance.now();
      for (let i = 0; i < acks.length; i += 3) {
        const t = this.pending.get(acks[i]!);
        if (!t) continue; // already failed or timed out: a late ack
        t.lo ^= acks[i + 1]!;
        t.hi ^= acks[i + 2]!;
        if ((t.lo | t.hi) === 0) {
          this.pending.delete(acks[i]!);
          this.stats.acked++;
          this.stats.completeLatencyMsSum += now - t.born;
          observe(this.stats.completeLatency, (now - t.born) / 1000);
          if (this.failures.size > 0) this.failures.delete(t.messageId);
          this.callAck(t.messageId);
        }
      }
    }
    this.afterAcks();
  }

  private failTree(root: number, timedOut: boolean): void {
    const t = this.pending.get(root);
    if (!t) return;
    this.pending.delete(root);
    this.stats.failed++;
    if (timedOut) this.stats.timedOut++;
    if (this.opts.maxRetries >= 0 && this.giveUp(t.messageId, timedOut)) return;
    if (this.failedIds.size >= MAX_FAILED_REMEMBERED) this.failedIds.delete(this.failedIds.values().next().value);
    this.failedIds.add(t.messageId);
    this.callFail(t.messageId);
  }

  /**
   * Counts a failure of `id`; past maxRetries, gives up on it: the spout gets an ack, so that it
   * moves on (a poison line does not replay for ever), and the loss is counted and logged.
   */
  private giveUp(id: unknown, timedOut: boolean): boolean {
    const n = (this.failures.get(id) ?? 0) + 1;
    if (n <= this.opts.maxRetries) {
      if (this.failures.size >= MAX_FAILED_REMEMBERED && !this.failures.has(id)) this.failures.delete(this.failures.keys().next().value);
      this.failures.set(id, n);
      return false;
    }
    this.failures.delete(id);
    this.failedIds.delete(id);
    this.stats.gaveUp++;
    // The first few, then one in a thousand: a flood of poison must not flood the log too.
    if (this.gaveUpLogged < 10 || this.stats.gaveUp % 1000 === 0) {
      this.gaveUpLogged++;
      this.context.logger.warn(
        `gave up on message ${describeId(id)} after ${n} failed attempt${n === 1 ? '' : 's'} (maxRetries ${this.opts.maxRetries}, last one ${timedOut ? 'timed out' : 'failed'}); ` +
          `it is acked so that the spout moves on (${this.stats.gaveUp} given up so far)`,
      );
    }
    this.callAck(id);
    return true;
  }

  /** Fails every tree older than the message timeout. */
  sweepTimeouts(now: number): void {
    if (this.pending.size === 0) return;
    const limit = now - this.opts.timeoutMs;
    for (const [root, t] of this.pending) {
      if (t.born > limit) break; // Map iterates in insertion order, oldest first
      this.failTree(root, true);
    }
    this.afterAcks();
  }

  /** Fails every pending tree now (a worker thread died: their tuples may be lost). */
  failAllPending(): void {
    for (const root of [...this.pending.keys()]) this.failTree(root, false);
    this.afterAcks();
  }

  private callAck(id: unknown): void {
    try {
      this.spout.ack?.(id);
    } catch (err) {
      this.stats.errors++;
      this.onError(err, 'ack');
    }
  }

  private callFail(id: unknown): void {
    // A failed tree means the spout may emit again (a replay), even after it said 'end'.
    this.exhausted = false;
    this.idle = false;
    try {
      this.spout.fail?.(id);
    } catch (err) {
      this.stats.errors++;
      this.onError(err, 'fail');
    }
  }

  private afterAcks(): void {
    this.stats.pending = this.pending.size;
    this.checkEnded();
    if (this.runnable()) this.schedule();
  }

  private checkEnded(): void {
    // Not yet told to start: inactive only because it has not begun, not because it was
    // deactivated. (A replacement thread's spout got late acks before its start, reported itself
    // ended, and a followed file's run completed by itself.)
    if (!this.begun) return;
    // Quiet: it will emit nothing new (a deactivate still draining may).
    const quiet = this.exhausted || (!this.active && this.draining === undefined);
    const ended = quiet && this.pending.size === 0;
    if (ended !== this.reportedEnded || quiet !== this.reportedQuiet) {
      if (quiet && !this.active && this.emittedWhenQuiet < 0) this.emittedWhenQuiet = this.stats.emitted;
      this.reportedEnded = ended;
      this.reportedQuiet = quiet;
      this.reportEnded(ended, quiet);
    }
  }

  /**
   * Begins: active, or (a thread replaced while the run drains) inactive, which with nothing
   * pending means ended, and the main thread must hear so or the drain waits for its timeout.
   */
  start(active: boolean): void {
    this.begun = true;
    if (active) this.activate();
    else this.checkEnded();
  }

  activate(): void {
    if (this.active) return;
    this.active = true;
    try {
      this.spout.activate?.();
    } catch (err) {
      this.onError(err, 'activate');
    }
    this.checkEnded();
  }

  deactivate(): void {
    if (!this.active) return;
    this.active = false;
    try {
      const r: unknown = this.spout.deactivate?.();
      if (r !== undefined && typeof (r as PromiseLike<void>).then === 'function') {
        // Not ended until it settles: what the spout emits meanwhile goes through the drain.
        const d: Promise<void> = Promise.resolve(r as PromiseLike<void>)
          .then(
            () => undefined,
            (err: unknown) => this.onError(err, 'deactivate'),
          )
          .then(() => {
            if (this.draining === d) this.draining = undefined;
            this.checkEnded();
            this.schedule();
          });
        this.draining = d;
      }
    } catch (err) {
      this.onError(err, 'deactivate');
    }
    this.checkEnded();
  }

  /** True while tuples may still come from this task. */
  busy(): boolean {
    return this.runnable();
  }

  /**
   * The run closes: the bolts have finished, so what the spout emits from now on (in close(), or
   * from a timer of its own) is dropped and counted. The routes go, so that emits pay nothing for
   * it: a missing route is the slow path.
   */
  closeRoutes(): void {
    this.emittedAfterClose = 0;
    this.fastRoute = null;
    this.defaultRoute = undefined;
    this.routes = new Map();
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    // The drain waits for what a deactivated spout still emits; without this, a stop that takes
    // drainTimeout would not say which spout kept it going.
    const late = this.emittedWhenQuiet < 0 ? 0 : this.stats.emitted - this.emittedWhenQuiet;
    if (late > 0) {
      this.context.logger.warn(
        `emitted ${late} tuple${late === 1 ? '' : 's'} after it was deactivated, from its own timers or callbacks rather than next(): ` +
          'the drain waits for them (up to drainTimeout); stop emitting in deactivate(), or buffer input and emit it in next()',
      );
    }
    await this.spout.close?.();
    const dropped = this.emittedAfterClose;
    if (dropped > 0) {
      this.context.logger.warn(
        `emitted ${dropped} tuple${dropped === 1 ? '' : 's'} after the run began to close (in close() or from a timer of its own): dropped, counted as dropped, since the bolts had finished`,
      );
    }
  }
}

/** The custom counter of spout tasks whose input could not be read to its end (SpoutCollector.inputFailed). */
export const INPUT_FAILED = 'input_failed';

/** A message id for a log line: short, whatever its type. */
function describeId(id: unknown): string {
  let s: string;
  try {
    s = typeof id === 'string' || (typeof id === 'object' && id !== null) ? JSON.stringify(id) : String(id);
  } catch {
    s = Object.prototype.toString.call(id); // cyclic, or holding a BigInt
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
