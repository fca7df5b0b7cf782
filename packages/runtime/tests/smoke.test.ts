import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPlan } from '@qitian/topology';
import { expect, test } from 'vitest';
import { Engine, summarize } from '@qitian/runtime';
import { spec } from './kit.js';

test('smoke', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qt-'));
  const out = join(dir, 'out');
  const s = spec(
    [
      { id: 'seq', kind: 'spout', export: 'seqSpout', parallelism: 2, config: { count: 20000 } },
      { id: 'flaky', kind: 'bolt', export: 'flakyBolt', parallelism: 2, config: { failEvery: 7, delayEvery: 0 } },
      { id: 'sink', kind: 'sink', export: 'collectSink', parallelism: 2, config: { path: out } },
    ],
    [
      { from: 'seq', to: 'flaky' },
      { from: 'flaky', to: 'sink', grouping: { type: 'fields', fields: ['n'] } },
    ],
  );
  const engine = await Engine.start(createPlan(s, 2), { logger: (l, m) => l !== 'error' && console.log(l, m) });
  const r = await engine.finished;
  console.log(r.reason, r.durationMs, summarize(r.tasks));
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l)[0]);
  expect(new Set(lines).size).toBe(20000);
});
