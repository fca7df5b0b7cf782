/** topn through the engine, on worker threads: a partial stage of 2 tasks and a merge; a stop and a resume with a state dir. */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComponentDefinition, validateConfig } from '@qitian/api';
import { Engine, loadState, stateFile } from '@qitian/runtime';
import { createPlan, DEFAULT_TOPOLOGY_CONFIG, type Grouping, type TopologySpec } from '@qitian/topology';
import { afterAll, describe, expect, it } from 'vitest';
import { eventsSpout, fileSpout, jsonSink, syslogParseBolt, topnBolt } from './engine-fixtures.js';
import { DEFAULT_DIMENSIONS, TOPN_FIELDS } from './index.js';
import { bruteForce, randomEvents } from './test-support.js';

const FIXTURES = new URL('./engine-fixtures.ts', import.meta.url).href;

const DEFINITIONS = { eventsSpout, fileSpout, jsonSink, syslogParseBolt, topnBolt } as const;

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

describe('topn on the engine, stopped and resumed with a state dir', () => {
  it('a window open at the stop goes on after the resume and comes out once, with the count of both runs', async () => {
    const log = join(dir, 'resume.log');
    const out = join(dir, 'resume.jsonl');
    const state = join(dir, 'state');
    const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);
    // RFC 5424 lines, one a second from 10:00:00, from three hosts: all in the hour [10:00, 11:00).
    const lines = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, j) => {
        const i = from + j;
        return `<134>1 ${new Date(T0 + i * 1000).toISOString()} r${i % 3} app - - - event ${i}\n`;
      }).join('');
    writeFileSync(log, lines(0, 74));
    const spec = (follow: boolean) =>
      topology(
        [
          { id: 'lines', export: 'fileSpout', config: { path: log, follow, pollInterval: '20ms' } },
          { id: 'parse', export: 'syslogParseBolt' },
          { id: 'topn', export: 'topnBolt', config: { window: '1h', idleTimeout: 0, dimensions: [{ name: 'host', fields: ['host'] }] } },
          { id: 'out', export: 'jsonSink', config: { path: out } },
        ],
        [
          { from: 'lines', to: 'parse' },
          { from: 'parse', to: 'topn' },
          { from: 'topn', to: 'out' },
        ],
      );
    const executed = async (engine: Engine, component: string) =>
      (await engine.stats()).filter((t) => t.componentId === component).reduce((a, t) => a + t.executed, 0);

    // The first run follows the file: it has to be stopped, in the middle of the hour.
    const first = await Engine.start(createPlan(spec(true), 2), { logger: () => {}, stateDir: state });
    const until = Date.now() + 20_000;
    while ((await executed(first, 'topn')) < 74) {
      if (Date.now() > until) throw new Error('the first run did not count 74 events in 20 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const stopped = await first.stop();
    expect(stopped.reason).toBe('stopped');
    // A stop does not end the window: nothing is emitted (before, it came out with 74).
    expect(existsSync(out) ? readFileSync(out, 'utf8') : '').toBe('');

    appendFileSync(log, lines(74, 111));
    const second = await Engine.start(createPlan(spec(false), 2), { logger: () => {}, stateDir: state });
    const done = await second.finished;
    expect(done.reason).toBe('completed');
    // The file resumes after the lines the first run read; the window after what the first run counted.
    expect(done.tasks.filter((t) => t.componentId === 'lines').reduce((a, t) => a + t.emitted, 0)).toBe(37);
    const rows = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => Object.fromEntries(TOPN_FIELDS.map((f, i) => [f, (JSON.parse(l) as unknown[])[i]])));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ dimension: 'host', windowStart: T0, windowEnd: T0 + 3_600_000, total: 111, complete: false, until: T0 + 110_000 });
    expect(rows[0]!.ranking).toEqual([
      { key: 'r0', count: 37, error: 0 },
      { key: 'r1', count: 37, error: 0 },
      { key: 'r2', count: 37, error: 0 },
    ]);
  });
});

describe('topn single stage of 2 tasks on the engine, stopped and resumed with a state dir', () => {
  it("each task's open window goes on after the resume in the task that owns its keys, and comes out once with the count of both runs", async () => {
    const log = join(dir, 'single2.log');
    const out = join(dir, 'single2.jsonl');
    const state = join(dir, 'state-single2');
    const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);
    // One line a second from six hosts, all in the hour [10:00, 11:00): fields grouping spreads the hosts over both tasks.
    const lines = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, j) => {
        const i = from + j;
        return `<134>1 ${new Date(T0 + i * 1000).toISOString()} r${i % 6} app - - - event ${i}\n`;
      }).join('');
    writeFileSync(log, lines(0, 72));
    const spec = (follow: boolean) => {
      const s = topology(
        [
          { id: 'lines', export: 'fileSpout', config: { path: log, follow, pollInterval: '20ms' } },
          { id: 'parse', export: 'syslogParseBolt' },
          { id: 'topn', export: 'topnBolt', parallelism: 2, config: { window: '1h', idleTimeout: 0, dimensions: [{ name: 'host', fields: ['host'] }] } },
          { id: 'out', export: 'jsonSink', config: { path: out } },
        ],
        [
          { from: 'lines', to: 'parse' },
          { from: 'parse', to: 'topn', grouping: { type: 'fields', fields: ['host'] } },
          { from: 'topn', to: 'out' },
        ],
      );
      return { ...s, config: { ...s.config, stateSnapshotIntervalMs: 100 } };
    };
    const executed = async (engine: Engine) => (await engine.stats()).filter((t) => t.componentId === 'topn').reduce((a, t) => a + t.executed, 0);

    const first = await Engine.start(createPlan(spec(true), 2), { logger: () => {}, stateDir: state });
    const until = Date.now() + 20_000;
    while ((await executed(first)) < 72) {
      if (Date.now() > until) throw new Error('the first run did not count 72 events in 20 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    // Stopped once the state file holds the position after the 72 lines: saved positions trail the
    // keyed state copies, and a position saved only at the close may be older than a copy made there
    // in the other thread (those lines would then be read again and counted twice, whatever topn does).
    const saved = () => (loadState(stateFile(state, 'topn-test'), 'topn-test')?.checkpoints['lines/0'] as { offset?: number } | undefined)?.offset;
    while (saved() !== statSync(log).size) {
      if (Date.now() > until) throw new Error('the state file did not get the position of the 72 lines in 20 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await first.stop()).reason).toBe('stopped');
    // The stop keeps the windows open (before, a single stage of 2 tasks emitted them here, then dropped the restored ones).
    expect(existsSync(out) ? readFileSync(out, 'utf8') : '').toBe('');

    appendFileSync(log, lines(72, 120));
    const warnings: string[] = [];
    const second = await Engine.start(createPlan(spec(false), 2), {
      logger: (level, msg) => {
        if (level === 'warn') warnings.push(msg);
      },
      stateDir: state,
    });
    expect((await second.finished).reason).toBe('completed');
    const rows = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => Object.fromEntries(TOPN_FIELDS.map((f, i) => [f, (JSON.parse(l) as unknown[])[i]])));
    // A row per task that has hosts: each ranks its own hosts, with the counts of both runs.
    expect(rows.length).toBeGreaterThanOrEqual(1);
    for (const r of rows) {
      // How far its own input got: the last line of its last host (r<k> last at 114 + k s).
      const last = Math.max(...(r.ranking as { key: string }[]).map((e) => 114 + Number(e.key.slice(1))));
      expect(r).toMatchObject({ dimension: 'host', windowStart: T0, complete: false, until: T0 + last * 1000 });
    }
    const counted = rows.flatMap((r) => (r.ranking as { key: string; count: number }[]).map((e) => [e.key, e.count]));
    expect(counted.sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5'].map((k) => [k, 20]));
    expect(rows.reduce((a, r) => a + (r.total as number), 0)).toBe(120);
    expect(warnings.filter((w) => /dropped/.test(w))).toEqual([]);
  });
});
