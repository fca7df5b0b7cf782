import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import type { Bolt, BoltDefinition, CustomGrouping, CustomGroupingFactory, Logger, Spout, SpoutDefinition } from '@qitian/api';
import { isComponentDefinition, type KeyGroupSnapshot, TICK_STREAM } from '@qitian/api';
import { type ComponentNode, type ExecutionPlan, importModule, type ModuleRef, type TaskPlacement } from '@qitian/topology';
import { BoltExecutor, BusyClock } from './bolt-executor.js';
import { CallMarker } from './call-marker.js';
import { TaskContext } from './context.js';
import { BALANCE_INTERVAL_MS, Balancer, type ShuffleBalance } from './balance.js';
import { Emitter } from './emitter.js';
import { EdgeIds } from './ids.js';
import { ErrorLog } from './error-log.js';
import type { ControlMessage, PeerMessage, StatusMessage, WorkerInit } from './protocol.js';
import { buildRoutes, edgeKey, GROUPING_FAILED, type InputFilter } from './routing.js';
import { ThreadMetrics } from './metrics/thread-metrics.js';
import { SpoutExecutor } from './spout-executor.js';
import { type ExecutorStats, newStats } from './stats.js';
import { Tap } from './tap.js';
import { Transfer } from './transfer.js';
import { SourceStream, STATE_ACKED, TupleImpl } from './tuple-impl.js';

/** How long one scheduler turn may run before yielding to incoming messages and timers. */
const SLICE_MS = 10;
/** Peer messages taken in one go between scheduler rounds, so that a flood cannot pin the turn. */
const MAX_RECEIVED_AT_ONCE = 64;
/** Taps send what they copied this often. */
const TAP_FLUSH_MS = 100;
/** Capacity is the busy fraction over this many one-second samples. */
const CAPACITY_WINDOW_SAMPLES = 11;

interface Channel {
  postMessage(msg: StatusMessage): void;
}

/** One worker thread: hosts the executors of the tasks placed on it and schedules them. */
export class WorkerRuntime {
  private readonly plan: ExecutionPlan;
  private readonly worker: number;
  private readonly peers: (MessagePort | null)[];
  private transfer!: Transfer;
  private readonly spouts: SpoutExecutor[] = [];
  private readonly bolts: BoltExecutor[] = [];
  private readonly boltByTask: (BoltExecutor | undefined)[];
  private readonly spoutByTask: (SpoutExecutor | undefined)[];
  private readonly sources = new Map<string, SourceStream>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Tick timers by bolt: stopped once the bolt has finished. */
  private readonly tickTimers = new Map<BoltExecutor, NodeJS.Timeout>();
  /** Tasks whose last keyed state copy failed (logged once until one works). */
  private readonly stateCopyFailing = new Set<number>();
  private readonly clock = new BusyClock();
  private readonly marker: CallMarker;
  private metrics: ThreadMetrics | undefined;
  private tapTimer: NodeJS.Timeout | undefined;
  private readonly capacity = new CapacityWindow();
  private readonly errorLogs = new Map<ExecutorStats, ErrorLog>();
  /** Per bolt: how long its async execute had run when that was last said (warnStuck). */
  private readonly stuckWarned = new Map<BoltExecutor, number>();
  private scheduled = false;
  /** Load-aware shuffle edges of this thread's tasks (the Balancer moves them). */
  private readonly balances: ShuffleBalance[] = [];
  private readonly runBound = () => this.run();

  constructor(
    private readonly init: WorkerInit,
    private readonly main: Channel,
  ) {
    this.plan = init.plan;
    this.worker = init.worker;
    this.peers = init.peers;
    this.boltByTask = new Array(this.plan.tasks.length);
    this.spoutByTask = new Array(this.plan.tasks.length);
    this.marker = new CallMarker(init.running, init.worker);
  }

  async start(): Promise<void> {
    const { plan } = this;
    const cfg = plan.spec.config;
    const taskWorker = plan.tasks.map((t) => t.worker);
    const self = this;
    this.transfer = new Transfer(
      this.worker,
      taskWorker,
      this.peers,
      cfg.batchSize,
      cfg.batchLingerMs,
      cfg.credits,
      {
        enqueue(task, batch, fromWorker) {
          self.boltByTask[task]?.enqueue({ tuples: batch, decode: null, fromWorker, at: performance.now() });
          self.schedule();
        },
        localBatches(task) {
          return self.boltByTask[task]?.localBatches() ?? 0;
        },
        applyAcks(task, acks, fails) {
          self.spoutByTask[task]?.applyAcks(acks, fails);
        },
      },
      () => this.schedule(),
      (srcTask, dstTask, stream, count, cause) => {
        const ex = this.boltByTask[srcTask] ?? this.spoutByTask[srcTask];
        if (!ex) return;
        ex.stats.dropped += count;
        ex.stats.droppedUncloneable += count;
        ex.stats.errors++;
        // The consumer by component and task index, as logs and metrics name tasks (not global ids).
        const dst = plan.tasks[dstTask];
        const to = dst ? `"${dst.componentId}" task ${dst.taskIndex}` : `task ${dstTask}`;
        const err = new Error(`${count} tuple(s) on stream "${stream}" to ${to} hold values that cannot be copied to another thread: ${cause.message}`);
        this.errorReporter(ex.context.logger, ex.stats)(err, 'transfer');
      },
      cfg.batchBytes,
    );
    const emitter = new Emitter(this.transfer, new EdgeIds());
    const nodes = new Map(plan.spec.components.map((c) => [c.id, c]));
    const definitions = new Map<string, unknown>();

    for (const placement of plan.tasks) {
      if (placement.worker !== this.worker) continue;
      const node = nodes.get(placement.componentId)!;
      const step = { name: 'load' };
      this.main.postMessage({ k: 'starting', what: `loading "${node.id}" (task ${placement.taskIndex})` });
      try {
        await this.startTask(placement, node, definitions, emitter, step);
      } catch (err) {
        throw new ComponentStartError(node.id, placement.taskIndex, step.name, err);
      }
    }

    // Local bolts without executeBatch are called directly: a tuple that stays in its thread is a
    // function call. Batch bolts keep their batches.
    for (const b of this.bolts) if (!b.bolt.executeBatch) this.transfer.direct[b.taskId] = b;
    this.expandTargets();

    for (let w = 0; w < this.peers.length; w++) this.listenPeer(w, this.peers[w] ?? null);
    const sweepEvery = Math.max(50, Math.min(1000, cfg.messageTimeoutMs / 4));
    this.timers.push(
      setInterval(() => {
        const now = performance.now();
        for (const s of this.spouts) s.sweepTimeouts(now);
      }, sweepEvery),
      setInterval(() => {
        const now = performance.now();
        this.capacity.update(this.allStats(), now);
        for (const log of this.errorLogs.values()) log.tick();
        this.warnStuck(now);
      }, 1000),
    );
    // Every thread publishes its load (for qitian top and the metrics too), whether or not it has
    // load-aware edges of its own.
    const balancer = new Balancer(this.init.loads, this.worker, this.balances);
    this.timers.push(setInterval(() => balancer.sample(), BALANCE_INTERVAL_MS));
    if (cfg.stateSnapshotIntervalMs > 0) {
      // A first copy as the bolts start (what they restored, or empty), so that a thread dying
      // before the first interval is said to restart from it, not silently.
      this.copyStates();
      this.timers.push(setInterval(() => this.copyStates(), cfg.stateSnapshotIntervalMs));
    }
    this.capacity.update(this.allStats(), performance.now());
    this.metrics = new ThreadMetrics(this.worker, { topology: plan.spec.name }, () => this.allStats(), balancer);
    this.main.postMessage({ k: 'ready' });
  }

  /** Creates one task's component and executor; `step` names what it is doing, for errors. */
  private async startTask(
    placement: TaskPlacement,
    node: ComponentNode,
    definitions: Map<string, unknown>,
    emitter: Emitter,
    step: { name: string },
  ): Promise<void> {
    const { plan } = this;
    const cfg = plan.spec.config;
    if (!definitions.has(node.id)) definitions.set(node.id, await loadDefinition(node.ref, node.id));
    const def = definitions.get(node.id) as SpoutDefinition | BoltDefinition;
    const seed = this.init.stats.find((s) => s.taskId === placement.taskId);
    const stats = seed ? { ...seed } : newStats(placement.taskId, node.id, node.kind, placement.taskIndex);
    const logger = this.taskLogger(node.id, placement.taskIndex);
    const ctx = new TaskContext(plan, node, placement.taskId, placement.taskIndex, logger, stats, cfg.acking);
    ctx.resumed = this.init.resumed;
    ctx.attempt = this.init.generation;
    ctx.runStartedAt = this.init.runStartedAt;
    ctx.stateKept = this.init.stateKept;
    step.name = 'custom grouping';
    const onError = this.errorReporter(logger, stats);
    const customs = await this.customGroupings(node, stats, onError, step);
    step.name = 'input filter';
    const filters = await this.inputFilters(node, definitions, stats, onError);
    const routes = buildRoutes(plan, placement.taskId, this.worker, customs, filters);
    for (const r of routes.values()) for (const e of r.edges) if (e.balance !== null) this.balances.push(e.balance);
    step.name = 'create';
    if (def.kind === 'spout') {
      const spout = (def as SpoutDefinition<any>).create(node.config as never) as Spout;
      const taskId = placement.taskId;
      ctx.restoredCheckpoint = this.init.checkpoints[taskId];
      ctx.saveCheckpoint = (position) => {
        try {
          this.main.postMessage({ k: 'checkpoint', task: taskId, position, madeAt: Date.now() });
        } catch (err) {
          // Alone, a DataCloneError says "()=>1 could not be cloned" and no more.
          throw new TypeError(`saveCheckpoint: a position must be plain data, it is copied to the main thread: ${(err as Error).message}`);
        }
      };
      const ex = new SpoutExecutor(
        taskId,
        spout,
        ctx,
        stats,
        routes,
        emitter,
        {
          reliable: cfg.acking,
          maxPending: cfg.maxSpoutPending,
          timeoutMs: cfg.messageTimeoutMs,
          maxRetries: cfg.maxRetries,
          batchSize: cfg.batchSize,
          generation: this.init.generation,
          clock: this.clock,
          marker: this.marker,
        },
        () => this.schedule(),
        (ended, quiet) => this.main.postMessage({ k: 'spout', task: taskId, ended, quiet }),
        onError,
      );
      step.name = 'open';
      this.main.postMessage({ k: 'starting', what: `open() of spout "${node.id}" (task ${placement.taskIndex})` });
      await spout.open?.(ctx, ex);
      this.spouts.push(ex);
      this.spoutByTask[taskId] = ex;
    } else {
      ctx.restoredStates = this.init.states[placement.taskId];
      if (ctx.restoredStates)
        logger.info(`keyed state restored (${this.init.generation > 0 ? 'from the last copy before the thread restart' : 'from the state file'})`, {
          states: Object.keys(ctx.restoredStates),
        });
      const bolt = (def as BoltDefinition<any>).create(node.config as never) as Bolt;
      const ex = new BoltExecutor(
        placement.taskId,
        bolt,
        ctx,
        stats,
        node.kind === 'sink' ? 'sink' : 'bolt',
        routes,
        emitter,
        this.transfer,
        node.autoAck,
        cfg.acking,
        onError,
        () => this.schedule(),
        cfg.batchSize,
        cfg.latencySampling,
        this.clock,
        this.marker,
      );
      ex.holdAcks = cfg.stateAcks === 'after-copy';
      step.name = 'prepare';
      this.main.postMessage({ k: 'starting', what: `prepare() of ${node.kind} "${node.id}" (task ${placement.taskIndex})` });
      await bolt.prepare?.(ctx, ex);
      this.bolts.push(ex);
      this.boltByTask[placement.taskId] = ex;
      if (node.tickMs) this.startTicks(ex, node);
    }
  }

  /**
   * An executor that calls local bolts directly is blocked by whatever those bolts send to, so its
   * targets for backpressure are the transitive closure through direct calls; the bolts it calls
   * stay in it too, since one that cannot take a call now (an async execute) queues the tuple.
   */
  private expandTargets(): void {
    const closure = (start: readonly number[]): number[] => {
      const out = new Set<number>();
      const stack = [...start];
      while (stack.length > 0) {
        const t = stack.pop()!;
        if (out.has(t)) continue;
        out.add(t);
        const b = this.transfer.direct[t] ? this.boltByTask[t] : undefined;
        if (b) stack.push(...b.directTargets);
      }
      return [...out];
    };
    for (const b of this.bolts) b.targets = closure(b.directTargets);
    for (const s of this.spouts) s.targets = closure(s.directTargets);
  }

  private startTicks(ex: BoltExecutor, node: ComponentNode): void {
    const src = new SourceStream('__system', -1, TICK_STREAM, []);
    const timer = setInterval(() => {
      // A tick waits behind queued input; skip it rather than pile ticks up under load.
      if (ex.queued() > this.plan.spec.config.credits) return;
      // Settled from the start: a tick is not input, so its ack or fail is not counted.
      const tick = new TupleImpl([], src, [], 0, 0);
      tick.state = STATE_ACKED;
      ex.enqueue({ tuples: [tick], decode: null, fromWorker: -1, at: performance.now() });
      this.schedule();
    }, node.tickMs);
    this.timers.push(timer);
    this.tickTimers.set(ex, timer);
  }

  /**
   * The custom groupings of this component's streams, by edge. One that throws sends the copy
   * nowhere (dropped, reason unrouted) and the error is the sending task's: counted and logged
   * with the edge. The copy's tuple tree fails (GROUPING_FAILED), so a reliable spout replays it,
   * as after a bolt that throws (maxRetries bounds a grouping that always throws on a tuple).
   */
  private async customGroupings(
    node: ComponentNode,
    stats: ExecutorStats,
    onError: (err: unknown, where: string) => void,
    step: { name: string },
  ): Promise<Map<string, CustomGrouping>> {
    const out = new Map<string, CustomGrouping>();
    for (const s of this.plan.spec.streams) {
      if (s.from !== node.id || s.grouping.type !== 'custom' || !s.grouping.custom) continue;
      const where = `custom grouping of stream "${s.grouping.stream}" ${s.from} -> ${s.to}`;
      // A factory or prepare that throws fails the start: the step names the edge, since a
      // component may have several.
      step.name = where;
      const mod = await importModule(s.grouping.custom.ref.url);
      const factory = mod[s.grouping.custom.ref.export] as CustomGroupingFactory;
      if (typeof factory !== 'function') throw new Error(`custom grouping module ${s.grouping.custom.ref.url} does not export a factory function`);
      const g = factory(s.grouping.custom.args);
      g.prepare(this.plan.componentTasks[s.to]!, node.outputs[s.grouping.stream] ?? []);
      out.set(edgeKey(s.from, s.to, s.grouping.stream), {
        prepare: () => {},
        chooseTasks: (values) => {
          try {
            return g.chooseTasks(values);
          } catch (err) {
            stats.errors++;
            onError(err, where);
            return GROUPING_FAILED as number[];
          }
        },
      });
    }
    return out;
  }

  /**
   * The filters this component's consumers ask to run at the sender (BoltDefinition.inputFilter),
   * by edge. Consumers in other threads are loaded here too, only to ask. A filter that throws
   * lets the tuple through, and the error is the sending task's: counted and logged.
   */
  private async inputFilters(
    node: ComponentNode,
    definitions: Map<string, unknown>,
    stats: ExecutorStats,
    onError: (err: unknown, where: string) => void,
  ): Promise<Map<string, InputFilter>> {
    const out = new Map<string, InputFilter>();
    for (const s of this.plan.spec.streams) {
      if (s.from !== node.id || s.grouping.type === 'direct') continue;
      const consumer = this.plan.spec.components.find((c) => c.id === s.to)!;
      if (!definitions.has(consumer.id)) definitions.set(consumer.id, await loadDefinition(consumer.ref, consumer.id));
      const def = definitions.get(consumer.id) as BoltDefinition;
      if (!def.inputFilter) continue;
      const sent = node.outputs[s.grouping.stream] ?? [];
      const fields = s.select ?? sent;
      const filter = def.inputFilter(consumer.config as never, {
        from: node.id,
        stream: s.grouping.stream,
        fields,
        indexOf: (f) => (fields.includes(f) ? sent.indexOf(f) : -1),
        grouping: { type: s.grouping.type, fields: s.grouping.fields ?? [] },
        parallelism: consumer.parallelism,
      });
      if (!filter) continue;
      const where = `input filter of "${s.to}" on stream "${s.grouping.stream}"`;
      out.set(edgeKey(s.from, s.to, s.grouping.stream), (values) => {
        try {
          return filter(values);
        } catch (err) {
          stats.errors++;
          onError(err, where);
          return true;
        }
      });
    }
    return out;
  }

  /** Handles the messages waiting on peer ports now, without a turn of the event loop. */
  private receivePending(): boolean {
    let any = false;
    for (let w = 0; w < this.peers.length; w++) {
      const port = this.peers[w];
      if (!port) continue;
      for (let i = 0; i < MAX_RECEIVED_AT_ONCE; i++) {
        const m = receiveMessageOnPort(port);
        if (m === undefined) break;
        this.onPeer(w, m.message as PeerMessage);
        any = true;
      }
    }
    return any;
  }

  private listenPeer(w: number, port: MessagePort | null): void {
    if (!port) return;
    port.on('message', (msg: PeerMessage) => {
      if (this.peers[w] !== port) return; // a replaced peer's last messages
      this.onPeer(w, msg);
    });
  }

  private onPeer(from: number, msg: PeerMessage): void {
    switch (msg.k) {
      case 'B': {
        this.transfer.received(from);
        const ex = this.boltByTask[msg.to];
        if (!ex) return;
        const src = this.sourceStream(msg.from, msg.stream, msg.to);
        const transfer = this.transfer;
        ex.enqueue({ tuples: null, decode: () => transfer.decode(msg, src), fromWorker: from, at: performance.now() });
        this.schedule();
        return;
      }
      case 'A':
        this.transfer.received(from);
        this.spoutByTask[msg.to]?.applyAcks(msg.acks, msg.fails);
        return;
      case 'C':
        this.transfer.addCredits(msg.credits);
        return;
    }
  }

  /**
   * The source of tuples that task `task` sent on `stream` to task `to` from another thread:
   * its fields are those the stream's `select` kept for the consumer, or all of them.
   */
  private sourceStream(task: number, stream: string, to: number): SourceStream {
    const consumer = this.plan.tasks[to]!.componentId;
    const key = `${task}:${stream}:${consumer}`;
    let s = this.sources.get(key);
    if (!s) {
      const comp = this.plan.tasks[task]!.componentId;
      const node = this.plan.spec.components.find((c) => c.id === comp)!;
      const edge = this.plan.spec.streams.find((e) => e.from === comp && e.to === consumer && e.grouping.stream === stream);
      s = new SourceStream(comp, task, stream, edge?.select ?? node.outputs[stream] ?? []);
      this.sources.set(key, s);
    }
    return s;
  }

  async control(msg: ControlMessage): Promise<void> {
    switch (msg.k) {
      case 'start':
        for (const s of this.spouts) s.start(msg.active);
        this.schedule();
        return;
      case 'activate':
        for (const s of this.spouts) s.activate();
        this.schedule();
        return;
      case 'deactivate':
        for (const s of this.spouts) s.deactivate();
        return;
      case 'drain':
        for (const b of this.bolts) {
          try {
            const marked = this.marker.enter(b.taskId);
            try {
              b.drain();
            } finally {
              this.marker.restore(marked);
            }
          } catch (err) {
            b.stats.errors++;
            this.errorReporter(b.context.logger, b.stats)(err, 'drain');
          }
        }
        this.schedule();
        return;
      case 'finish': {
        const set = new Set(msg.components);
        for (const b of this.bolts) {
          if (!set.has(b.context.componentId)) continue;
          // A finished bolt has emitted its final results: no ticks after that.
          const tick = this.tickTimers.get(b);
          if (tick) clearInterval(tick);
          try {
            // Marked while its synchronous part runs: a finish() that ends the thread is named.
            const marked = this.marker.enter(b.taskId);
            const finishing = b.finish({ stopped: msg.stopped });
            this.marker.restore(marked);
            await finishing;
          } catch (err) {
            b.stats.errors++;
            this.errorReporter(b.context.logger, b.stats)(err, 'finish');
          }
        }
        this.transfer.flushAll();
        this.main.postMessage({ k: 'finished', id: msg.id });
        return;
      }
      case 'probe': {
        this.transfer.flushAll();
        const busy = this.bolts.some((b) => b.busy()) || this.spouts.some((s) => s.busy()) || !this.transfer.idle();
        this.main.postMessage({ k: 'probed', id: msg.id, busy, sentTo: [...this.transfer.sentTo], recvFrom: [...this.transfer.recvFrom] });
        return;
      }
      case 'peer': {
        const old = this.peers[msg.worker];
        // Batches the dead thread sent and that still wait here: their credits go to no one.
        for (const b of this.bolts) b.forgetSender(msg.worker);
        this.transfer.replacePeer(msg.worker, msg.port);
        old?.close();
        this.listenPeer(msg.worker, msg.port);
        if (msg.failPending) for (const s of this.spouts) s.failAllPending();
        this.schedule();
        return;
      }
      case 'stats':
        this.main.postMessage({ k: 'stats', id: msg.id, stats: this.snapshot() });
        return;
      case 'metrics': {
        // The counters go along: the main thread starts a replacement from the last ones it has,
        // which must not be older than what it served.
        const stats = this.snapshot();
        this.main.postMessage({ k: 'metrics', id: msg.id, families: await this.metrics!.json(), stats });
        return;
      }
      case 'tap':
        this.startTap(msg.tap, msg.component, msg.stream, msg.sample, msg.limit);
        return;
      case 'untap':
        this.stopTap(msg.tap);
        return;
      case 'close': {
        for (const t of this.timers) clearInterval(t);
        if (this.tapTimer) clearInterval(this.tapTimer);
        this.metrics?.close();
        // Every component has finished: emits from here on reach nobody (dropped, counted, said).
        for (const b of this.bolts) b.closeRoutes();
        for (const s of this.spouts) s.closeRoutes();
        for (const b of this.bolts) {
          try {
            await b.cleanup();
          } catch (err) {
            b.stats.errors++;
            this.errorReporter(b.context.logger, b.stats)(err, 'cleanup');
          }
        }
        for (const s of this.spouts) {
          try {
            await s.close();
          } catch (err) {
            s.stats.errors++;
            this.errorReporter(s.context.logger, s.stats)(err, 'close');
          }
        }
        for (const log of this.errorLogs.values()) log.flush();
        this.transfer.flushAll();
        // The last copy of keyed state, for a state file: sent before 'closed', so it arrives first.
        this.copyStates();
        this.main.postMessage({ k: 'closed', stats: this.snapshot() });
        return;
      }
    }
  }

  private startTap(id: number, component: string, stream: string, sample: number, limit: number): void {
    for (const ex of [...this.spouts, ...this.bolts]) {
      if (ex.context.componentId !== component) continue;
      ex.taps = [...ex.taps, new Tap(id, component, ex.context.taskIndex, stream, sample, limit)];
    }
    this.tapTimer ??= setInterval(() => this.flushTaps(), TAP_FLUSH_MS);
  }

  private stopTap(id: number): void {
    this.flushTaps();
    let any = false;
    for (const ex of [...this.spouts, ...this.bolts]) {
      if (ex.taps.length === 0) continue;
      ex.taps = ex.taps.filter((t) => t.id !== id);
      if (ex.taps.length > 0) any = true;
    }
    if (!any && this.tapTimer) {
      clearInterval(this.tapTimer);
      this.tapTimer = undefined;
    }
  }

  /** Sends what every tap buffered, one message per tap. */
  private flushTaps(): void {
    const byTap = new Map<number, { lines: string[]; skipped: number }>();
    for (const ex of [...this.spouts, ...this.bolts]) {
      for (const t of ex.taps) {
        let b = byTap.get(t.id);
        if (!b) byTap.set(t.id, (b = { lines: [], skipped: 0 }));
        for (const l of t.take()) b.lines.push(l);
        b.skipped += t.skipped;
        t.skipped = 0;
      }
    }
    for (const [tap, b] of byTap) if (b.lines.length > 0 || b.skipped > 0) this.main.postMessage({ k: 'tapped', tap, lines: b.lines, skipped: b.skipped });
  }

  /**
   * Sends a copy of every bolt's keyed state to the main thread, which gives it to a replacement
   * if this thread dies. With stateAcks after-copy, the acks held since the last copy go now:
   * what they acked is in the copy. Otherwise what changed after the last copy is lost.
   */
  private copyStates(): void {
    for (const b of this.bolts) {
      const ctx = b.context;
      if (ctx.states.size === 0) continue;
      try {
        const states: Record<string, KeyGroupSnapshot<unknown>> = {};
        for (const [name, state] of ctx.states) states[name] = state.snapshot();
        // madeAt: the wall clock, which the main thread shares (performance.now() has another origin here).
        this.main.postMessage({ k: 'state', task: b.taskId, states, madeAt: Date.now() });
        if (this.stateCopyFailing.delete(b.taskId)) ctx.logger.info('keyed state copy works again');
      } catch (err) {
        // A value structured clone cannot copy (a function, a symbol, a WeakMap...): the last good
        // copy stands. Never fatal to the thread, which would lose every task's state. Counted
        // every time, said once until a copy works again (copies come every few seconds).
        b.stats.errors++;
        if (!this.stateCopyFailing.has(b.taskId)) {
          this.stateCopyFailing.add(b.taskId);
          this.errorReporter(ctx.logger, b.stats)(err, 'keyed state copy (said once until it works again; the last good copy stands)');
        }
      }
      // Released after a failed copy too: held for ever, they would time their trees out again and
      // again. The error above says that the state is not being copied.
      b.releaseAcks();
    }
  }

  /**
   * Says, every messageTimeout (at least a second), which bolts have had an async execute running
   * longer than a tuple may take: one that never settles holds its task's input, and would
   * otherwise only show as a run that goes quiet.
   */
  private warnStuck(now: number): void {
    const warnAfter = Math.max(1000, this.plan.spec.config.messageTimeoutMs);
    for (const b of this.bolts) {
      const ms = b.stuckFor(now);
      const warned = this.stuckWarned.get(b) ?? 0;
      if (ms < warnAfter) {
        if (warned > 0) this.stuckWarned.delete(b);
        continue;
      }
      if (ms - warned < warnAfter) continue;
      this.stuckWarned.set(b, ms);
      b.context.logger.warn(
        `an async execute has not settled for ${Math.round(ms / 1000)}s (messageTimeout is ${warnAfter / 1000}s); this task takes no more input until it does`,
      );
    }
  }

  private allStats(): ExecutorStats[] {
    return [...this.spouts.map((s) => s.stats), ...this.bolts.map((b) => b.stats)];
  }

  private snapshot(): ExecutorStats[] {
    // A task blocked right now has its blocked time so far counted, not only once it unblocks.
    const now = performance.now();
    for (const ex of [...this.spouts, ...this.bolts]) {
      if (ex.blockedSince === 0) continue;
      addBlocked(ex, now);
      ex.blockedSince = now;
    }
    return [...this.spouts.map((s) => s.stats), ...this.bolts.map((b) => b.stats)];
  }

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.runBound);
  }

  /** One scheduler turn: run every runnable, unblocked executor until idle or the slice ends. */
  private run(): void {
    this.scheduled = false;
    const end = performance.now() + SLICE_MS;
    let more = false;
    const marker = this.marker;
    for (;;) {
      let progress = false;
      for (const b of this.bolts) {
        if (!b.runnable() || this.blocked(b)) continue;
        marker.enter(b.taskId);
        b.processOne();
        progress = true;
      }
      for (const s of this.spouts) {
        if (!s.runnable() || this.blocked(s)) continue;
        marker.enter(s.taskId);
        s.poll();
        progress = true;
      }
      marker.leave();
      // What peers sent since the turn began (credits, batches) is taken now, not when the turn
      // ends: a sender waiting for credit would otherwise idle, and batches for this thread's
      // tasks would wait up to a turn with their credits. (2 threads: +2.5-5%, 7 pairs of runs.)
      if (this.receivePending()) progress = true;
      if (!progress) break;
      if (performance.now() > end) {
        more = true;
        break;
      }
    }
    if (more) {
      this.transfer.flushAcks();
      this.transfer.flushCredits();
      this.schedule();
    } else {
      // Nothing left to run now: send partial batches instead of waiting for the linger timer.
      this.transfer.flushAll();
    }
  }

  private blocked(ex: SpoutExecutor | BoltExecutor): boolean {
    const targets = ex.targets;
    for (let i = 0; i < targets.length; i++) {
      if (this.transfer.congested(targets[i]!)) {
        if (ex.blockedSince === 0) {
          ex.blockedSince = performance.now();
          ex.blockedOn = this.plan.tasks[targets[i]!]!.componentId;
        }
        return true;
      }
    }
    if (ex.blockedSince !== 0) {
      addBlocked(ex, performance.now());
      ex.blockedSince = 0;
    }
    return false;
  }

  private taskLogger(component: string, taskIndex: number): Logger {
    const post = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) =>
      this.main.postMessage({ k: 'log', level, msg, fields: { component, task: taskIndex, ...fields } });
    return {
      debug: (m, f) => post('debug', m, f),
      info: (m, f) => post('info', m, f),
      warn: (m, f) => post('warn', m, f),
      error: (m, f) => post('error', m, f),
    };
  }

  private errorReporter(logger: Logger, stats: ExecutorStats): (err: unknown, where: string) => void {
    // One log per task, so that all of its errors share the rate limit.
    let log = this.errorLogs.get(stats);
    if (!log) this.errorLogs.set(stats, (log = new ErrorLog(logger, stats)));
    return log.report;
  }
}

/** Adds the time `ex` has been blocked until `now` to its backpressure counters. */
function addBlocked(ex: SpoutExecutor | BoltExecutor, now: number): void {
  const ms = now - ex.blockedSince;
  ex.stats.backpressureMs += ms;
  const by = ex.stats.backpressureMsByTarget;
  by[ex.blockedOn] = (by[ex.blockedOn] ?? 0) + ms;
}

/**
 * Capacity as Storm UI means it: the fraction of the last ten seconds or so a task was busy.
 * Fed a snapshot of busy times each second.
 */
class CapacityWindow {
  private readonly samples: { at: number; busy: Map<ExecutorStats, number> }[] = [];

  update(stats: readonly ExecutorStats[], now: number): void {
    this.samples.push({ at: now, busy: new Map(stats.map((s) => [s, s.busyMs])) });
    if (this.samples.length > CAPACITY_WINDOW_SAMPLES) this.samples.shift();
    const first = this.samples[0]!;
    const span = now - first.at;
    for (const s of stats) {
      const before = first.busy.get(s);
      s.capacity = span > 0 && before !== undefined ? Math.min(1, Math.max(0, (s.busyMs - before) / span)) : 0;
    }
  }
}

async function loadDefinition(ref: ModuleRef, componentId: string): Promise<unknown> {
  const mod = await importModule(ref.url);
  const def = mod[ref.export];
  if (!isComponentDefinition(def)) throw new Error(`component "${componentId}": ${ref.url} has no component definition export "${ref.export}"`);
  return def;
}

/** A task's component could not be loaded, created, opened or prepared. */
export class ComponentStartError extends Error {
  override readonly name = 'ComponentStartError';
  constructor(
    readonly component: string,
    readonly taskIndex: number,
    readonly step: string,
    cause: unknown,
  ) {
    super(`component "${component}" (task ${taskIndex}): ${step} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
