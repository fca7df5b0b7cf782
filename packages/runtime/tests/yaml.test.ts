/** The whole path a user takes: topology YAML -> loadTopology -> createPlan -> Engine. */
import { join } from 'node:path';
import { keyGroupOf, taskForKeyGroup } from '@qitian/api';
import { Engine } from '@qitian/runtime';
import { createPlan, createRegistry, loadTopology } from '@qitian/topology';
import { expect, test } from 'vitest';
import { collectSink, flakyBolt, seqSpout } from './fixtures/components.js';
import { byComponent, FIXTURES, jsonLines, tempDir } from './kit.js';

const registry = createRegistry([
  { type: 'seq', definition: seqSpout, ref: { url: FIXTURES, export: 'seqSpout' } },
  { type: 'flaky', definition: flakyBolt, ref: { url: FIXTURES, export: 'flakyBolt' } },
  { type: 'collect', definition: collectSink, ref: { url: FIXTURES, export: 'collectSink' } },
]);

test('a YAML topology with built-in types, a user module and a custom grouping runs end to end', async () => {
  const dir = tempDir();
  const out = join(dir, 'out.jsonl');
  const file = join(import.meta.dirname, 'fixtures', 'topology.yaml');
  const topology = await loadTopology(file, { registry, env: { COUNT: '3000', OUT: out } });
  expect(topology.config.maxParallelism).toBe(256);
  expect(topology.components.map((c) => c.id)).toEqual(['numbers', 'flaky', 'double', 'out']);
  const engine = await Engine.start(createPlan(topology, topology.config.workers!));
  const summary = await engine.finished;
  expect(summary.reason).toBe('completed');
  const by = byComponent(summary);
  const planned = Math.floor(2999 / 11) + 1;
  expect(by.numbers!.acked).toBe(3000);
  expect(by.numbers!.failed).toBe(planned);
  expect(by.flaky!.dropped).toBe(600);
  const rows = jsonLines<[number, number, number, number]>(out);
  expect(rows.length).toBe(2400);
  for (const [n, twice, task] of rows) {
    expect(n % 5).not.toBe(0);
    expect(twice).toBe(2 * n);
    // Fields grouping on "twice" with the file's maxParallelism of 256.
    expect(task).toBe(taskForKeyGroup(keyGroupOf(String(twice), 256), 2, 256));
  }
});
