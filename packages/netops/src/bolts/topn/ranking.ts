/**
 * Adding up the reports of several counters (partial tasks) of one window and dimension, and the
 * final ranking with its error bounds.
 */
import type { Report } from './counters.js';

/** Joins the parts of a key of several fields inside the bolt; shown with `separator`. */
export const KEY_SEPARATOR = '\u001f';

export interface RankEntry {
  readonly key: string;
  /** Upper bound of the true count. */
  readonly count: number;
  /** count - error is a lower bound of the true count. */
  readonly error: number;
}

export interface Ranking {
  readonly ranking: RankEntry[];
  readonly total: number;
  readonly distinct: number;
  readonly exact: boolean;
  readonly guaranteed: boolean;
}

interface Acc {
  /** Sum of the reported counts (each an upper bound of its task's share). */
  count: number;
  /** Sum of the reported lower bounds. */
  lower: number;
  /** Sum of the bounds of the reports that listed this key. */
  covered: number;
}

/**
 * The merge of reports for one window and dimension. With `partitioned`, each key is counted by
 * one reporter only (input fields-grouped on the key), so a reporter that does not list a key
 * has none of it; otherwise it may have up to its `bound`.
 */
export class RankMerge {
  private readonly entries = new Map<string, Acc>();
  private boundSum = 0;
  private boundMax = 0;
  private total = 0;
  private distinctSum = 0;
  private distinctKnown = true;
  private complete = true;
  reports = 0;

  add(r: Report): void {
    this.reports++;
    this.total += r.total;
    this.boundSum += r.bound;
    if (r.bound > this.boundMax) this.boundMax = r.bound;
    if (r.bound > 0) this.complete = false;
    if (r.distinct < 0) this.distinctKnown = false;
    else this.distinctSum += r.distinct;
    const { keys, counts, errors } = r;
    const entries = this.entries;
    for (let i = 0; i < keys.length; i++) {
      const c = counts[i]!;
      const low = errors ? c - errors[i]! : c;
      const a = entries.get(keys[i]!);
      if (a === undefined) entries.set(keys[i]!, { count: c, lower: low, covered: r.bound });
      else {
        a.count += c;
        a.lower += low;
        a.covered += r.bound;
      }
    }
  }

  /** The top `n`, keys shown with `separator` between their parts. */
  result(n: number, partitioned: boolean, separator: string): Ranking {
    const all: { key: string; count: number; lower: number }[] = [];
    const boundSum = this.boundSum;
    for (const [key, a] of this.entries) {
      all.push({ key, count: partitioned ? a.count : a.count + (boundSum - a.covered), lower: a.lower });
    }
    all.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const unlisted = partitioned ? this.boundMax : boundSum;
    const top = Math.min(n, all.length);
    const ranking: RankEntry[] = new Array(top);
    let minLower = Number.POSITIVE_INFINITY;
    let errorFree = true;
    for (let i = 0; i < top; i++) {
      const e = all[i]!;
      const error = e.count - e.lower;
      if (error !== 0) errorFree = false;
      if (e.lower < minLower) minLower = e.lower;
      ranking[i] = { key: e.key.includes(KEY_SEPARATOR) ? e.key.split(KEY_SEPARATOR).join(separator) : e.key, count: e.count, error };
    }
    let guaranteed: boolean;
    if (all.length < n) guaranteed = unlisted === 0;
    else guaranteed = minLower >= Math.max(all[n]?.count ?? 0, unlisted);
    const distinct = this.complete ? this.entries.size : partitioned && this.distinctKnown ? this.distinctSum : -1;
    return { ranking, total: this.total, distinct, exact: guaranteed && errorFree, guaranteed };
  }
}
