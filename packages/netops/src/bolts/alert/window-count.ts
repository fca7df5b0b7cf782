/**
 * One key's event counts per tumbling window, for the alert bolt's count strategies: the key's
 * newest window, the one before it, and older windows that late events may still complete (those
 * within `lateness` of the newest, and those the watermark has not passed). Kept as plain numbers so that it is keyed state as it is (copied between
 * threads, saved with --state-dir).
 */

/** One key's counts of one count strategy. */
export interface WindowCount {
  /** The newest window the key has events in. */
  start: number;
  count: number;
  /** The window before `start` (`start - size`), with 0 when the key had no events in it. */
  prevStart: number;
  prevCount: number;
  /** Fired in the newest window already. */
  fired: boolean;
  /**
   * Fired in the previous window already (a late event of that window may still complete its
   * threshold). Undefined in counters kept before this existed: read as false.
   */
  prevFired?: boolean;
  /**
   * Windows before the previous one still open (within `lateness`, or not yet passed by the
   * watermark): flat [start, count, fired (0 or 1)] triples, oldest first. Absent when there are none.
   */
  older?: number[];
}

/** countInWindow: counted in the key's newest window (possibly just moved on to). */
export const COUNTED = 0;
/** countInWindow: counted in an earlier window still open; see earlierThreshold. */
export const COUNTED_EARLIER = 1;
/** countInWindow: too late for any window still open: not counted. */
export const LATE = 2;

/**
 * Counts one event of the window starting at `start` (windows `size` long) into `c`, moving it on
 * to a newer window. An event of an earlier window counts there while that window is open: the
 * previous window always; an older one while its end is less than `lateness` before the start of
 * the key's newest window, or while it ends after `watermark` (the event time, over every upstream
 * task, before which windows are complete: see Watermark; -Infinity holds every window open,
 * +Infinity, the default, none). Returns COUNTED, COUNTED_EARLIER or LATE.
 */
export function countInWindow(c: WindowCount, start: number, size: number, lateness = 0, watermark = Number.POSITIVE_INFINITY): number {
  if (start === c.start) {
    c.count++;
    return COUNTED;
  }
  if (start > c.start) {
    const adjacent = c.start === start - size;
    keepOlder(c, start, size, lateness, watermark, adjacent);
    c.prevCount = adjacent ? c.count : 0;
    c.prevFired = adjacent && c.fired;
    c.prevStart = start - size;
    c.start = start;
    c.count = 1;
    c.fired = false;
    return COUNTED;
  }
  if (start === c.prevStart) {
    c.prevCount++;
    return COUNTED_EARLIER;
  }
  if (c.older !== undefined) dropClosed(c, size, lateness, watermark);
  const older = c.older;
  let at = 0;
  if (older !== undefined) {
    for (; at < older.length; at += 3) {
      const s = older[at]!;
      if (s === start) {
        older[at + 1]!++;
        return COUNTED_EARLIER;
      }
      if (s > start) break;
    }
  }
  // A window the key had no event in until now, still open: its first event.
  if (!isOpen(c.start, start, size, lateness, watermark)) return LATE;
  if (older === undefined) c.older = [start, 1, 0];
  else older.splice(at, 0, start, 1, 0);
  return COUNTED_EARLIER;
}

/** Whether the window starting at `s` is open to late events, for a key whose newest window starts at `newest`. */
function isOpen(newest: number, s: number, size: number, lateness: number, watermark: number): boolean {
  return newest - (s + size) < lateness || s + size > watermark;
}

/** On moving on to `start`: the windows that become older than the previous one, kept while open. */
function keepOlder(c: WindowCount, start: number, size: number, lateness: number, watermark: number, adjacent: boolean): void {
  const older = c.older ?? [];
  // The old previous window, and the old newest one unless it becomes the previous window now.
  if (isOpen(start, c.prevStart, size, lateness, watermark)) older.push(c.prevStart, c.prevCount, c.prevFired === true ? 1 : 0);
  if (!adjacent && isOpen(start, c.start, size, lateness, watermark)) older.push(c.start, c.count, c.fired ? 1 : 0);
  c.older = older.length > 0 ? older : undefined;
  dropClosed(c, size, lateness, watermark, start);
}

/** Drops the older windows that have closed, oldest first (openness only grows with a window's start). */
function dropClosed(c: WindowCount, size: number, lateness: number, watermark: number, newest = c.start): void {
  const older = c.older;
  if (older === undefined) return;
  let drop = 0;
  while (drop < older.length && !isOpen(newest, older[drop]!, size, lateness, watermark)) drop += 3;
  if (drop > 0) older.splice(0, drop);
  if (older.length === 0) c.older = undefined;
}

/**
 * After countInWindow counted an event in an earlier window (COUNTED_EARLIER): that window's
 * count when the event made it reach `threshold` for the first time, else -1. Events of one key
 * from several upstream tasks arrive interleaved, so a key's newest window can move on before
 * the last events of the one before arrive; without this, a burst that crosses the threshold
 * only with those would never fire.
 */
export function earlierThreshold(c: WindowCount, start: number, threshold: number): number {
  if (start === c.prevStart) {
    if (c.prevFired === true || c.prevCount < threshold) return -1;
    c.prevFired = true;
    return c.prevCount;
  }
  const older = c.older;
  if (older === undefined) return -1;
  for (let i = 0; i < older.length; i += 3) {
    if (older[i] !== start) continue;
    if (older[i + 2] === 1 || older[i + 1]! < threshold) return -1;
    older[i + 2] = 1;
    return older[i + 1]!;
  }
  return -1;
}
