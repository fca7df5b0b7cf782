import type { Spout, SpoutCollector, SpoutContext, SpoutStatus } from '@qitian/api';
import { CheckpointThrottle } from '../../internal/checkpoint.js';
import { SequenceLedger } from '../../internal/sequence-ledger.js';
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
  /** Emitted, pending and failed sequence numbers. */
  private ledger = new SequenceLedger(0, false);
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
    return this.ledger.seq;
  }

  open(context: SpoutContext<GeneratorSpoutConfig>, collector: SpoutCollector): void {
    this.ctx = context;
    this.collector = collector;
    this.reliable = context.reliable;
    this.maker = new LineMaker(this.config.format, this.config.seed, context.taskIndex);
    const restored = context.restoredCheckpoint;
    let start = 0;
    if (restored !== undefined && restored !== null) {
      if (isCheckpoint(restored)) start = restored.next;
      else context.logger.warn('generator: ignoring a checkpoint it does not understand', { checkpoint: restored });
    }
    this.ledger = new SequenceLedger(start, this.reliable);
    this.saved = start;
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
    if (this.ledger.replaying) {
      while (n < budget) {
        const i = this.ledger.nextReplay();
        if (i < 0) break;
        collector.emit([maker.line(i)], i);
        n++;
      }
    }
    let seq = this.ledger.seq;
    let fresh = budget - n;
    const count = this.config.count;
    if (count > 0 && seq + fresh > count) fresh = Math.max(0, count - seq);
    const end = seq + fresh;
    if (this.reliable) {
      const ledger = this.ledger;
      for (; seq < end; seq++) {
        ledger.track(seq);
        collector.emit([maker.line(seq)], seq);
      }
    } else {
      for (; seq < end; seq++) collector.emit([maker.line(seq)]);
    }
    n += fresh;
    if (seq !== this.ledger.seq) {
      this.ledger.seq = seq;
      if (!this.reliable) this.checkpoints!.touch();
    }
    if (this.ratePerMs > 0) this.tokens -= n;
    // Replays left over means the budget ran out: the caller's max, or the rate.
    if (this.ledger.replaying) return budget < max ? this.idleUntilToken() : 'more';
    if (count > 0 && seq >= count) return 'end';
    if (budget < max) return this.idleUntilToken();
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
    const next = this.ledger.lowest();
    if (next === this.saved) return;
    this.saved = next;
    this.ctx.saveCheckpoint({ next } satisfies GeneratorCheckpoint);
  }
}
