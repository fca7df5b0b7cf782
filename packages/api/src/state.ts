/**
 * Keyed state lives in key groups: a key hashes to one of `maxParallelism` groups, and groups,
 * not keys, are assigned to tasks. The runtime snapshots and restores whole groups, which is
 * what lets a keyed bolt rescale without losing state.
 */

/** FNV-1a over UTF-16 code units; stable across runs, threads and machines. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche so that short, similar keys spread over all groups.
  return fmix32(h);
}

/** murmur3's 32-bit finaliser: a full avalanche of a 32-bit value, as an unsigned integer. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The key group of a key, in [0, maxParallelism). */
export function keyGroupOf(key: string, maxParallelism: number): number {
  return hashKey(key) % maxParallelism;
}

/** The task (0-based within its component) that owns a key group: contiguous ranges, as Flink does. */
export function taskForKeyGroup(keyGroup: number, parallelism: number, maxParallelism: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/** The key groups a task owns: the inverse of `taskForKeyGroup`. */
export function keyGroupRange(taskIndex: number, parallelism: number, maxParallelism: number): { start: number; end: number } {
  return {
    start: Math.ceil((taskIndex * maxParallelism) / parallelism),
    end: Math.ceil(((taskIndex + 1) * maxParallelism) / parallelism),
  };
}

/** The key of a tuple under fields grouping: the grouping fields' values joined. */
export function groupingKey(values: readonly unknown[], indexes: readonly number[]): string {
  if (indexes.length === 1) return keyPart(values[indexes[0]!]);
  let key = keyPart(values[indexes[0]!]);
  for (let i = 1; i < indexes.length; i++) key += '\u0000' + keyPart(values[indexes[i]!]);
  return key;
}

/** A value as part of a key: strings as they are, objects by content (not "[object Object]"). */
function keyPart(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

/** What a component reads and writes; the runtime holds the snapshot side. */
export interface KeyedState<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  has(key: string): boolean;
  delete(key: string): boolean;
  readonly size: number;
  /** The number of key groups keys hash into (the topology's maxParallelism). */
  readonly maxParallelism: number;
  entries(): IterableIterator<[string, V]>;
  keys(): IterableIterator<string>;
  clear(): void;
}

/** A snapshot of some key groups: group number -> [key, value] pairs. Plain data, structured-cloneable. */
export type KeyGroupSnapshot<V = unknown> = Record<number, [string, V][]>;

/**
 * Keyed state backed by one Map. Key groups are computed only at snapshot time, so reads and
 * writes on the hot path cost a Map lookup and nothing more.
 *
 * Keys are strings. Anything else a JavaScript caller passes (null, a number, an object) is taken
 * as the string fields grouping routes it by (keyPart), so that a field value used as a key
 * lands in the key group its tuples go to, and a snapshot never meets a key it cannot hash.
 */
export class KeyGroupedState<V> implements KeyedState<V> {
  private readonly map = new Map<string, V>();

  constructor(readonly maxParallelism: number) {}

  get(key: string): V | undefined {
    return this.map.get(typeof key === 'string' ? key : keyPart(key));
  }
  set(key: string, value: V): void {
    this.map.set(typeof key === 'string' ? key : keyPart(key), value);
  }
  has(key: string): boolean {
    return this.map.has(typeof key === 'string' ? key : keyPart(key));
  }
  delete(key: string): boolean {
    return this.map.delete(typeof key === 'string' ? key : keyPart(key));
  }
  get size(): number {
    return this.map.size;
  }
  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }
  keys(): IterableIterator<string> {
    return this.map.keys();
  }
  clear(): void {
    this.map.clear();
  }

  /** The entries of the given key groups (all groups when omitted), grouped by key group. */
  snapshot(groups?: ReadonlySet<number>): KeyGroupSnapshot<V> {
    const out: KeyGroupSnapshot<V> = {};
    for (const [k, v] of this.map) {
      const g = keyGroupOf(k, this.maxParallelism);
      if (groups && !groups.has(g)) continue;
      (out[g] ??= []).push([k, v]);
    }
    return out;
  }

  /** Adds the entries of a snapshot, replacing keys already present. */
  restore(snapshot: KeyGroupSnapshot<V>): void {
    for (const pairs of Object.values(snapshot)) for (const [k, v] of pairs) this.map.set(k, v);
  }

  /** Removes the given key groups and returns what they held (for moving them to another task). */
  release(groups: ReadonlySet<number>): KeyGroupSnapshot<V> {
    const out = this.snapshot(groups);
    for (const pairs of Object.values(out)) for (const [k] of pairs) this.map.delete(k);
    return out;
  }
}
