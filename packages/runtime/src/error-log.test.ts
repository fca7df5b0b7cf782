/** The per-task error log: rate-limited, and what it held back is always said. */
import type { Logger } from '@qitian/api';
import { afterEach, expect, test, vi } from 'vitest';
import { ErrorLog, REPORTED } from './error-log.js';
import { newStats } from './stats.js';

function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => lines.push(`${level} ${msg}`);
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

afterEach(() => vi.useRealTimers());

test('five errors a second are logged; the rest are summed up on the next tick and on flush', () => {
  vi.useFakeTimers({ now: 10_000 });
  const { logger, lines } = recorder();
  const log = new ErrorLog(logger, newStats(0, 'b', 'bolt'));
  for (let i = 0; i < 12; i++) log.report(new Error(`bad ${i}`), 'execute');
  expect(lines).toEqual([
    'error execute failed: bad 0',
    'error execute failed: bad 1',
    'error execute failed: bad 2',
    'error execute failed: bad 3',
    'error execute failed: bad 4',
  ]);
  log.tick(); // the second is not over yet
  expect(lines).toHaveLength(5);
  vi.advanceTimersByTime(1000);
  log.tick();
  // At the errors' own level: with --log-level error an operator still learns that more were held back.
  expect(lines.at(-1)).toBe('error 7 more errors not logged');
  log.report(new Error('again'), 'execute');
  log.report('gone', REPORTED);
  expect(lines.slice(-2)).toEqual(['error execute failed: again', 'error gone']);
  for (let i = 0; i < 5; i++) log.report(new Error('x'), 'execute');
  log.flush(); // the end of the run: said even though the second is not over
  expect(lines.at(-1)).toBe('error 2 more errors not logged');
  log.flush();
  expect(lines.at(-1)).toBe('error 2 more errors not logged');
  // 5 + the sum + again, gone + 3 of the last 5 + the sum.
  expect(lines).toHaveLength(12);
});
