/**
 * One key's event counts per tumbling window, for the alert bolt's count strategies: the key's
 * newest window, the one before it, and, with `lateness`, older windows that late events may
 * still complete. Kept as plain numbers so that it is keyed state as it is (copied between
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
   * Windows before the previous one that `lateness` keeps open: flat [start, count, fired (0 or
   * 1)] triples, oldest first. Absent when there are none.
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
 * previous window always, an older one while its end is less than `lateness` before the start of
 * the key's newest window. Returns COUNTED, COUNTED_EARLIER or LATE.
 */
export function countInWindow(c: WindowCount, start: number, size: number, lateness = 0): number {
  if (start === c.start) {
    c.count++;
    return COUNTED;
  }
  if (start > c.start) {
    const adjacent = c.start === start - size;
    if (lateness > 0) keepOlder(c, start, size, lateness, adjacent);
    else if (c.older !== undefined) c.older = undefined;
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
  const older = c.older;
  if (older !== undefined) {
    for (let i = 0; i < older.length; i += 3) {
      if (older[i] === start) {
        older[i + 1]!++;
        return COUNTED_EARLIER;
      }
    }
  }
  return LATE;
}

/** On moving on to `start`: the windows that become older than the previous one, kept while open. */
function keepOlder(c: WindowCount, start: number, size: number, lateness: number, adjacent: boolean): void {
  const older = c.older ?? [];
  const open = (s: number) => start - (s + size) < lateness;
  // The old previous window, and the old newest one unless it becomes the previous window now.
  if (open(c.prevStart)) older.push(c.prevStart, c.prevCount, c.prevFired === true ? 1 : 0);
  if (!adjacent && open(c.start)) older.push(c.start, c.count, c.fired ? 1 : 0);
  let drop = 0;
  while (drop < older.length && !open(older[drop]!)) drop += 3;
  if (drop > 0) older.splice(0, drop);
  c.older = older.length > 0 ? older : undefined;
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
