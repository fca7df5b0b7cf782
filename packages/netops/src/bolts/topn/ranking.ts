/**
 * Adding up the reports of several counters (partial tasks) of one window and dimension, and the
 * final ranking with its error bounds.
 */
import type { Report } from './counters.js';
import { compareKeys } from './key-order.js';

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

/** What a RankMerge has added up for one key. */
export interface Acc {
  /** Sum of the reported counts (each an upper bound of its task's share). */
  count: number;
  /** Sum of the reported lower bounds. */
  lower: number;
  /** Sum of the bounds of the reports that listed this key. */
  covered: number;
}

/** What a RankMerge has added up, as plain data (keyed state holds and snapshots it as it is). */
export interface RankMergeData {
  readonly entries: Map<string, Acc>;
  boundSum: number;
  boundMax: number;
  total: number;
  distinctSum: number;
  distinctKnown: boolean;
  complete: boolean;
  reports: number;
}

function emptyRankMergeData(): RankMergeData {
  return { entries: new Map(), boundSum: 0, boundMax: 0, total: 0, distinctSum: 0, distinctKnown: true, complete: true, reports: 0 };
}

/**
 * The merge of reports for one window and dimension. With `partitioned`, each key is counted by
 * one reporter only (input fields-grouped on the key), so a reporter that does not list a key
 * has none of it; otherwise it may have up to its `bound`.
 */
export class RankMerge {
  /** Updated in place; a RankMerge made on it goes on from there. */
  readonly data: RankMergeData;

  constructor(data: RankMergeData = emptyRankMergeData()) {
    this.data = data;
  }

  get reports(): number {
    return this.data.reports;
  }

  add(r: Report): void {
    const d = this.data;
    d.reports++;
    d.total += r.total;
    d.boundSum += r.bound;
    if (r.bound > d.boundMax) d.boundMax = r.bound;
    if (r.bound > 0) d.complete = false;
    if (r.distinct < 0) d.distinctKnown = false;
    else d.distinctSum += r.distinct;
    const { keys, counts, errors } = r;
    const entries = d.entries;
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

  /** Adds the reports another merge of the same window and dimension added up: as if each had been added here. */
  absorb(o: RankMergeData): void {
    const d = this.data;
    d.reports += o.reports;
    d.total += o.total;
    d.boundSum += o.boundSum;
    if (o.boundMax > d.boundMax) d.boundMax = o.boundMax;
    d.complete &&= o.complete;
    d.distinctKnown &&= o.distinctKnown;
    d.distinctSum += o.distinctSum;
    const entries = d.entries;
    for (const [key, b] of o.entries) {
      const a = entries.get(key);
      if (a === undefined) entries.set(key, { count: b.count, lower: b.lower, covered: b.covered });
      else {
        a.count += b.count;
        a.lower += b.lower;
        a.covered += b.covered;
      }
    }
  }

  /** The top `n`, keys shown with `separator` between their parts. */
  result(n: number, partitioned: boolean, separator: string): Ranking {
    const d = this.data;
    const all: { key: string; count: number; lower: number }[] = [];
    const boundSum = d.boundSum;
    for (const [key, a] of d.entries) {
      all.push({ key, count: partitioned ? a.count : a.count + (boundSum - a.covered), lower: a.lower });
    }
    all.sort((a, b) => b.count - a.count || compareKeys(a.key, b.key));
    const unlisted = partitioned ? d.boundMax : boundSum;
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
    const distinct = d.complete ? d.entries.size : partitioned && d.distinctKnown ? d.distinctSum : -1;
    return { ranking, total: d.total, distinct, exact: guaranteed && errorFree, guaranteed };
  }
}
