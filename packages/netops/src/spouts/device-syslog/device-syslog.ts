import type { Spout, SpoutCollector, SpoutContext, SpoutStatus } from '@qitian/api';
import { CheckpointThrottle } from '../../internal/checkpoint.js';
import { SequenceLedger } from '../../internal/sequence-ledger.js';
import { DeviceSyslogModel } from './model.js';
import { type DeviceSyslogOptions, resolveStart } from './options.js';
import type { DeviceSyslogSpoutConfig } from './spec.js';

/** What the spout saves as its checkpoint. */
export interface DeviceSyslogCheckpoint {
  /** The lowest line number not yet acked: a restarted task starts there. */
  readonly next: number;
  /** The simulated start, ms since the epoch, so that a restart keeps the timeline of `start: now`. */
  readonly start: number;
}

function isCheckpoint(v: unknown): v is DeviceSyslogCheckpoint {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return typeof c.next === 'number' && Number.isSafeInteger(c.next) && c.next >= 0 && typeof c.start === 'number' && Number.isFinite(c.start);
}

/** The model's options from the spout's config. */
export function modelOptions(config: DeviceSyslogSpoutConfig, startMs?: number): DeviceSyslogOptions {
  return {
    seed: config.seed,
    devices: config.devices,
    start: startMs ?? config.start,
    speedup: config.speedup,
    rate: config.rate,
    baseRate: config.baseRate,
    rateSteps: config.rateSteps as DeviceSyslogOptions['rateSteps'],
    faults: config.faults as DeviceSyslogOptions['faults'],
  };
}

/** At most this much real time of backlog is caught up at once when the spout was not asked for a while. */
const MAX_LAG_MS = 50;

/**
 * Emits the lines of a `DeviceSyslogModel`. Paced (`rate` > 0): line i is due when the real time
 * since the origin, times `speedup`, reaches its simulated offset; the origin moves forward when
 * the spout falls more than 50 ms behind, like a token bucket's burst limit. Unpaced: every
 * `next(max)` is filled. Replays of failed lines go out first and are not paced.
 */
export class DeviceSyslogSpout implements Spout<DeviceSyslogSpoutConfig> {
  private ctx!: SpoutContext<DeviceSyslogSpoutConfig>;
  private collector!: SpoutCollector;
  private model!: DeviceSyslogModel;
  private reliable = false;
  /** Emitted, pending and failed sequence numbers. */
  private ledger = new SequenceLedger(0, false);
  private checkpoints: CheckpointThrottle | undefined;
  private saved = -1;
  private waiting = false;
  private faultCounted: Float64Array = new Float64Array(0);

  private readonly paced: boolean;
  private readonly speedup: number;
  /** performance.now() at which the simulated offset 0 is due. */
  private origin = 0;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly onWakeTimer = (): void => {
    this.wakeTimer = undefined;
    this.notify();
  };

  constructor(private readonly config: DeviceSyslogSpoutConfig) {
    // Check the lists and device names now, so that a bad fault fails the topology when it is built.
    new DeviceSyslogModel(modelOptions(config, 0));
    this.paced = config.rate > 0;
    this.speedup = config.speedup;
  }

  /** The next new line number this task will emit. */
  get nextSeq(): number {
    return this.ledger.seq;
  }

  /** The model behind the spout (after open). */
  get lines(): DeviceSyslogModel {
    return this.model;
  }

  open(context: SpoutContext<DeviceSyslogSpoutConfig>, collector: SpoutCollector): void {
    this.ctx = context;
    this.collector = collector;
    this.reliable = context.reliable;
    let startMs = resolveStart(this.config.start);
    let start = 0;
    const restored = context.restoredCheckpoint;
    if (restored !== undefined && restored !== null) {
      if (isCheckpoint(restored)) {
        start = restored.next;
        startMs = restored.start;
      } else context.logger.warn('device-syslog: ignoring a checkpoint it does not understand', { checkpoint: restored });
    }
    this.model = new DeviceSyslogModel(modelOptions(this.config, startMs), context.taskIndex);
    this.faultCounted = new Float64Array(this.model.faults.length);
    this.ledger = new SequenceLedger(start, this.reliable);
    this.saved = start;
    this.checkpoints = new CheckpointThrottle(() => this.saveCheckpoint());
    // Line `seq` is due now.
    this.origin = performance.now() - this.model.schedule.offsetOf(this.ledger.seq) / this.speedup;
  }

  next(max: number): SpoutStatus {
    const collector = this.collector;
    const model = this.model;
    let n = 0;
    if (this.ledger.replaying) {
      while (n < max) {
        const i = this.ledger.nextReplay();
        if (i < 0) break;
        const line = model.line(i);
        collector.emit([line, model.peer, model.time], i);
        n++;
      }
    }
    let seq = this.ledger.seq;
    let fresh = max - n;
    const count = this.config.count;
    if (count > 0 && seq + fresh > count) fresh = Math.max(0, count - seq);
    let paceLimited = false;
    if (this.paced && fresh > 0) {
      const due = this.dueLines(seq);
      if (due < fresh) {
        fresh = due;
        paceLimited = true;
      }
    }
    const end = seq + fresh;
    if (this.reliable) {
      const ledger = this.ledger;
      for (; seq < end; seq++) {
        ledger.track(seq);
        const line = model.line(seq);
        collector.emit([line, model.peer, model.time], seq);
      }
    } else {
      for (; seq < end; seq++) {
        const line = model.line(seq);
        collector.emit([line, model.peer, model.time]);
      }
    }
    n += fresh;
    if (seq !== this.ledger.seq) {
      this.ledger.seq = seq;
      if (!this.reliable) this.checkpoints!.touch();
    }
    if (n > 0 && this.faultCounted.length > 0) this.countFaults();
    if (this.ledger.replaying) return 'more';
    if (count > 0 && seq >= count) return 'end';
    if (paceLimited) return this.idleUntilDue();
    return 'more';
  }

  ack(messageId: unknown): void {
    if (this.ledger.ack(messageId as number)) this.checkpoints!.touch();
  }

  fail(messageId: unknown): void {
    if (this.ledger.fail(messageId as number)) this.notify();
  }

  close(): void {
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.checkpoints?.close();
  }

  /** How many new lines from `seq` on are due now; moves the origin forward when too far behind. */
  private dueLines(seq: number): number {
    const now = performance.now();
    const schedule = this.model.schedule;
    const dueAt = this.origin + schedule.offsetOf(seq) / this.speedup;
    if (now - dueAt > MAX_LAG_MS) this.origin += now - dueAt - MAX_LAG_MS;
    return Math.max(0, schedule.linesBy((now - this.origin) * this.speedup) - seq);
  }

  private idleUntilDue(): SpoutStatus {
    this.waiting = true;
    if (this.wakeTimer === undefined) {
      const dueAt = this.origin + this.model.schedule.offsetOf(this.ledger.seq) / this.speedup;
      const ms = Math.min(1000, Math.max(1, Math.ceil(dueAt - performance.now())));
      this.wakeTimer = setTimeout(this.onWakeTimer, ms);
      this.wakeTimer.unref?.();
    }
    return 'idle';
  }

  private notify(): void {
    if (this.waiting) {
      this.waiting = false;
      this.ctx.wake();
    }
  }

  private countFaults(): void {
    const made = this.model.faultLines;
    const counted = this.faultCounted;
    for (let f = 0; f < counted.length; f++) {
      const delta = made[f]! - counted[f]!;
      if (delta > 0) {
        this.ctx.count('fault_lines', delta, this.model.faults[f]!.kind);
        counted[f] = made[f]!;
      }
    }
  }

  private saveCheckpoint(): void {
    const next = this.ledger.lowest();
    if (next === this.saved) return;
    this.saved = next;
    this.ctx.saveCheckpoint({ next, start: this.model.startMs } satisfies DeviceSyslogCheckpoint);
  }
}
