/**
 * Keeps docs/metrics.md and docs/grafana/qitian-topology.json honest against what a running
 * topology really serves on /metrics.
 *
 * - Every `qitian_*` family served is named in docs/metrics.md, and every `qitian_*` name there is
 *   served (a histogram's _bucket/_sum/_count series count as its family) or matches a pattern the
 *   page documents, such as qitian_component_<name>_total.
 * - prom-client's default process metrics are documented as a group: a served family outside
 *   `qitian_*` must start with `process_` or `nodejs_` (the page names both groups), and each such
 *   name the page does mention must be served, except the three the endpoint removes on purpose.
 * - The histogram buckets and the default latency sampling stated on the page are the code's.
 * - The control API endpoints on the page are the ones the server lists.
 * - The dashboard parses, uses the templated data source everywhere, and every metric name in its
 *   queries is served.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ControlServer, type Engine, LATENCY_BUCKETS, startControlServer } from '@qitian/runtime';
import { DEFAULT_TOPOLOGY_CONFIG, type TopologySpec } from '@qitian/topology';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spec, start, tempDir, waitFor } from './kit.js';

const ROOT = new URL('../../../', import.meta.url);
const DOC = readFileSync(new URL('docs/metrics.md', ROOT), 'utf8');
const DASHBOARD_TEXT = readFileSync(new URL('docs/grafana/qitian-topology.json', ROOT), 'utf8');

/** Families prom-client serves by default that the endpoint removes (docs/metrics.md says why). */
const REMOVED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
/** Process metrics prom-client serves on Linux only; the page names them as such. */
const LINUX_ONLY = ['process_virtual_memory_bytes', 'process_heap_bytes', 'process_open_fds', 'process_max_fds'];
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** A bolt that counts every tuple with context.count, so that a qitian_component_* family is served. */
const COUNTING_BOLT = `
import { defineBolt } from '@qitian/api';
export const countingBolt = defineBolt({
  spec: { summary: 'counts its input by parity', fields: {} },
  outputs: () => ({ default: ['n'] }),
  create() {
    let ctx;
    let out;
    return {
      prepare(c, col) { ctx = c; out = col; },
      execute(t) {
        const n = t.values[0];
        ctx.count('seen', 1, n % 2 === 0 ? 'even' : 'odd');
        // The component families the dashboard shows beside the engine's drops and errors.
        if (n % 5 === 0) ctx.count('dropped', 1, 'fifth');
        if (n % 13 === 0) ctx.count('errors', 1, 'thirteenth');
        out.emit([n]);
      },
    };
  },
});
`;

/**
 * seq (2 tasks, never ends) -> flaky (slow: 1 ms a tuple; fails multiples of 7 once, throws on
 * multiples of 11) -> counter (context.count) -> sink. One credit and small batches, so that the
 * slow bolt backpressures the spout; every execute timed, so that the histograms fill at once.
 */
function topology(dir: string): TopologySpec {
  const base = spec(
    [
      { id: 'seq', export: 'seqSpout', parallelism: 2, config: { count: 0 } },
      { id: 'flaky', export: 'flakyBolt', parallelism: 2, config: { failEvery: 7, throwEvery: 11, delayEvery: 1 } },
      { id: 'sink', export: 'collectSink', config: { path: join(dir, 'out.jsonl') } },
    ],
    [
      { from: 'seq', to: 'flaky' },
      { from: 'flaky', to: 'counter' },
      { from: 'counter', to: 'sink' },
    ],
    { credits: 1, batchSize: 10, batchLingerMs: 1, maxSpoutPending: 200, latencySampling: 1, drainTimeoutMs: 2000, messageTimeoutMs: 5000 },
  );
  const module = join(dir, 'counting-bolt.mjs');
  writeFileSync(module, COUNTING_BOLT);
  const counter = {
    id: 'counter',
    kind: 'bolt' as const,
    ref: { url: pathToFileURL(module).href, export: 'countingBolt' },
    parallelism: 2,
    config: {},
    outputs: { default: ['n'] },
    autoAck: true,
  };
  const [seq, flaky, sink] = base.components;
  return { ...base, components: [seq!, flaky!, counter, sink!] };
}

interface Scrape {
  /** Family name -> type, from the # TYPE lines. */
  types: Map<string, string>;
  /** Series name (with _bucket/_sum/_count) -> sum of its values. */
  sums: Map<string, number>;
}

function parse(text: string): Scrape {
  const types = new Map<string, string>();
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})? (\S+)$/.exec(line);
    if (m) sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return { types, sums };
}

/** The family a series or a name in PromQL belongs to: a histogram's _bucket, _sum and _count are its own. */
function family(name: string, types: Map<string, string>): string {
  if (types.has(name)) return name;
  const base = name.replace(HISTOGRAM_SUFFIX, '');
  return types.get(base) === 'histogram' ? base : name;
}

/** Names in `text` that start with one of `prefixes`, with `<placeholder>` patterns kept apart. */
function names(text: string, prefixes: string): { plain: Set<string>; patterns: Set<string> } {
  const plain = new Set<string>();
  const patterns = new Set<string>();
  for (const m of text.matchAll(new RegExp(`\\b(?:${prefixes})[a-zA-Z0-9_<>]+`, 'g'))) {
    const name = m[0];
    // A prefix such as `qitian_task_*` or a regular expression's `qitian_component_.+` names a group.
    if (name.endsWith('_')) continue;
    if (name.includes('<')) patterns.add(name);
    else plain.add(name);
  }
  return { plain, patterns };
}

function patternRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/<[^>]*>/g, '[a-zA-Z0-9_]+')}$`);
}

let engine: Engine;
let server: ControlServer;
let scrape: Scrape;
let index: { endpoints: Record<string, string> };

beforeAll(async () => {
  ({ engine } = await start(topology(tempDir()), 2));
  server = await startControlServer(engine, { port: 0 });
  const wanted = [
    'qitian_tuples_failed_total',
    'qitian_task_errors_total',
    'qitian_spout_replays_total',
    'qitian_backpressure_seconds_total',
    'qitian_complete_latency_seconds_count',
    'qitian_execute_latency_seconds_count',
    'qitian_process_latency_seconds_count',
    'qitian_component_seen_total',
    // The dashboard queries these too: the counter bolt counts them on every 5th and 13th tuple,
    // which may come after its first `seen` was reported.
    'qitian_component_dropped_total',
    'qitian_component_errors_total',
    'qitian_task_busy_seconds_total',
  ];
  await waitFor(
    async () => {
      scrape = parse(await (await fetch(`${server.url}/metrics`)).text());
      return wanted.every((n) => (scrape.sums.get(n) ?? 0) > 0);
    },
    30_000,
    `non-zero ${wanted.join(', ')}`,
  );
  index = (await (await fetch(`${server.url}/`)).json()) as typeof index;
});

afterAll(async () => {
  await server?.close();
  await engine?.stop();
});

describe('docs/metrics.md', () => {
  const doc = names(DOC, 'qitian_|process_|nodejs_');

  it('names every qitian_* family the endpoint serves', () => {
    const served = [...scrape.types.keys()].filter((n) => n.startsWith('qitian_'));
    expect(served.length).toBeGreaterThan(20);
    const patterns = [...doc.patterns].map(patternRegExp);
    const missing = served.filter((n) => !doc.plain.has(n) && !(n.startsWith('qitian_component_') && patterns.some((p) => p.test(n))));
    expect(missing).toEqual([]);
  });

  it('names only qitian_* metrics that are served or match a documented pattern', () => {
    const patterns = [...doc.patterns].map(patternRegExp);
    const unknown = [...doc.plain].filter((n) => n.startsWith('qitian_') && !scrape.types.has(family(n, scrape.types)) && !patterns.some((p) => p.test(n)));
    expect(unknown).toEqual([]);
    // Each pattern stands for families that really appear (a component's own counters).
    for (const p of doc.patterns) {
      expect(
        [...scrape.types.keys()].some((n) => patternRegExp(p).test(n)),
        p,
      ).toBe(true);
    }
  });

  it('documents the process metrics as the process_* and nodejs_* groups, and names only served ones', () => {
    const others = [...scrape.types.keys()].filter((n) => !n.startsWith('qitian_'));
    expect(others.filter((n) => !n.startsWith('process_') && !n.startsWith('nodejs_'))).toEqual([]);
    expect(DOC).toContain('`process_*`');
    expect(DOC).toContain('`nodejs_*`');
    for (const n of REMOVED) {
      expect(scrape.types.has(n), `${n} is removed`).toBe(false);
      expect(DOC).toContain(n);
    }
    const named = [...doc.plain].filter((n) => !n.startsWith('qitian_') && !REMOVED.includes(n) && (process.platform === 'linux' || !LINUX_ONLY.includes(n)));
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((n) => !scrape.types.has(family(n, scrape.types)))).toEqual([]);
  });

  it('states the histogram buckets and the default latency sampling of the code', () => {
    expect(DOC).toContain(`${LATENCY_BUCKETS.join(', ')}, +Inf`);
    expect(DOC).toContain(`default ${DEFAULT_TOPOLOGY_CONFIG.latencySampling}`);
  });

  it('describes the endpoints the server lists, and no others', () => {
    const listed = Object.keys(index.endpoints).map((e) => e.split('?')[0]!);
    for (const e of listed) expect(DOC).toContain(`\`${e}`);
    const documented = new Set([...DOC.matchAll(/\/api\/v1\/[a-z]+/g)].map((m) => m[0]));
    expect([...documented].sort()).toEqual(listed.filter((e) => e.startsWith('/api/')).sort());
  });
});

describe('docs/grafana/qitian-topology.json', () => {
  interface Panel {
    title?: string;
    type?: string;
    datasource?: { uid?: string };
    targets?: { expr?: string; datasource?: { uid?: string } }[];
    panels?: Panel[];
  }
  const dashboard = JSON.parse(DASHBOARD_TEXT) as {
    schemaVersion: number;
    panels: Panel[];
    templating: { list: { name: string; type: string; query?: unknown; definition?: string }[] };
  };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
  const exprs = [
    ...panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? '')),
    ...dashboard.templating.list.map((v) => v.definition ?? ''),
    ...dashboard.templating.list.map((v) => (typeof v.query === 'string' ? v.query : ((v.query as { query?: string } | undefined)?.query ?? ''))),
  ].filter((e) => e !== '');

  it('has the templated data source, topology and component variables', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const vars = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v.type]));
    expect(vars).toMatchObject({ DS_PROMETHEUS: 'datasource', topology: 'query', component: 'query' });
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).toBe('${DS_PROMETHEUS}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });

  it('queries only metrics the endpoint serves', () => {
    expect(exprs.length).toBeGreaterThan(15);
    const used = names(exprs.join('\n'), 'qitian_|process_|nodejs_');
    expect([...used.patterns]).toEqual([]);
    const unknown = [...used.plain].filter((n) => !scrape.types.has(family(n, scrape.types)));
    expect(unknown).toEqual([]);
    // Every qitian_* family a panel or variable queries, for the record of what it shows.
    expect(used.plain.size).toBeGreaterThan(15);
  });
});
