/** topn through the engine: a partial stage of 2 tasks and a merge, on worker threads. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComponentDefinition, validateConfig } from '@qitian/api';
import { Engine } from '@qitian/runtime';
import { createPlan, DEFAULT_TOPOLOGY_CONFIG, type Grouping, type TopologySpec } from '@qitian/topology';
import { afterAll, describe, expect, it } from 'vitest';
import { eventsSpout, jsonSink, topnBolt } from './engine-fixtures.js';
import { DEFAULT_DIMENSIONS, TOPN_FIELDS } from './index.js';
import { bruteForce, randomEvents } from './test-support.js';

const FIXTURES = new URL('./engine-fixtures.ts', import.meta.url).href;

const DEFINITIONS = { eventsSpout, jsonSink, topnBolt } as const;

interface Node {
  id: string;
  export: keyof typeof DEFINITIONS;
  parallelism?: number;
  config?: Record<string, unknown>;
}

function topology(nodes: Node[], streams: { from: string; to: string; grouping: Partial<Grouping> }[]): TopologySpec {
  return {
    name: 'topn-test',
    file: 'topn-test.yaml',
    config: { ...DEFAULT_TOPOLOGY_CONFIG },
    components: nodes.map((n) => {
      const def: ComponentDefinition = DEFINITIONS[n.export];
      const checked = validateConfig(def.spec.fields, n.config ?? {});
      if (checked.issues.length > 0) throw new Error(`${n.id}: ${checked.issues.map((i) => i.message).join('; ')}`);
      const cfg = checked.value as Record<string, unknown>;
      return {
        id: n.id,
        kind: def.kind,
        ref: { url: FIXTURES, export: n.export },
        parallelism: n.parallelism ?? 1,
        config: cfg,
        outputs: def.kind === 'sink' || !def.outputs ? {} : def.outputs(cfg),
        autoAck: def.kind === 'spout' ? false : ((def as { autoAck?: boolean }).autoAck ?? true),
      };
    }),
    streams: streams.map((s) => ({ from: s.from, to: s.to, grouping: { type: 'shuffle', stream: 'default', ...s.grouping } as Grouping })),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'qitian-topn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('topn on the engine', () => {
  it('partial parallelism 2 (fields-grouped on srcIp, top-40 candidates) + merge: exact where it says so, equal to a brute-force count', async () => {
    const out = join(dir, 'merge.jsonl');
    const spec = topology(
      [
        { id: 'events', export: 'eventsSpout', config: { seed: 21, count: 20_000, step: 2 } },
        { id: 'partial', export: 'topnBolt', parallelism: 2, config: { stage: 'partial', window: '10s', n: 5, candidates: 40, groupedBy: ['srcIp'] } },
        { id: 'merge', export: 'topnBolt', config: { stage: 'merge' } },
        { id: 'out', export: 'jsonSink', config: { path: out } },
      ],
      [
        { from: 'events', to: 'partial', grouping: { type: 'fields', fields: ['srcIp'] } },
        { from: 'partial', to: 'merge', grouping: { type: 'global' } },
        { from: 'merge', to: 'out', grouping: { type: 'shuffle' } },
      ],
    );
    const engine = await Engine.start(createPlan(spec, 2), { logger: () => {} });
    const summary = await engine.finished;
    expect(summary).toBeDefined();

    const rows = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => Object.fromEntries(TOPN_FIELDS.map((f, i) => [f, (JSON.parse(l) as unknown[])[i]])));
    const truth = bruteForce(randomEvents(21, 20_000, 0, 2), DEFAULT_DIMENSIONS, 10_000);
    expect(rows).toHaveLength(truth.size); // 4 windows x 5 dimensions
    for (const o of rows) {
      const t = truth.get(`${o.windowStart}/${o.dimension}`)!;
      // The events end at 39.998 s: the last window was closed by the end of the input, not by the watermark.
      expect([o.complete, o.until], `${o.dimension} ${o.windowStart}`).toEqual(o.windowEnd < 40_000 ? [true, o.windowEnd] : [false, 39_998]);
      const n = o.dimension === 'severity' ? 8 : 5;
      expect(o.total).toBe(t.reduce((a, e) => a + e.count, 0));
      const ranking = o.ranking as { key: string; count: number; error: number }[];
      if (o.dimension === 'source' || o.dimension === 'event') expect(o.exact, `${o.dimension} ${o.windowStart}`).toBe(true);
      if (o.exact) expect(ranking.map((e) => [e.key, e.count])).toEqual(t.slice(0, n).map((e) => [e.key, e.count]));
      const tc = new Map(t.map((e) => [e.key, e.count]));
      for (const e of ranking) {
        expect(tc.get(e.key) ?? 0).toBeLessThanOrEqual(e.count);
        expect(tc.get(e.key) ?? 0).toBeGreaterThanOrEqual(e.count - e.error);
      }
    }
  });
});
