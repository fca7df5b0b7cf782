/**
 * YAML merge keys (`<<: *base`, `<<: [*a, *b]`), as docker-compose and most YAML 1.1 readers
 * take them: the pairs of the merged mappings are added to the mapping that has the `<<`, unless
 * it sets the same key itself; of several merged mappings, the first to set a key wins.
 *
 * Done on the parsed document, before the topology is read from it, so that everything after
 * sees plain mappings. Merged pairs are the anchored mapping's own nodes, so a problem in a
 * merged value is reported where that value is written.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type Node, type Pair, Scalar, visit, type YAMLMap } from 'yaml';

export type MergeIssue = (node: unknown, message: string) => void;

/** Replaces every `<<` pair of the document by the pairs it merges; reports what cannot be merged. */
export function expandMergeKeys(doc: Document.Parsed, report: MergeIssue): void {
  const done = new WeakSet<YAMLMap>();
  const active = new Set<YAMLMap>();
  visit(doc, {
    Map(_key, map) {
      expand(doc, map as YAMLMap<unknown, unknown>, report, done, active);
    },
  });
}

/** A plain `<<` key; a quoted one is an ordinary key. */
export function isMergeKey(key: unknown): boolean {
  return isScalar(key) && key.value === '<<' && key.type === Scalar.PLAIN;
}

function expand(doc: Document.Parsed, map: YAMLMap<unknown, unknown>, report: MergeIssue, done: WeakSet<YAMLMap>, active: Set<YAMLMap>): void {
  if (done.has(map) || !map.items.some((p) => isMergeKey(p.key))) return;
  if (active.has(map)) {
    report(map, 'merge key << makes a cycle: a mapping merges itself');
    return;
  }
  active.add(map);
  const own: Pair<unknown, unknown>[] = [];
  const sources: YAMLMap<unknown, unknown>[] = [];
  for (const pair of map.items) {
    if (!isMergeKey(pair.key)) {
      own.push(pair);
      continue;
    }
    const value = pair.value;
    const list = isSeq(value) ? value.items : [value];
    for (const item of list) {
      const target = isAlias(item) ? item.resolve(doc) : item;
      if (isMap(target)) {
        expand(doc, target as YAMLMap<unknown, unknown>, report, done, active);
        sources.push(target as YAMLMap<unknown, unknown>);
      } else {
        report(item ?? pair.key, `merge key << takes a mapping or a list of mappings (e.g. <<: *defaults), got ${describeMerged(target)}`);
      }
    }
  }
  const seen = new Set<unknown>();
  for (const p of own) seen.add(keyOf(p.key));
  const merged: Pair<unknown, unknown>[] = [];
  for (const source of sources) {
    for (const p of source.items) {
      const k = keyOf(p.key);
      if (seen.has(k)) continue;
      seen.add(k);
      merged.push(p);
    }
  }
  map.items = [...own, ...merged];
  active.delete(map);
  done.add(map);
}

/** A pair's key as compared for merging: the scalar's value, else the node itself (never equal). */
function keyOf(key: unknown): unknown {
  return isScalar(key) ? key.value : key;
}

function describeMerged(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isSeq(node)) return 'a list inside the list';
  if (isScalar(node)) return node.value === null ? 'nothing' : `the value ${JSON.stringify(node.value)}`;
  return `an unknown node (${(node as Node).constructor?.name ?? typeof node})`;
}
