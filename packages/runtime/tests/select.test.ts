/** `select` on a stream: the consumer gets only the chosen fields, in their order, in its thread or across. */
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { jsonLines, run, spec, tempDir } from './kit.js';

test('a consumer with select gets only those fields, from tasks in its thread and in the other', async () => {
  const N = 3000;
  const out = join(tempDir(), 'out');
  const all = join(tempDir(), 'all');
  const s = spec(
    [
      { id: 'pairs', export: 'pairSpout', parallelism: 2, config: { count: N } },
      { id: 'picked', export: 'collectSink', parallelism: 2, config: { path: out, withFields: true, withTask: true } },
      { id: 'whole', export: 'collectSink', parallelism: 1, config: { path: all, withFields: true } },
    ],
    [
      // Grouping still sees every field: fields grouping on `b`, which is not selected.
      { from: 'pairs', to: 'picked', grouping: { type: 'fields', fields: ['b'] }, select: ['n', 'a'] },
      { from: 'pairs', to: 'whole' },
    ],
  );
  const { summary } = await run(s, 2);
  expect(summary.reason).toBe('completed');
  const picked = jsonLines<{ fields: string[]; values: unknown[] }>(out);
  expect(picked).toHaveLength(2 * N);
  const senders = new Set<string>();
  for (const p of picked) {
    expect(p.fields).toEqual(['n', 'a']);
    const [n, a, taskIndex, sourceTask] = p.values as [number, string, number, number];
    expect(a).toBe(`k${n % 5}`);
    // Key b = n % 3 decides the task; both tasks got tuples from both spout tasks (one local, one remote).
    senders.add(`${taskIndex}<-${sourceTask}`);
  }
  expect(senders.size).toBe(4);
  // The other consumer of the same stream still gets every field.
  const whole = jsonLines<{ fields: string[]; values: unknown[] }>(all);
  expect(whole).toHaveLength(2 * N);
  expect(whole[0]!.fields).toEqual(['a', 'b', 'n']);
});
