import type { Spout, SpoutCollector, SpoutContext, SpoutStatus } from '@qitian/api';
import { CheckpointThrottle } from '../../internal/checkpoint.js';
import { streamKey, SyslogLines, WordsLines } from './lines.js';
import type { GeneratorSpoutConfig } from './spec.js';

/** What the generator saves as its checkpoint. */
export interface GeneratorCheckpoint {
  /** The lowest sequence number not yet acked: a restarted task starts there. */
  readonly next: number;
}

const FORMAT_SYSLOG = 0;
const FORMAT_WORDS = 1;
const FORMAT_SEQUENCE = 2;

/** Makes line `i` of a task in a given format, the same every time it is asked. */
export class LineMaker {
  private readonly format: number;
  private readonly syslog: SyslogLines;
  private readonly words: WordsLines;

  constructor(format: GeneratorSpoutConfig['format'], seed: number, taskIndex: number) {
    this.format = format === 'syslog' ? FORMAT_SYSLOG : format === 'words' ? FORMAT_WORDS : FORMAT_SEQUENCE;
    const key = streamKey(seed, taskIndex);
    this.syslog = new SyslogLines(key, seed);
    this.words = new WordsLines(key, seed);
  }

  line(i: number): string {
    switch (this.format) {
      case FORMAT_SYSLOG:
        return this.syslog.line(i);
      case FORMAT_WORDS:
        return this.words.line(i);
      default:
        return `${i}`;
    }
  }
}

function isCheckpoint(v: unknown): v is GeneratorCheckpoint {
  if (typeof v !== 'object' || v === null) return false;
  const n = (v as Record<string, unknown>).next;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/**
 * Synthetic lines for tests and benchmarks. The hot path is one loop that makes a line and
 * emits it; nothing is allocated per line beyond the line and its values array.
 */
export class GeneratorSpout implements Spout<GeneratorSpoutConfig> {
  private ctx!: SpoutContext<GeneratorSpoutConfig>;
  private collector!: SpoutCollector;
  private maker!: LineMaker;
  private reliable = false;
  /** The next new sequence number. */
  private seq = 0;
  /** Emitted and not yet acked; insertion order is sequence order, so the first is the lowest. */
  private readonly pending = new Set<number>();
  private replay: number[] = [];
  private replayHead = 0;
  private checkpoints: CheckpointThrottle | undefined;
  private saved = -1;
  private waiting = false;

  // Token bucket.
  private readonly ratePerMs: number;
  private readonly burst: number;
  private tokens = 0;
  private lastRefill = 0;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly onWakeTimer = (): void => {
    this.wakeTimer = undefined;
    this.notify();
  };

  constructor(private readonly config: GeneratorSpoutConfig) {
    this.ratePerMs = config.rate / 1000;
    // Up to 50 ms worth of tuples at once (and at least one), so a late call catches up a little but never floods.
    this.burst = Math.max(1, config.rate / 20);
  }

  /** The next new sequence number this task will emit. */
  get nextSeq(): number {
    return this.seq;
  }

  open(context: SpoutContext<GeneratorSpoutConfig>, collector: SpoutCollector): void {
    this.ctx = context;
    this.collector = collector;
    this.reliable = context.reliable;
    this.maker = new LineMaker(this.config.format, this.config.seed, context.taskIndex);
    const restored = context.restoredCheckpoint;
    if (restored !== undefined && restored !== null) {
      if (isCheckpoint(restored)) this.seq = restored.next;
      else context.logger.warn('generator: ignoring a checkpoint it does not understand', { checkpoint: restored });
    }
    this.saved = this.seq;
    this.checkpoints = new CheckpointThrottle(() => this.saveCheckpoint());
    this.tokens = Math.min(1, this.burst);
    this.lastRefill = performance.now();
  }

  /** Line `i` of this task, as emitted (or re-emitted after a failure). */
  line(i: number): string {
    return this.maker.line(i);
  }

  next(max: number): SpoutStatus {
    let budget = max;
    if (this.ratePerMs > 0) {
      const now = performance.now();
      this.tokens = Math.min(this.burst, this.tokens + (now - this.lastRefill) * this.ratePerMs);
      this.lastRefill = now;
      const whole = Math.floor(this.tokens);
      if (whole < budget) budget = whole;
      if (budget === 0) return this.idleUntilToken();
    }
    const collector = this.collector;
    const maker = this.maker;
    let n = 0;
    if (this.replayHead < this.replay.length) {
      while (n < budget && this.replayHead < this.replay.length) {
        const i = this.replay[this.replayHead++]!;
        if (!this.pending.has(i)) continue; // acked after it failed
        collector.emit([maker.line(i)], i);
        n++;
      }
      if (this.replayHead === this.replay.length) {
        this.replay = [];
        this.replayHead = 0;
      }
    }
    let seq = this.seq;
    let fresh = budget - n;
    const count = this.config.count;
    if (count > 0 && seq + fresh > count) fresh = Math.max(0, count - seq);
    const end = seq + fresh;
    if (this.reliable) {
      const pending = this.pending;
      for (; seq < end; seq++) {
        pending.add(seq);
        collector.emit([maker.line(seq)], seq);
      }
    } else {
      for (; seq < end; seq++) collector.emit([maker.line(seq)]);
    }
    n += fresh;
    if (seq !== this.seq) {
      this.seq = seq;
      if (!this.reliable) this.checkpoints!.touch();
    }
    if (this.ratePerMs > 0) this.tokens -= n;
    // Replays left over means the budget ran out: the caller's max, or the rate.
    if (this.replayHead < this.replay.length) return budget < max ? this.idleUntilToken() : 'more';
    if (count > 0 && seq >= count) return 'end';
    if (budget < max) return this.idleUntilToken();
    return 'more';
  }

  ack(messageId: unknown): void {
    if (this.pending.delete(messageId as number)) this.checkpoints!.touch();
  }

  fail(messageId: unknown): void {
    const i = messageId as number;
    if (!this.pending.has(i)) return;
    this.replay.push(i);
    this.notify();
  }

  close(): void {
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.checkpoints?.close();
  }

  private idleUntilToken(): SpoutStatus {
    this.waiting = true;
    if (this.wakeTimer === undefined) {
      const ms = Math.max(1, Math.ceil((1 - (this.tokens % 1)) / this.ratePerMs));
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

  private saveCheckpoint(): void {
    let next = this.seq;
    if (this.reliable)
      for (const i of this.pending) {
        next = i;
        break;
      }
    if (next === this.saved) return;
    this.saved = next;
    this.ctx.saveCheckpoint({ next } satisfies GeneratorCheckpoint);
  }
}
