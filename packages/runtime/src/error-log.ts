import type { Logger } from '@qitian/api';
import type { ExecutorStats } from './stats.js';

/** Errors one task logs per second at most; the rest are counted and summed up in one line. */
const ERROR_LOGS_PER_SECOND = 5;

/** `where` of an error a component reported itself (collector.reportError): logged as it is. */
export const REPORTED = 'reportError';

/**
 * The error log of one task: rate-limited, so that a bolt failing on every tuple cannot flood the
 * log, with what was held back said within about a second and at the end of the run.
 */
export class ErrorLog {
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly stats: ExecutorStats,
  ) {}

  /** Logs `err`, which happened in `where` (execute, decode, finish... or REPORTED). */
  readonly report = (err: unknown, where: string): void => {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.flush();
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (++this.inWindow > ERROR_LOGS_PER_SECOND) {
      this.suppressed++;
      return;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    const text = where === REPORTED ? e.message : `${where} failed: ${e.message}`;
    this.logger.error(text, { stack: e.stack?.split('\n').slice(1, 4).join('\n') });
  };

  /** Says how many errors were held back since the last time, if any. */
  flush(): void {
    if (this.suppressed === 0) return;
    // Error, as the lines it stands for: --log-level error must not hide that there were more.
    this.logger.error(`${this.suppressed} more error${this.suppressed === 1 ? '' : 's'} not logged`, { errors: this.stats.errors });
    this.suppressed = 0;
  }

  /** Flushes once the current second is over: called on a timer, so that a burst is summed up even if no error follows it. */
  tick(): void {
    if (Date.now() - this.windowStart >= 1000) this.flush();
  }
}
