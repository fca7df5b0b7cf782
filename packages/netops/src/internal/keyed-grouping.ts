import type { InputStream } from '@qitian/api';

/**
 * Whether `input` sends every tuple with the same values of `key` to the same task of its
 * consumer: one task, global grouping, or fields grouping on exactly those fields (a subset would
 * be as good, a superset splits a key). Custom and direct groupings cannot be told: taken as right.
 */
export function keepsKeysTogether(input: InputStream, key: readonly string[]): boolean {
  if (input.parallelism <= 1) return true;
  const g = input.grouping;
  if (g.type === 'global' || g.type === 'custom' || g.type === 'direct') return true;
  if (g.type !== 'fields') return false;
  return g.fields.length > 0 && g.fields.every((f) => key.includes(f));
}

/** "shuffle-grouped", "fields-grouped on [host, eventType]". */
export function describeGrouping(input: InputStream): string {
  return input.grouping.type === 'fields' ? `fields-grouped on [${input.grouping.fields.join(', ')}]` : `${input.grouping.type}-grouped`;
}
