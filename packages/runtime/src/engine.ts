import { cpus } from 'node:os';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { KeyGroupSnapshot } from '@qitian/api';
import type { ExecutionPlan } from '@qitian/topology';
import { markedTask } from './call-marker.js';
import type { Family } from './metrics/families.js';
import { PositionLog } from './position-log.js';
import type { ControlMessage, StatusMessage, WorkerInit } from './protocol.js';
import { stackOwner } from './stack-owner.js';
import { fromSaved, loadState, prepareStateDir, StateFileError, saveState, sharedKeys, stateFile, toSaved, unrestored } from './state-store.js';
import { addCounters, countersOnly, type ExecutorStats, newStats } from './stats.js';

export type EngineLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type EngineLogger = (level: EngineLogLevel, msg: string, fields?: Record<string, unknown>) => void;

export interface EngineOptions {
  readonly logger?: EngineLogger;
  /** Worker restarts allowed within `restartWindowMs` before the run fails. */
  readonly maxRestarts?: number;
  readonly restartWindowMs?: number;
  /**
   * Keep spout positions and keyed state in `<stateDir>/<topology>.state` (written at most every
   * STATE_SAVE_MS while they change, and at the end) and start from it: a restarted process
   * resumes where the last one stopped.
   */
  readonly stateDir?: string;
  /**
   * With stateDir: start even when the state file holds positions or keyed state this topology
   * would not restore (a renamed or removed component, fewer spout tasks), dropping them with a
   * warning. Without it such a start fails (StateFileError), as a Flink savepoint restore does.
   */
  readonly allowNonRestoredState?: boolean;
  /**
   * Calls off the start: aborted while the threads start (a component's prepare() or open() may
   * never return), they are terminated and start() rejects with StartAbortedError. Once the
   * topology runs, stop() it instead.
   */
  readonly signal?: AbortSignal;
}

/** The start was called off (EngineOptions.signal) before the topology ran. */
export class StartAbortedError extends Error {
  override readonly name = 'StartAbortedError';
}

/** How often a start that takes long says what it waits for. */
const START_WARN_MS = 10_000;

export type EndReason = 'completed' | 'stopped' | 'failed';

/** A running thread that stopped reporting: one of its components holds it. */
export interface SilentThread {
  readonly worker: number;
  readonly silentSeconds: number;
  /** The components with tasks on it. */
  readonly components: string[];
  /** The task whose code it is running (execute, next, ack or fail), when it is in one. */
  readonly stuckIn: { readonly component: string; readonly task: number } | null;
}

export interface RunSummary {
  readonly reason: EndReason;
  readonly error?: Error;
  /** From the start of the components (all threads ready) to their close; thread start and teardown are not in it. */
  readonly durationMs: number;
  readonly workers: number;
  readonly restarts: number;
  /** Per task, as the tasks reported them when they closed (the last known figures for a lost thread). */
  readonly tasks: readonly ExecutorStats[];
  /** Spout trees still pending when a drain timed out (0 after a clean end). */
  readonly abandoned: number;
  /** True when a step of the end (settling in-flight tuples, a bolt's finish()) outran drainTimeout. */
  readonly incomplete: boolean;
  /**
   * With a state dir: why the last write of the state file, when the run closed, failed. A next
   * run resumes from the copy written before (or from the start), so this run's end is not saved.
   */
  readonly stateNotSaved?: string;
}

/** A worker thread that died and could not be replaced, or a component that failed to start. */
export class WorkerFailedError extends Error {
  override readonly name = 'WorkerFailedError';
  /** The component that failed to load, open or prepare, when that is what happened. */
  readonly component: string | undefined;
  constructor(
    readonly worker: number,
    message: string,
    options?: ErrorOptions & { component?: string },
  ) {
    super(message, options);
    this.component = options?.component;
  }
}

interface Slot {
  index: number;
  thread: Worker;
  ready: boolean;
  /** Expected to exit: closing, or killed by us before a restart. */
  exiting: boolean;
  /** The thread has exited. */
  dead: boolean;
  lastStats: ExecutorStats[];
  /** The thread's registry as last scraped: served while it cannot answer (restarting). */
  lastMetrics: Family[];
  /** While starting: what it is doing (StatusMessage 'starting'). */
  starting?: string;
  /** performance.now() of its last report (stats or metrics); threads report every second. */
  reportedAt: number;
  /** Where its crash came from, as whileRunning words it, once it has crashed. */
  crashedIn?: string;
}

/** A live tap: where its lines go. */
interface TapState {
  component: string;
  stream: string;
  sample: number;
  limit: number;
  onLines: (lines: string[], skipped: number) => void;
}

/** How long a scrape waits for a thread before serving its last known metrics. */
const SCRAPE_WAIT_MS = 2000;

const WORKER_URL = new URL('./worker.js', import.meta.url);
/** The id of the one 'close' round (other rounds number from 1). */
const CLOSE_ID = -2;
/** After a stop's drainTimeout, the time left for finish() and closing. */
const STOP_GRACE_MS = 2000;
/** How long closing waits for the threads: normally, when the end ran out of time or failed, and at least. */
const CLOSE_MS = 30_000;
const CLOSE_SHORT_MS = 2000;
const CLOSE_MIN_MS = 500;

/** The number of worker threads to use when none is given: one per core. */
export function defaultWorkerCount(): number {
  return Math.max(1, cpus().length);
}

/**
 * Runs an execution plan on worker threads in this process: the embedded single-node engine.
 * Ends by itself when every spout is finite and every tuple completed; `stop()` drains.
 */
export class Engine {
  private readonly slots: Slot[] = [];
  private readonly log: EngineLogger;
  private readonly spoutEnded = new Map<number, boolean>();
  /** Spout tasks that emit nothing new (at their end, or deactivated), though tuples may be pending. */
  private readonly spoutQuiet = new Map<number, boolean>();
  /** The bolts were told that no spout emits anything new (Bolt.drain). */
  private drainSent = false;
  private checkpoints: Record<number, unknown> = {};
  /** Each thread's load, written by that thread and read by all (load-aware shuffle). */
  private readonly loads: Int32Array;
  /** The task each thread is running component code for (CallMarker): names the one stuck. */
  private readonly running: Int32Array;
  /** The last copy of each task's keyed state, for a replacement thread. */
  private states: Record<number, Record<string, KeyGroupSnapshot<unknown>>> = {};
  /** Started from a state file an earlier run saved. */
  private resumed = false;
  /** With stateDir: the state file, and whether positions or state changed since it was written. */
  private readonly stateFile: string | undefined;
  private stateDirty = false;
  /** The last write of the state file failed: said once, not every second. */
  private stateWriteFailing = false;
  /** Failed writes of the state file, and when (ms since the epoch) it was last written; 0: never. */
  private stateWriteFailures = 0;
  private stateWriteError = '';
  private stateWrittenAt = 0;
  private stateTimer: NodeJS.Timeout | undefined;
  private readonly restartTimes: number[] = [];
  /** Threads started per worker slot so far, less one: the generation of the current thread. */
  private readonly generations: number[] = [];
  private readonly waiters = new Map<number, { pending: Set<number>; replies: Map<number, StatusMessage>; resolve: () => void }>();
  private nextId = 1;
  private started = 0;
  private phase: 'starting' | 'running' | 'ending' | 'closed' = 'starting';
  /** In the end sequence, past the drain: bolts finishing, threads closing. */
  private finishing = false;
  private endRequested: { drain: boolean } | undefined;
  private restarts = 0;
  private abandoned = 0;
  /** When each stateful task's last keyed state copy was made (ms since the epoch). */
  private readonly stateMadeAt = new Map<number, number>();
  /** Spout positions over time: the state file saves those the keyed state copies have caught up with. */
  private positions = new PositionLog({});
  /** When each worker slot last sent a copy of its keyed state (performance.now()). */
  private readonly stateCopiedAt: number[] = [];
  /**
   * A stop's end sequence must be over by this time (performance.now()): drainTimeout after the
   * stop plus STOP_GRACE_MS for finish() and closing, so that a service manager told to wait
   * about that long never kills the process mid-finish. Infinity when the input ended by itself.
   */
  private endBy = Number.POSITIVE_INFINITY;
  /** A step of the end sequence timed out: some finish() results may be missing. */
  private incomplete = false;
  /** Threads already named as stuck at the stop (warnUnanswered). */
  private readonly warnedStuck = new Set<number>();
  /** The run closed with nothing pending and every thread's last state copy in: save the last positions. */
  private positionsFinal = false;
  /** A copy of keyed state came since the state file was last written. */
  private statesChanged = false;
  /** Keyed states (component NUL name) already said to hold a key in two tasks. */
  private readonly sharedKeysWarned = new Set<string>();
  /** Counters of tasks whose thread died, as last reported, added to their replacements' counters. */
  private readonly carried = new Map<number, ExecutorStats>();
  private statsTimer: NodeJS.Timeout | undefined;
  private readonly taps = new Map<number, TapState>();
  private nextTap = 1;
  private readonly bootedAt = Date.now();
  private failure: Error | undefined;
  private finishedResolve!: (s: RunSummary) => void;
  private wakeEnd: (() => void) | undefined;
  /** Resolves when the run is over, however it ended. */
  readonly finished: Promise<RunSummary>;

  private constructor(
    readonly plan: ExecutionPlan,
    private readonly opts: EngineOptions,
  ) {
    this.log = opts.logger ?? (() => {});
    this.finished = new Promise((r) => (this.finishedResolve = r));
    this.loads = new Int32Array(new SharedArrayBuffer(4 * plan.workers)).fill(-1);
    this.running = new Int32Array(new SharedArrayBuffer(4 * plan.workers));
    if (opts.stateDir !== undefined) {
      this.stateFile = stateFile(opts.stateDir, plan.spec.name);
      // A folder that cannot be written, or a broken or foreign file, stops the start (StateFileError):
      // better than a run that silently keeps nothing, or reads everything again.
      prepareStateDir(opts.stateDir);
      const saved = loadState(this.stateFile, plan.spec.name);
      if (saved) {
        // As Flink does with a savepoint: saved state that would not be restored (a renamed
        // component, fewer spout tasks) stops the start, unless the user says to drop it.
        const left = unrestored(plan, saved);
        if (left.length > 0 && opts.allowNonRestoredState !== true) {
          throw new StateFileError(
            `${this.stateFile}: holds state this topology would not restore:\n  ${left.join('\n  ')}\n` +
              'Give the components back their names or task counts, or run with --allow-non-restored-state to drop that state.',
          );
        }
        for (const what of left) this.log('warn', `dropping saved ${what} (--allow-non-restored-state)`);
        this.resumed = true;
        const held = fromSaved(plan, saved);
        this.checkpoints = held.checkpoints;
        this.positions = new PositionLog({ ...held.checkpoints });
        this.states = held.states;
        this.log('info', `state restored from ${this.stateFile}`, {
          savedAt: new Date(saved.savedAt).toISOString(),
          positions: Object.keys(held.checkpoints).length,
          keyedStates: Object.keys(held.states).length,
        });
      }
    }
    for (const t of plan.tasks) {
      const node = plan.spec.components.find((c) => c.id === t.componentId)!;
      if (node.kind === 'spout') {
        this.spoutEnded.set(t.taskId, false);
        this.spoutQuiet.set(t.taskId, false);
      }
    }
  }

  static async start(plan: ExecutionPlan, opts: EngineOptions = {}): Promise<Engine> {
    const engine = new Engine(plan, opts);
    await engine.boot();
    return engine;
  }

  private async boot(): Promise<void> {
    const n = this.plan.workers;
    const ports: (MessagePort | null)[][] = Array.from({ length: n }, () => new Array<MessagePort | null>(n).fill(null));
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const ch = new MessageChannel();
        ports[i]![j] = ch.port1;
        ports[j]![i] = ch.port2;
      }
    }
    const readies = [];
    for (let i = 0; i < n; i++) readies.push(this.spawn(i, ports[i]!, false));
    const all = Promise.all(readies);
    // Once called off, the threads' own failures (terminated while starting) no longer matter.
    all.catch(() => {});
    const signal = this.opts.signal;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new StartAbortedError('the start was called off before the topology ran'));
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
    const t0 = performance.now();
    const watchdog = setInterval(() => {
      const waiting = this.slots.filter((s) => !s.ready && !s.dead);
      if (waiting.length === 0) return;
      const what = waiting.map((s) => `worker ${s.index}: ${s.starting ?? 'starting'}`).join('; ');
      this.log(
        'warn',
        `still starting after ${Math.round((performance.now() - t0) / 1000)}s, waiting for ${what} (a component's open() or prepare() that does not return holds the start)`,
      );
    }, START_WARN_MS);
    try {
      await Promise.race([all, aborted]);
    } catch (err) {
      await this.terminateAll();
      throw err;
    } finally {
      clearInterval(watchdog);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    this.started = performance.now();
    this.phase = 'running';
    for (const s of this.slots) this.send(s, { k: 'start', active: true });
    // Fresh counters every second, so that a thread that dies takes at most a second of them along.
    let polling = false;
    this.statsTimer = setInterval(() => {
      if (this.phase === 'closed' || polling) return;
      polling = true;
      // Bounded: a thread stuck in a component never answers, and the others' figures must go on.
      void this.stats(SCRAPE_WAIT_MS).finally(() => (polling = false));
    }, STATS_EVERY_MS);
    this.statsTimer.unref();
    if (this.stateFile) {
      this.stateTimer = setInterval(() => this.saveState(), STATE_SAVE_MS);
      this.stateTimer.unref();
    }
    void this.lifecycle();
  }

  /** Starts worker `index`; resolves when its components are open and prepared. */
  private spawn(index: number, peers: (MessagePort | null)[], restart: boolean): Promise<void> {
    const generation = (this.generations[index] = restart ? (this.generations[index] ?? 0) + 1 : 0);
    // A replacement starts its tasks' counters from what the threads before it counted, so that
    // its metrics registry reports them without a reset.
    const seeds: ExecutorStats[] = [];
    for (const t of this.plan.tasks) {
      const c = t.worker === index ? this.carried.get(t.taskId) : undefined;
      if (!c) continue;
      seeds.push(countersOnly(c));
      this.carried.delete(t.taskId);
    }
    const states: WorkerInit['states'] = {};
    // A replacement thread starts from the last copies; a first thread from the state file, if any.
    for (const t of this.plan.tasks) if (t.worker === index && this.states[t.taskId]) states[t.taskId] = this.states[t.taskId]!;
    const init: WorkerInit = {
      worker: index,
      plan: this.plan,
      peers,
      checkpoints: { ...this.checkpoints },
      generation,
      stats: seeds,
      states,
      loads: this.loads,
      running: this.running,
      resumed: this.resumed,
      runStartedAt: this.bootedAt,
      stateKept: this.stateFile !== undefined,
      terminal: { isTTY: process.stdout.isTTY === true, columns: process.stdout.columns },
    };
    const transferList = peers.filter((p): p is MessagePort => p !== null);
    const thread = new Worker(WORKER_URL, { workerData: init, transferList, stdout: false, stderr: false });
    // Until the new thread reports, its seeds stand for its tasks (and are carried again if it dies
    // first), and zeros for the others: a thread stuck in a component from the start still has
    // its tasks in the summary.
    const seeded = new Set(seeds.map((t) => t.taskId));
    const kinds = new Map(this.plan.spec.components.map((c) => [c.id, c.kind]));
    const unseeded = this.plan.tasks
      .filter((t) => t.worker === index && !seeded.has(t.taskId))
      .map((t) => newStats(t.taskId, t.componentId, kinds.get(t.componentId)!, t.taskIndex));
    const slot: Slot = {
      index,
      thread,
      ready: false,
      exiting: false,
      dead: false,
      lastStats: [...seeds, ...unseeded],
      lastMetrics: this.slots[index]?.lastMetrics ?? [],
      reportedAt: performance.now(),
    };
    this.slots[index] = slot;
    return new Promise<void>((resolve, reject) => {
      thread.on('message', (msg: StatusMessage) => {
        if (msg.k === 'ready') {
          slot.ready = true;
          resolve();
        } else if (msg.k === 'fatal' && !slot.ready) {
          slot.exiting = true;
          void thread.terminate();
          const cause = msg.cause ? Object.assign(new Error(msg.cause.message), { name: msg.cause.name, stack: msg.cause.stack }) : undefined;
          reject(new WorkerFailedError(index, msg.message, { ...(cause ? { cause } : {}), ...(msg.component ? { component: msg.component } : {}) }));
        } else this.onStatus(slot, msg);
      });
      thread.on('error', (err) => {
        if (!slot.ready) {
          slot.exiting = true;
          reject(new WorkerFailedError(index, `worker ${index} failed to start: ${err.message}`, { cause: err }));
          return;
        }
        slot.crashedIn = this.whileRunning(index) || this.inOwnCode(index, err.stack);
        this.log('error', `worker ${index} crashed${slot.crashedIn}: ${err.message}`, { stack: err.stack });
      });
      thread.on('exit', (code) => {
        slot.dead = true;
        if (this.slots[index] !== slot) return;
        // Whatever was waiting on this thread gets an answer that marks the round as unusable.
        this.abandonWaits(index);
        if (slot.exiting) return;
        if (!slot.ready) {
          reject(new WorkerFailedError(index, `worker ${index} exited with code ${code} while starting`));
          return;
        }
        this.onWorkerDied(slot, code);
      });
    });
  }

  private onStatus(slot: Slot, msg: StatusMessage): void {
    switch (msg.k) {
      case 'log':
        this.log(msg.level, msg.msg, msg.fields);
        return;
      case 'fatal':
        this.log('error', `worker ${slot.index}: ${msg.message}`, { stack: msg.stack });
        this.fail(new WorkerFailedError(slot.index, msg.message));
        // It will not answer what it was asked (a finish, the close): nothing waits for it.
        this.abandonWaits(slot.index);
        return;
      case 'spout':
        // A replaced thread's last word about its spouts no longer counts.
        if (this.slots[slot.index] !== slot) return;
        this.spoutEnded.set(msg.task, msg.ended);
        this.spoutQuiet.set(msg.task, msg.quiet);
        // Every spout at its end with trees pending: bolts holding tuples (a sink's linger) write
        // them now, or the run would wait for their timers.
        if ([...this.spoutQuiet.values()].every(Boolean)) this.sendDrain();
        this.wakeEnd?.();
        return;
      case 'checkpoint':
        this.checkpoints[msg.task] = msg.position;
        this.notePosition(msg.task, msg.position, msg.madeAt);
        this.stateDirty = true;
        return;
      case 'state':
        // A replaced thread's last copies may arrive late; its replacement's count from now on.
        if (this.slots[slot.index] !== slot) return;
        this.states[msg.task] = msg.states;
        this.stateMadeAt.set(msg.task, msg.madeAt);
        this.statesChanged = true;
        this.stateCopiedAt[slot.index] = performance.now();
        this.stateDirty = true;
        return;
      case 'stats':
      case 'closed':
        if (this.slots[slot.index] !== slot) return;
        slot.lastStats = msg.stats;
        slot.reportedAt = performance.now();
        this.reply(slot, msg.k === 'stats' ? msg.id : CLOSE_ID, msg);
        return;
      case 'metrics':
        if (this.slots[slot.index] !== slot) return;
        slot.lastMetrics = msg.families;
        slot.lastStats = msg.stats;
        slot.reportedAt = performance.now();
        this.reply(slot, msg.id, msg);
        return;
      case 'tapped':
        this.taps.get(msg.tap)?.onLines(msg.lines, msg.skipped);
        return;
      case 'finished':
      case 'probed':
        this.reply(slot, msg.id, msg);
        return;
      case 'starting':
        slot.starting = msg.what;
        return;
      case 'ready':
        return;
    }
  }

  private onWorkerDied(slot: Slot, code: number): void {
    const now = performance.now();
    const windowMs = this.opts.restartWindowMs ?? 60_000;
    const max = this.opts.maxRestarts ?? 5;
    this.restartTimes.push(now);
    while (this.restartTimes.length > 0 && this.restartTimes[0]! < now - windowMs) this.restartTimes.shift();
    for (const t of slot.lastStats) this.carried.set(t.taskId, addCounters(this.carried.get(t.taskId), t));
    slot.lastStats = [];
    const where = this.diedIn(slot);
    if (this.finishing) {
      // Its bolts' open windows and final results went with it, and its spouts may no longer
      // replay: a replacement could not finish what it held. The run fails, saying so.
      const msg = `worker ${slot.index} died (exit code ${code})${where} in the end phase of the run; what its tasks held is lost`;
      this.log('error', msg);
      this.fail(new WorkerFailedError(slot.index, msg));
      return;
    }
    this.log('warn', `worker ${slot.index} died (exit code ${code})${where}; restarting it, in-flight tuples will be replayed`);
    const copied = this.stateCopiedAt[slot.index];
    if (copied !== undefined) {
      const restarts = `worker ${slot.index}: its tasks' keyed state restarts from the copy made ${Math.round(performance.now() - copied)}ms ago; `;
      // With acks held for copies, what the copy misses was not acked and is replayed. Without,
      // what changed after the copy for tuples acked meanwhile is neither in it nor replayed.
      if (this.plan.spec.config.stateAcks === 'after-copy') {
        this.log('info', `${restarts}the tuples executed since then were not acked (stateAcks: after-copy) and are replayed`);
      } else {
        this.log(
          'warn',
          `${restarts}updates since then for tuples already acked are lost (config.stateSnapshotInterval sets how often copies are made; stateAcks: after-copy keeps them)`,
        );
      }
    }
    // Its load is unknown until the replacement measures itself: load-aware shuffles ignore it meanwhile.
    Atomics.store(this.loads, slot.index, -1);
    Atomics.store(this.running, slot.index, 0);
    if (this.restartTimes.length > max) {
      this.fail(
        new WorkerFailedError(
          slot.index,
          `worker ${slot.index} died ${this.restartTimes.length} times within ${windowMs / 1000}s${where ? `, the last time${where}` : ''}; giving up`,
        ),
      );
      return;
    }
    if (this.phase === 'closed') return;
    this.restarts++;
    void this.replace(slot.index);
  }

  private async replace(index: number): Promise<void> {
    const n = this.plan.workers;
    const peers: (MessagePort | null)[] = new Array(n).fill(null);
    for (const t of this.plan.tasks) {
      if (t.worker !== index || !this.spoutEnded.has(t.taskId)) continue;
      this.spoutEnded.set(t.taskId, false);
      this.spoutQuiet.set(t.taskId, false);
    }
    for (let j = 0; j < n; j++) {
      if (j === index) continue;
      const ch = new MessageChannel();
      peers[j] = ch.port2;
      const other = this.slots[j]!;
      other.thread.postMessage({ k: 'peer', worker: index, port: ch.port1, failPending: true } satisfies ControlMessage, [ch.port1]);
    }
    try {
      await this.spawn(index, peers, true);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const slot = this.slots[index]!;
    for (const [id, t] of this.taps) {
      if (this.hostsComponent(index, t.component))
        this.send(slot, { k: 'tap', tap: id, component: t.component, stream: t.stream, sample: t.sample, limit: t.limit });
    }
    // Its spouts start inactive when the run is draining or ending: nothing new may enter then.
    this.send(slot, { k: 'start', active: !(this.endRequested?.drain || this.phase !== 'running') });
    if (this.drainSent) this.send(slot, { k: 'drain' });
    this.wakeEnd?.();
  }

  private abandonWaits(index: number): void {
    for (const w of [...this.waiters.values()]) {
      if (!w.pending.delete(index)) continue;
      w.replies.set(index, { k: 'fatal', message: 'died' });
      if (w.pending.size === 0) w.resolve();
    }
  }

  private send(slot: Slot, msg: ControlMessage): void {
    slot.thread.postMessage(msg);
  }

  /** Sends `make(id)` to every worker and waits for each one's answer (or its death). */
  private ask(make: (id: number) => ControlMessage, fixedId?: number, timeoutMs?: number): Promise<Map<number, StatusMessage>> {
    const id = fixedId ?? this.nextId++;
    return new Promise((resolve) => {
      if (timeoutMs !== undefined) {
        // Whoever has not answered by then is left out; the caller decides what stands in for them.
        setTimeout(() => this.waiters.get(id)?.resolve(), timeoutMs).unref();
      }
      const live = this.slots.filter((s) => !s.dead);
      const pending = new Set(live.map((s) => s.index));
      const replies = new Map<number, StatusMessage>();
      this.waiters.set(id, {
        pending,
        replies,
        resolve: () => {
          this.waiters.delete(id);
          resolve(replies);
        },
      });
      if (pending.size === 0) {
        this.waiters.get(id)!.resolve();
        return;
      }
      for (const s of live) this.send(s, make(id));
    });
  }

  private reply(slot: Slot, id: number, msg: StatusMessage): void {
    const w = this.waiters.get(id);
    if (!w?.pending.delete(slot.index)) return;
    w.replies.set(slot.index, msg);
    if (w.pending.size === 0) w.resolve();
  }

  /** Current figures of every task; with a timeout, threads that did not answer in time give their last report. */
  async stats(timeoutMs?: number): Promise<ExecutorStats[]> {
    if (this.phase !== 'closed') await this.ask((id) => ({ k: 'stats', id }), undefined, timeoutMs);
    return this.withCarried();
  }

  /**
   * Every thread's metric families, in prom-client's JSON form, ready to merge. A thread that
   * cannot answer now (one being restarted) is represented by what it answered last.
   */
  async threadMetrics(): Promise<Family[][]> {
    if (this.phase !== 'closed') await this.ask((id) => ({ k: 'metrics', id }), undefined, SCRAPE_WAIT_MS);
    return this.slots.map((s) => s.lastMetrics);
  }

  /** Figures about the topology as a whole, for the metrics endpoint and `qitian top`. */
  info(): {
    name: string;
    workers: number;
    restarts: number;
    uptimeSeconds: number;
    startedAt: number;
    phase: string;
    stateWriteFailures: number;
    stateWrittenAt: number;
    threadBusy: (number | null)[];
    silentThreads: SilentThread[];
  } {
    return {
      silentThreads: this.silentThreads(),
      name: this.plan.spec.name,
      workers: this.slots.length,
      restarts: this.restarts,
      stateWriteFailures: this.stateWriteFailures,
      stateWrittenAt: this.stateWrittenAt,
      // Each thread's busy fraction as it last measured itself (smoothed), null before it has.
      threadBusy: Array.from(this.loads, (v) => (v < 0 ? null : v / 1000)),
      uptimeSeconds: (Date.now() - this.bootedAt) / 1000,
      startedAt: this.bootedAt,
      phase: this.phase,
    };
  }

  /**
   * Running threads that have not reported for SILENT_MS (they report every second): one of
   * their components is stuck (a loop in execute or next), and what they report is stale.
   */
  private silentThreads(): SilentThread[] {
    if (this.phase !== 'running') return [];
    const now = performance.now();
    const out: SilentThread[] = [];
    for (const slot of this.slots) {
      if (slot.dead || !slot.ready || now - slot.reportedAt < SILENT_MS) continue;
      const components = [...new Set(this.plan.tasks.filter((t) => t.worker === slot.index).map((t) => t.componentId))];
      out.push({ worker: slot.index, silentSeconds: Math.round((now - slot.reportedAt) / 1000), components, stuckIn: this.stuckIn(slot.index) });
    }
    return out;
  }

  /** " while running ... ": the component whose code worker `index` was in (a process.exit in execute), or ''. */
  private whileRunning(index: number): string {
    const t = this.stuckIn(index);
    return t ? ` while running component "${t.component}" (task ${t.task})` : '';
  }

  /**
   * " in component ... ": the component whose own code, outside any call from the engine (a timer,
   * a promise of its own), threw what crashed worker `index`, read off the error's stack; or ''.
   */
  private inOwnCode(index: number, stack: string | undefined): string {
    const here = new Set(this.plan.tasks.filter((t) => t.worker === index).map((t) => t.componentId));
    const owners = this.plan.spec.components.map((c) => ({ component: c.id, url: c.ref.url }));
    const owner = stackOwner(stack, owners);
    return owner && here.has(owner.component) ? ` in component "${owner.component}" (at ${owner.at}, in a timer or promise of its own)` : '';
  }

  private diedIn(slot: Slot): string {
    return this.whileRunning(slot.index) || (slot.crashedIn ?? '');
  }

  /** The task whose component code worker `index` is running now (CallMarker), if any. */
  private stuckIn(index: number): SilentThread['stuckIn'] {
    const t = this.plan.tasks[markedTask(this.running, index)];
    return t && t.worker === index ? { component: t.componentId, task: t.taskIndex } : null;
  }

  /**
   * Copies what `component` emits on `stream` (a `sample` fraction of it, at most `limit` tuples
   * per task when limit > 0) to `onLines` as JSON lines, until the returned function is called.
   */
  tap(component: string, stream: string, sample: number, limit: number, onLines: (lines: string[], skipped: number) => void): () => void {
    const id = this.nextTap++;
    const state: TapState = { component, stream, sample, limit, onLines };
    this.taps.set(id, state);
    for (const s of this.slots) if (!s.dead && this.hostsComponent(s.index, component)) this.send(s, { k: 'tap', tap: id, component, stream, sample, limit });
    return () => {
      if (!this.taps.delete(id)) return;
      for (const s of this.slots) if (!s.dead && this.hostsComponent(s.index, component)) this.send(s, { k: 'untap', tap: id });
    };
  }

  private hostsComponent(worker: number, component: string): boolean {
    return this.plan.tasks.some((t) => t.worker === worker && t.componentId === component);
  }

  /** Every task's counters, including what threads that died had counted. */
  private withCarried(): ExecutorStats[] {
    const current = this.slots.flatMap((s) => s.lastStats);
    if (this.carried.size === 0) return current;
    const seen = new Set<number>();
    const out = current.map((t) => {
      seen.add(t.taskId);
      const c = this.carried.get(t.taskId);
      return c ? addCounters(c, t) : t;
    });
    for (const [task, c] of this.carried) if (!seen.has(task)) out.push(c);
    return out;
  }

  /** Drains and stops: spouts stop emitting, in-flight tuples complete, bolts finish, all close. */
  stop(): Promise<RunSummary> {
    if (!this.endRequested) this.endRequested = { drain: true };
    this.wakeEnd?.();
    return this.finished;
  }

  /** Tells every thread's bolts, once, that no spout emits anything new (Bolt.drain). */
  private sendDrain(): void {
    if (this.drainSent) return;
    this.drainSent = true;
    for (const s of this.slots) this.send(s, { k: 'drain' });
  }

  /** Test and chaos hook: kills a worker thread abruptly, as a crash would. */
  async killWorker(index: number): Promise<void> {
    const slot = this.slots[index];
    if (!slot) throw new RangeError(`no worker ${index}`);
    await slot.thread.terminate();
  }

  get workerCount(): number {
    return this.slots.length;
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.wakeEnd?.();
  }

  /** Waits for the end (finite spouts done, stop, or failure), then runs the end sequence. */
  private async lifecycle(): Promise<void> {
    while (!this.failure && !this.endRequested && ![...this.spoutEnded.values()].every(Boolean)) {
      await new Promise<void>((r) => (this.wakeEnd = r));
      this.wakeEnd = undefined;
    }
    if (this.failure) return this.close('failed');
    this.phase = 'ending';
    const draining = this.endRequested?.drain === true;
    if (draining) {
      for (const s of this.slots) this.send(s, { k: 'deactivate' });
      this.sendDrain();
      const until = performance.now() + this.plan.spec.config.drainTimeoutMs;
      this.endBy = until + STOP_GRACE_MS;
      while (!this.failure && ![...this.spoutEnded.values()].every(Boolean) && performance.now() < until) {
        await Promise.race([new Promise<void>((r) => (this.wakeEnd = r)), deadline(100)]);
        this.wakeEnd = undefined;
      }
      if (![...this.spoutEnded.values()].every(Boolean)) {
        // A thread stuck in a component (a loop in execute) never answers: its last report stands in.
        const replies = await this.ask((id) => ({ k: 'stats', id }), undefined, SCRAPE_WAIT_MS);
        this.warnUnanswered(replies);
        const stats = this.withCarried();
        this.abandoned = stats.reduce((a, s) => a + (s.kind === 'spout' ? s.pending : 0), 0);
        this.log(
          'warn',
          `drain timed out after ${this.plan.spec.config.drainTimeoutMs}ms with ${this.abandoned} tuple tree${this.abandoned === 1 ? '' : 's'} pending`,
        );
      }
    }
    if (this.failure) return this.close('failed');
    // Each step of the end may take up to drainTimeout: a bolt whose async execute or finish()
    // never settles must not keep the process from ending.
    if (await this.bounded((until) => this.quiesce(until), 'in-flight tuples did not settle')) {
      // From here a thread that dies cannot be replaced: what its bolts held is lost with it.
      this.finishing = true;
      // Bolts finish in topological order, each after everything upstream has finished and quiesced.
      for (const c of this.plan.spec.components) {
        if (c.kind === 'spout' || this.failure) continue;
        if (
          !(await this.bounded(
            () => this.ask((id) => ({ k: 'finish', components: [c.id], id, stopped: draining })).then(() => true),
            `finish() of "${c.id}" did not return`,
          ))
        )
          break;
        if (!(await this.bounded((until) => this.quiesce(until), `tuples emitted by finish() of "${c.id}" did not settle`))) break;
      }
    }
    return this.close(this.failure ? 'failed' : draining ? 'stopped' : 'completed');
  }

  /**
   * Names, once each, the live threads that did not answer (`answered` lacks them; without it,
   * those that have not reported for SCRAPE_WAIT_MS though they report every second): stuck in a
   * component, they will be terminated. A stop whose spouts had nothing pending reaches the end
   * steps without the drain's question, and only the steps' timeout would be said.
   */
  private warnUnanswered(answered?: { has(index: number): boolean }): void {
    const now = performance.now();
    for (const slot of this.slots) {
      if (slot.dead || this.warnedStuck.has(slot.index)) continue;
      if (answered ? answered.has(slot.index) : now - slot.reportedAt < SCRAPE_WAIT_MS) continue;
      this.warnedStuck.add(slot.index);
      const stuck = this.stuckIn(slot.index);
      const on = [...new Set(this.plan.tasks.filter((t) => t.worker === slot.index).map((t) => `"${t.componentId}"`))].join(', ');
      const what = stuck
        ? `it is stuck in component "${stuck.component}" (task ${stuck.task}), e.g. in a loop in execute or next`
        : `one of its components (${on}) is stuck, e.g. in a loop in execute or next`;
      this.log(
        'warn',
        `worker ${slot.index} did not answer within ${SCRAPE_WAIT_MS / 1000}s: ${what}; it will be terminated, and its figures are the last it reported`,
      );
    }
  }

  /**
   * Runs `step` for up to drainTimeout; false (and a warning) when it did not finish in time. A
   * step that polls is given the deadline so that it stops there too: one left polling would keep
   * the process alive after the topology closed.
   */
  private async bounded(step: (until: number) => Promise<boolean>, what: string): Promise<boolean> {
    const full = this.plan.spec.config.drainTimeoutMs;
    // A stop shares one budget: what the drain used is not given again to each later step.
    const ms = Math.max(0, Math.min(full, this.endBy - performance.now()));
    const done = ms > 0 && (await Promise.race([step(performance.now() + ms), deadline(ms).then(() => false)]));
    if (!done && !this.failure) {
      this.incomplete = true;
      this.warnUnanswered();
      if (ms < full) this.log('warn', `${what} before the stop's time ran out (config.drainTimeout and ${STOP_GRACE_MS}ms more); closing the topology anyway`);
      else this.log('warn', `${what} within ${ms}ms (config.drainTimeout); closing the topology anyway`);
    }
    return done;
  }

  /**
   * Waits until no thread has work and every message sent between threads was received, seen
   * the same in two consecutive rounds (the four-counter method): true then, false when the
   * run failed or `until` (a performance.now() time) passed first.
   */
  private async quiesce(until: number): Promise<boolean> {
    let previous = '';
    for (let round = 0; !this.failure && performance.now() < until; round++) {
      const replies = await this.ask((id) => ({ k: 'probe', id }));
      const probes = [...replies.entries()].sort((a, b) => a[0] - b[0]).map(([, m]) => m);
      let ok = probes.length === this.slots.length && probes.every((p) => p.k === 'probed' && !p.busy);
      if (ok) {
        const n = probes.length;
        for (let i = 0; i < n && ok; i++) {
          for (let j = 0; j < n && ok; j++) {
            if (i === j) continue;
            const a = probes[i] as StatusMessage & { k: 'probed' };
            const b = probes[j] as StatusMessage & { k: 'probed' };
            if (a.sentTo[j] !== b.recvFrom[i]) ok = false;
          }
        }
      }
      const signature = ok ? JSON.stringify(probes.map((p) => (p.k === 'probed' ? [p.sentTo, p.recvFrom] : 0))) : '';
      if (ok && signature === previous) return true;
      previous = signature;
      await sleep(ok ? 0 : Math.min(20, 1 + round));
    }
    return false;
  }

  private async close(reason: EndReason): Promise<void> {
    if (this.phase === 'closed') return;
    this.finishing = true;
    clearInterval(this.statsTimer);
    clearInterval(this.stateTimer);
    // Closing threads send their keyed state once more before they report closed. A stop closes
    // within what is left of its budget (at least CLOSE_MIN_MS).
    const left = this.endBy - performance.now();
    const closeMs = Number.isFinite(left)
      ? Math.max(CLOSE_MIN_MS, Math.min(CLOSE_MS, left))
      : reason === 'failed' || this.incomplete
        ? CLOSE_SHORT_MS
        : CLOSE_MS;
    const closed = await Promise.race([this.ask(() => ({ k: 'close' }), CLOSE_ID), deadline(closeMs)]);
    // Every thread answered, after its last copy of keyed state, and no tree was left pending: the
    // copies hold the updates of everything acked, so the last positions go with them (a spout's
    // close() saves its own, often after another thread's last copy).
    this.positionsFinal =
      closed !== undefined &&
      this.failure === undefined &&
      !this.incomplete &&
      this.slots.every((s) => !s.dead && closed.get(s.index)?.k === 'closed') &&
      [...closed.values()].every((m) => m.k === 'closed' && m.stats.every((t) => t.kind !== 'spout' || t.pending === 0));
    // The run lasted until its components closed; tearing the threads down after (25-55ms here,
    // the isolates' heaps) is the process's cleanup, as their start before `started` was.
    const durationMs = performance.now() - this.started;
    this.phase = 'closed';
    await this.terminateAll();
    this.saveState();
    const stateNotSaved = this.stateWriteFailing ? this.stateWriteError : undefined;
    const tasks = this.withCarried();
    // Trees that completed after the drain gave up on them (while bolts finished) were not abandoned.
    if (this.abandoned > 0) this.abandoned = tasks.reduce((a, t) => a + (t.kind === 'spout' ? t.pending : 0), 0);
    this.warnUnacked(tasks);
    this.finishedResolve({
      // A failure during the end sequence (a thread that died finishing) fails the run too.
      reason: this.failure !== undefined ? 'failed' : reason,
      error: this.failure,
      durationMs,
      workers: this.slots.length,
      restarts: this.restarts,
      tasks,
      abandoned: this.abandoned,
      incomplete: this.incomplete,
      ...(stateNotSaved !== undefined ? { stateNotSaved } : {}),
    });
  }

  /**
   * The spout positions to save beside the keyed state: as of the oldest copy of it (PositionLog),
   * unless acks wait for copies anyway (stateAcks: after-copy) or no component keeps keyed state.
   */
  private savedPositions(): Record<number, unknown> {
    if (this.positionsFinal || !this.alignsPositions() || this.stateMadeAt.size === 0) return this.checkpoints;
    return this.positions.asOf(this.oldestStateCopy());
  }

  /** Positions are saved as of the keyed state copies: with a state file, unless acks wait for copies. */
  private alignsPositions(): boolean {
    return this.stateFile !== undefined && this.plan.spec.config.stateAcks !== 'after-copy';
  }

  /** When the oldest of the tasks' last keyed state copies was made; +Infinity before any. */
  private oldestStateCopy(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const at of this.stateMadeAt.values()) if (at < oldest) oldest = at;
    return oldest;
  }

  /** Logs a position for savedPositions, keeping only what a later copy time can still ask for. */
  private notePosition(task: number, position: unknown, madeAt: number): void {
    if (!this.alignsPositions()) return;
    // Stamped in the spout's thread, as copies are in theirs: stamped on arrival, a position saved
    // before a copy but received after it counted as newer, and a resume re-read what the copy had.
    this.positions.note(task, position, madeAt);
    this.positions.prune(this.oldestStateCopy());
  }

  /**
   * Names the bolts with autoAck: false that neither acked nor failed some of what they executed:
   * otherwise only their spouts' timeouts show it, which do not say where the trees stopped.
   * Not after a restart, whose counters are approximate.
   */
  private warnUnacked(tasks: readonly ExecutorStats[]): void {
    if (!this.plan.spec.config.acking || this.restarts > 0) return;
    for (const c of this.plan.spec.components) {
      if (c.kind === 'spout' || c.autoAck) continue;
      let executed = 0;
      let settled = 0;
      for (const t of tasks) {
        if (t.componentId !== c.id) continue;
        executed += t.executed;
        settled += t.acked + t.failed;
      }
      if (executed <= settled) continue;
      this.log(
        'warn',
        `${c.kind} "${c.id}" neither acked nor failed ${executed - settled} of the ${executed} tuples it executed: with autoAck: false, ` +
          'call collector.ack(tuple) or collector.fail(tuple) once for each, or their trees time out (messageTimeout) and their spouts replay them',
      );
    }
  }

  /**
   * Says, once per keyed state, that two tasks hold the same key: the file keeps one value per key,
   * so a resumed run would lose the other without a word.
   */
  private warnSharedKeys(): void {
    for (const s of sharedKeys(this.plan, this.states)) {
      const id = `${s.component}\u0000${s.name}`;
      if (this.sharedKeysWarned.has(id)) continue;
      this.sharedKeysWarned.add(id);
      this.log(
        'warn',
        `keyed state "${s.name}" of "${s.component}": key "${s.key}" is held by tasks ${s.tasks[0]} and ${s.tasks[1]}; the state file keeps one value ` +
          'per key (a resumed run gives it to the task fields grouping sends the key to), so the other is lost. Key keyed state by the values ' +
          'the input is fields-grouped on (docs/writing-components.md#keyed-state)',
      );
    }
  }

  /** Writes the state file when positions or keyed state changed since the last write. */
  private saveState(): void {
    if (!this.stateFile || !this.stateDirty) return;
    this.stateDirty = false;
    try {
      const now = Date.now();
      saveState(this.stateFile, toSaved(this.plan, { checkpoints: this.savedPositions(), states: this.states }, now));
      // Positions move every second, keyed state with its copies: looked at when a copy came.
      if (this.statesChanged) this.warnSharedKeys();
      this.statesChanged = false;
      this.stateWrittenAt = now;
      if (this.stateWriteFailing) this.log('info', `the state file ${this.stateFile} is written again`);
      this.stateWriteFailing = false;
    } catch (err) {
      // Kept dirty: the next try may succeed (a full disk freed). The run goes on either way.
      this.stateDirty = true;
      this.stateWriteFailures++;
      this.stateWriteError = `cannot write the state file ${this.stateFile}: ${(err as Error).message}`;
      if (!this.stateWriteFailing) {
        this.log(
          'error',
          `cannot write the state file ${this.stateFile}: ${(err as Error).message}; retrying every second, positions and state since then are kept in memory only`,
        );
      }
      this.stateWriteFailing = true;
    }
  }

  /**
   * Terminates every thread, waiting at most TERMINATE_MS: a thread blocked in a system call that
   * does not return (a read from a FIFO nobody writes, a hung network file system) cannot be
   * terminated, and must not hold the end of the run. Such threads are named in a warning.
   */
  private async terminateAll(): Promise<void> {
    const ended = new Set<number>();
    await Promise.race([
      Promise.all(
        this.slots.map(async (s) => {
          s.exiting = true;
          await s.thread.terminate();
          ended.add(s.index);
        }),
      ),
      deadline(TERMINATE_MS),
    ]);
    for (const s of this.slots) {
      if (ended.has(s.index)) continue;
      const stuck = this.stuckIn(s.index);
      this.log(
        'warn',
        `worker ${s.index} did not end within ${TERMINATE_MS / 1000}s of being terminated: ${stuck ? `component "${stuck.component}" (task ${stuck.task})` : 'a component'} ` +
          'holds it in a system call that does not return (a read from a FIFO, a hung network file system); the process cannot exit until it does: ' +
          'send SIGINT or SIGTERM again to end it at once',
      );
    }
  }
}

const STATS_EVERY_MS = 1000;
/** How long terminating the threads may take before the run ends without them. */
const TERMINATE_MS = 2000;
/** A running thread that has not reported for this long is named as silent (stuck). */
const SILENT_MS = 5000;
/** How often the state file is written while positions or keyed state change. */
const STATE_SAVE_MS = 1000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A deadline for Promise.race that does not keep the process alive once the race is decided. */
function deadline(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
