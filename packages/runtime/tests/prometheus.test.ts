/**
 * The metrics endpoint checked against the real tools: `promtool check metrics` accepts what a
 * busy topology exposes, and a real Prometheus server scraping a topology gets the engine's exact
 * counts and the spout's configured rate. Also: scrapes while a worker thread restarts, and the
 * endpoint's answers to wrong requests. Needs `promtool` and `prometheus` on PATH (the Debian
 * package `prometheus`; .ci/run installs it); without them these tests fail, they do not skip.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ControlServer, type Engine, type ExecutorStats, startControlServer, summarize, TASK_METRICS } from '@qitian/runtime';
import { createPlan } from '@qitian/topology';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spec, start, tempDir, waitFor } from './kit.js';
import {
  monotonicSamples,
  mixedSpec,
  type PrometheusServer,
  parseExposition,
  pollUntil,
  promtoolCheckMetrics,
  requireTools,
  reservePort,
  startPrometheus,
} from './prometheus-kit.js';

const total = (stats: readonly ExecutorStats[], component: string, f: (s: ExecutorStats) => number): number =>
  stats.filter((s) => s.componentId === component).reduce((a, s) => a + f(s), 0);

async function scrape(server: ControlServer): Promise<{ status: number; text: string; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${server.url}/metrics`);
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - t0 };
}

/** Stops an engine that may already have ended, and its endpoint. */
async function shutdown(engine: Engine | undefined, server: ControlServer | undefined): Promise<void> {
  await server?.close();
  if (engine) await engine.stop();
}

// Prometheus starts first, scraping a port held for the topology of its test (the last one).
let reserved: Awaited<ReturnType<typeof reservePort>> | undefined;
let prom: Promise<PrometheusServer> | undefined;

beforeAll(async () => {
  let prometheus: string;
  try {
    ({ prometheus } = requireTools());
  } catch {
    return; // the tests that need the tools fail with requireTools()'s message
  }
  reserved = await reservePort();
  prom = startPrometheus(prometheus, [`127.0.0.1:${reserved.port}`], 1);
  // Awaited by its test; a failure to start shows there.
  prom.catch(() => {});
});

afterAll(async () => {
  // Always: whatever happened, no Prometheus outlives the tests.
  const p = await prom?.catch(() => undefined);
  await p?.stop();
  await reserved?.release();
});

describe('a busy topology, every metric family', () => {
  let engine: Engine | undefined;
  let server: ControlServer | undefined;

  beforeAll(async () => {
    const dir = tempDir();
    const log = join(dir, 'lines.log');
    // Two short lines and one longer than maxLineBytes: the file spout counts the long one as
    // dropped with reason line_too_long (a component counter with a reason).
    writeFileSync(log, `short\n${'x'.repeat(100)}\nshort again\n`);
    const s = mixedSpec(
      'metrics-all',
      [
        { id: 'seq', export: 'seqSpout', config: { count: 0 } },
        // Fails each multiple of 50 once (errors, failed trees, replays); slow enough (1 ms every
        // 2 tuples) that the spout waits for credits (backpressure).
        { id: 'flaky', export: 'flakyBolt', parallelism: 2, config: { failEvery: 50, delayEvery: 2 } },
        { id: 'count', export: 'countBolt', parallelism: 2 },
        // Never acks: its spout's trees time out (qitian_spout_timeouts_total).
        { id: 'pairs', export: 'pairSpout', config: { count: 100 } },
        { id: 'hold', export: 'holdBolt' },
        { id: 'tail', builtin: 'fileSpout', config: { path: log, follow: true, maxLineBytes: 16, pollInterval: '100ms' } },
        { id: 'lines', export: 'countBolt' },
      ],
      [
        { from: 'seq', to: 'flaky' },
        { from: 'flaky', to: 'count' },
        { from: 'pairs', to: 'hold' },
        { from: 'tail', to: 'lines' },
      ],
      { acking: true, messageTimeoutMs: 1000, batchSize: 50, credits: 2, latencySampling: 1 },
    );
    ({ engine } = await start(s, 2));
    server = await startControlServer(engine, { port: 0 });
    const e = engine;
    await waitFor(
      async () => {
        const st = await e.stats();
        return (
          total(st, 'seq', (x) => x.replayed) > 0 &&
          total(st, 'flaky', (x) => x.errors) > 0 &&
          total(st, 'seq', (x) => x.backpressureMs) > 0 &&
          total(st, 'pairs', (x) => x.timedOut) > 0 &&
          total(st, 'tail', (x) => x.custom['dropped{reason="line_too_long"}'] ?? 0) > 0 &&
          total(st, 'count', (x) => x.executed) > 0
        );
      },
      20_000,
      'failures, replays, timeouts, backpressure and a component counter',
    );
  });

  afterAll(() => shutdown(engine, server));

  test('promtool check metrics accepts /metrics', async () => {
    const { promtool } = requireTools();
    const { status, text } = await scrape(server!);
    expect(status).toBe(200);
    const e = parseExposition(text);
    // Every family is there, with data that is not all zero where the topology produced some.
    const families = [
      ...Object.values(TASK_METRICS).map((m) => m.name),
      'qitian_worker_event_loop_delay_p99_seconds',
      'qitian_worker_event_loop_delay_mean_seconds',
      'qitian_worker_heap_used_bytes',
      'qitian_worker_tasks',
      'qitian_topology_info',
      'qitian_topology_uptime_seconds',
      'qitian_topology_worker_threads',
      'qitian_worker_restarts_total',
      'qitian_component_dropped_total',
      'process_cpu_seconds_total',
    ];
    for (const f of families) expect(e.types.has(f), `family ${f} in /metrics`).toBe(true);
    const value = (sample: string) => e.samples.get(sample) ?? Number.NaN;
    const base = 'topology="metrics-all",component="seq",task="0"';
    expect(value(`qitian_spout_replays_total{${base}}`)).toBeGreaterThan(0);
    expect(value(`qitian_tuples_failed_total{${base}}`)).toBeGreaterThan(0);
    // The target is whichever consumer ran out of credit: flaky, or count behind a flaky task
    // that the spout calls directly on its own thread.
    const waited = [...e.samples].filter(([k]) => k.startsWith(`qitian_backpressure_seconds_total{${base},target=`));
    expect(
      waited.reduce((a, [, v]) => a + v, 0),
      JSON.stringify(waited),
    ).toBeGreaterThan(0);
    expect(value('qitian_spout_timeouts_total{topology="metrics-all",component="pairs",task="0"}')).toBeGreaterThan(0);
    expect(value('qitian_component_dropped_total{topology="metrics-all",component="tail",task="0",reason="line_too_long"}')).toBe(1);

    const check = promtoolCheckMetrics(promtool, text);
    expect(check.code, `promtool check metrics failed:\n${check.output}`).toBe(0);
  });

  test('the endpoint: unknown path, wrong method, topology listing', async () => {
    const url = server!.url;
    const missing = await fetch(`${url}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await missing.json()) as { error: string; endpoints: string[] };
    expect(body.error).toMatch(/no such endpoint: \/nope/);
    expect(body.endpoints).toContain('/metrics');

    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await fetch(`${url}/metrics`, { method, body: method === 'DELETE' ? null : 'x' });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(((await res.json()) as { error: string }).error).toMatch(new RegExp(`${method} is not allowed`));
    }

    const head = await fetch(`${url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);

    const topo = await fetch(`${url}/api/v1/topology`);
    expect(topo.status).toBe(200);
    const t = (await topo.json()) as {
      name: string;
      workers: number;
      config: Record<string, unknown>;
      components: { id: string; kind: string; parallelism: number; inputs: { from: string; grouping: string }[] }[];
    };
    expect(t.name).toBe('metrics-all');
    expect(t.config).toEqual({ acking: true, maxSpoutPending: 5000, messageTimeoutMs: 1000 });
    expect(t.workers).toBe(2);
    expect(t.components.map((c) => c.id)).toEqual(['seq', 'flaky', 'count', 'pairs', 'hold', 'tail', 'lines']);
    const flaky = t.components.find((c) => c.id === 'flaky')!;
    expect(flaky).toMatchObject({ kind: 'bolt', parallelism: 2, inputs: [{ from: 'seq', grouping: 'shuffle' }] });
    expect(t.components.find((c) => c.id === 'tail')).toMatchObject({ kind: 'spout', inputs: [] });
  });
});

describe('scraping while a worker thread restarts', () => {
  let engine: Engine | undefined;
  let server: ControlServer | undefined;

  afterAll(() => shutdown(engine, server));

  test('every scrape answers 200 with the counters, and no counter goes backwards', async () => {
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 0 } },
        { id: 'flaky', export: 'flakyBolt', parallelism: 2, config: { delayEvery: 400 } },
        { id: 'count', export: 'countBolt', parallelism: 2 },
      ],
      [
        { from: 'seq', to: 'flaky' },
        { from: 'flaky', to: 'count' },
      ],
      { messageTimeoutMs: 2000 },
    );
    const plan = createPlan(s, 2);
    // The tasks of worker 1, as they appear in the metrics' labels.
    const onVictim = plan.tasks.filter((t) => t.worker === 1).map((t) => `component="${t.componentId}",task="${t.taskIndex}"`);
    expect(onVictim.length).toBeGreaterThan(0);
    const victims = (sample: string) => onVictim.some((v) => sample.includes(v));
    let logs: { level: string; msg: string }[];
    ({ engine, logs } = await start(s, 2));
    const e = engine;
    server = await startControlServer(e, { port: 0 });
    await waitFor(async () => total(await e.stats(), 'count', (x) => x.executed) > 5000, 20_000, 'some output');

    // Scrape back to back: 2 s before the kill, then until the replacement has answered for a while.
    const scrapes: { status: number; text: string; ms: number; at: number }[] = [];
    let killedAt = 0;
    let killed: Promise<void> | undefined;
    const t0 = Date.now();
    while (Date.now() - t0 < 10_000) {
      const r = await scrape(server);
      scrapes.push({ ...r, at: Date.now() });
      if (!killed && Date.now() - t0 > 2000) {
        killedAt = Date.now();
        killed = e.killWorker(1);
      }
      if (killed && e.info().restarts === 1 && Date.now() - killedAt > 2500) break;
    }
    await killed;
    expect(e.info().restarts).toBe(1);
    expect(logs.some((l) => l.level === 'warn' && /worker 1 died/.test(l.msg))).toBe(true);

    const parsed = scrapes.map((x) => parseExposition(x.text));
    const counters = parsed.map((p) => monotonicSamples(p));
    const first = counters[0]!;
    expect([...first.keys()].filter(victims).length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (let i = 0; i < scrapes.length; i++) {
      const x = scrapes[i]!;
      const when = `scrape ${i} (${x.at - killedAt} ms after the kill, took ${Math.round(x.ms)} ms)`;
      if (x.status !== 200) problems.push(`${when}: HTTP ${x.status}`);
      const now = counters[i]!;
      for (const k of first.keys()) if (!now.has(k)) problems.push(`${when}: ${k} missing`);
      if (i === 0) continue;
      for (const [k, v] of counters[i - 1]!) {
        const w = now.get(k);
        if (w === undefined || w >= v) continue;
        problems.push(`${when}: ${k} went from ${v} to ${w}`);
      }
    }
    expect(problems.slice(0, 20), `${problems.length} problems in ${scrapes.length} scrapes`).toEqual([]);

    // The restarted worker's tasks count on: the last scrape is past the first.
    const last = counters.at(-1)!;
    const grew = onVictim.filter((v) => {
      const k = `qitian_tuples_acked_total{topology="test",${v}}`;
      return (last.get(k) ?? 0) > (first.get(k) ?? Number.POSITIVE_INFINITY);
    });
    expect(grew, `acked of worker 1's tasks (${onVictim.join('; ')}) did not grow`).toEqual(onVictim);
    expect(parsed.at(-1)!.samples.get('qitian_worker_restarts_total{topology="test"}')).toBe(1);
  });
});

// Last, so that Prometheus (started before every test) has found its target by then: its target
// discovery hands new targets to the scrapers only every 5 s.
describe('a real Prometheus server scraping a topology', () => {
  let engine: Engine | undefined;
  let server: ControlServer | undefined;

  afterAll(() => shutdown(engine, server));

  test('gets the exact counts of a finished input and the configured rate', async () => {
    requireTools();
    const p = await prom!;
    const RATE = 400; // tuples per second per task
    const TASKS = 2;
    const COUNT = 4400; // per task: 11 s at RATE
    const dir = tempDir();
    const idle = join(dir, 'idle.log');
    writeFileSync(idle, '');
    const s = mixedSpec(
      'metrics-prom',
      [
        { id: 'gen', builtin: 'generatorSpout', parallelism: TASKS, config: { rate: RATE, count: COUNT, format: 'sequence' } },
        { id: 'count', export: 'countBolt', parallelism: 2 },
        // Follows an empty file: never ends, so the topology stays up after gen's input ends.
        { id: 'keepalive', builtin: 'fileSpout', config: { path: idle, follow: true, pollInterval: '100ms' } },
        { id: 'idle', export: 'countBolt' },
      ],
      [
        { from: 'gen', to: 'count' },
        { from: 'keepalive', to: 'idle' },
      ],
      { acking: true },
    );
    ({ engine } = await start(s, 2));
    const e = engine;
    await reserved!.release();
    server = await startControlServer(e, { port: reserved!.port });
    const fail = (what: string) => `${what}\n--- prometheus output ---\n${p.output()}`;

    // (b) The rate, while gen still emits, at the time of a scrape (Prometheus stamps scrapes
    // exactly 1 s apart). rate() over the 5 s before it is the counter's slope between the first
    // and last scrape in the window, extrapolated to the window's edges at that slope, unless the
    // extrapolation would take the counter below zero: so the window starts 3 scrapes into the run.
    const window = 'qitian_tuples_emitted_total{component="gen"}[5s]';
    const enough = await pollUntil(
      async () => {
        const at = await p.scalar('max(timestamp(qitian_tuples_emitted_total{component="gen"}))');
        const n = at === undefined ? undefined : await p.scalar('min(count_over_time(qitian_tuples_emitted_total{component="gen"}[8s]))', at);
        return { at, n };
      },
      (v) => (v.n ?? 0) >= 8,
      20_000,
    );
    expect(enough.ok, fail(`fewer than 8 scrapes within 8 s: ${JSON.stringify(enough.value)}`)).toBe(true);
    const at = enough.value.at!;
    const rate = await p.scalar(`sum(rate(${window}))`, at);
    // The window lies within gen's steady run: it had not reached its count yet.
    expect(await p.scalar('sum(qitian_tuples_emitted_total{component="gen"})', at)).toBeLessThan(TASKS * COUNT);
    // Tolerance 10%. The counter is read a little after the time Prometheus stamps on the scrape
    // (the main thread asks each worker thread in turn): up to ~100 ms of that jitter at each end
    // of a >= 4 s span on a loaded 2-core machine is 5%; the generator's token bucket lets a task
    // run up to its 50 ms burst ahead or behind at each end, 2.5% more.
    expect(rate, fail(`rate ${rate} vs configured ${RATE * TASKS}`)).toBeGreaterThan(RATE * TASKS * 0.9);
    expect(rate).toBeLessThan(RATE * TASKS * 1.1);

    // (a) The counts, once gen's bounded input is done and all its trees completed.
    await waitFor(
      async () => {
        const st = await e.stats();
        return total(st, 'gen', (x) => x.acked) === TASKS * COUNT && total(st, 'count', (x) => x.executed) === TASKS * COUNT;
      },
      20_000,
      'gen to finish its input',
    );
    const own = summarize(await e.stats());
    const mine = (c: string) => own.find((x) => x.component === c)!;
    const expected = { executed: mine('count').executed, emitted: mine('gen').emitted, acked: mine('gen').acked, failed: mine('gen').failed };
    expect(expected).toEqual({ executed: TASKS * COUNT, emitted: TASKS * COUNT, acked: TASKS * COUNT, failed: 0 });
    const queries: Record<keyof typeof expected, string> = {
      executed: 'sum(qitian_tuples_executed_total{component="count"})',
      emitted: 'sum(qitian_tuples_emitted_total{component="gen"})',
      acked: 'sum(qitian_tuples_acked_total{component="gen"})',
      failed: 'sum(qitian_tuples_failed_total{component="gen"})',
    };
    const read = async () => {
      const out: Record<string, number | undefined> = {};
      for (const [k, q] of Object.entries(queries)) out[k] = await p.scalar(q);
      return out;
    };
    // The next scrape (at most 1 s away) has the final figures.
    const seen = await pollUntil(read, (v) => Object.entries(expected).every(([k, x]) => v[k] === x), 5000);
    expect(seen.value, fail('Prometheus never saw the final counts')).toEqual(expected);
    expect(await p.scalar('up{job="qitian"}')).toBe(1);

    // What the run reports at its end is what Prometheus has.
    const summary = await e.stop();
    expect(summary.reason).toBe('stopped');
    const final = summarize(summary.tasks);
    const ended = (c: string) => final.find((x) => x.component === c)!;
    expect({ executed: ended('count').executed, emitted: ended('gen').emitted, acked: ended('gen').acked, failed: ended('gen').failed }).toEqual(expected);
  });
});
