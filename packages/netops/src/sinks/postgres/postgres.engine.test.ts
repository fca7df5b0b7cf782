/**
 * The postgres sink through the engine, on worker threads, against the real server at
 * 127.0.0.1:5432 (database `test`, trust auth), in a schema of its own, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { type ComponentDefinition, validateConfig } from '@qitian/api';
import { Engine, type RunSummary } from '@qitian/runtime';
import { createPlan, DEFAULT_TOPOLOGY_CONFIG, type TopologySpec } from '@qitian/topology';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsSpout, postgresSink } from './engine-fixtures.js';

const FIXTURES = new URL('./engine-fixtures.ts', import.meta.url).href;
const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const schema = `qitian_engine_${randomBytes(4).toString('hex')}`;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ ...PG, connectionTimeoutMillis: 5000 });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
});

afterAll(async () => {
  await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await admin?.end();
});

function topology(spout: Record<string, unknown>, sink: Record<string, unknown>, config: Partial<TopologySpec['config']> = {}): TopologySpec {
  const node = (id: string, exported: string, def: ComponentDefinition, raw: Record<string, unknown>) => {
    const checked = validateConfig(def.spec.fields, raw);
    if (checked.issues.length > 0) throw new Error(`${id}: ${checked.issues.map((i) => i.message).join('; ')}`);
    const cfg = checked.value as Record<string, unknown>;
    return {
      id,
      kind: def.kind,
      ref: { url: FIXTURES, export: exported },
      parallelism: 1,
      config: cfg,
      outputs: def.kind === 'sink' || !def.outputs ? {} : def.outputs(cfg),
      autoAck: def.kind === 'spout' ? false : ((def as { autoAck?: boolean }).autoAck ?? true),
    };
  };
  return {
    name: 'pg-test',
    file: 'pg-test.yaml',
    config: { ...DEFAULT_TOPOLOGY_CONFIG, ...config },
    components: [node('events', 'eventsSpout', eventsSpout, spout), node('store', 'postgresSink', postgresSink, { ...PG, schema, ...sink })],
    streams: [{ from: 'events', to: 'store', grouping: { type: 'shuffle', stream: 'default' } }],
  };
}

async function stored(table: string): Promise<number> {
  const r = await admin.query(
    `SELECT count(*)::int AS n FROM (${[0, 1, 2, 3, 4, 5, 6, 7].map((s) => `SELECT 1 FROM ${schema}.${table}_${['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'][s]}`).join(' UNION ALL ')}) AS t`,
  );
  return r.rows[0].n;
}

/** The run's end, or a failure once `ms` have passed (a run held by the 1h linger would take an hour). */
function within(finished: Promise<RunSummary>, ms: number, what: string): Promise<RunSummary> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms}ms`)), ms);
  });
  return Promise.race([finished, late]).finally(() => clearTimeout(timer));
}

describe('postgres sink on the engine, with acking on and a long linger', () => {
  it('a finite input ends the run as soon as its rows are written: the linger does not hold the end', async () => {
    const engine = await Engine.start(createPlan(topology({ count: 250 }, { table: 'finite', linger: '1h', batchSize: 1000 }), 1), { logger: () => {} });
    const summary = await within(engine.finished, 30_000, 'the run');
    expect(summary.reason).toBe('completed');
    expect(await stored('finite')).toBe(250);
    const spout = summary.tasks.find((t) => t.componentId === 'events')!;
    expect([spout.acked, spout.failed]).toEqual([250, 0]);
  });

  it('a stop writes the held rows at once: the drain completes every tree, none is abandoned to drainTimeout', async () => {
    // drainTimeout above the test's own limit: a drain that waited for it fails the test either way.
    const spec = topology({ count: 120, follow: true }, { table: 'stopped', linger: '1h', batchSize: 1000 }, { drainTimeoutMs: 120_000 });
    const engine = await Engine.start(createPlan(spec, 1), { logger: () => {} });
    const deadline = Date.now() + 20_000;
    const executed = async () => (await engine.stats()).filter((t) => t.componentId === 'store').reduce((a, t) => a + t.executed, 0);
    while ((await executed()) < 120) {
      if (Date.now() > deadline) throw new Error('the sink did not get 120 events in 20 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    // Held by the linger until now.
    expect(await stored('stopped')).toBe(0);
    const summary = await within(engine.stop(), 30_000, 'the stop');
    expect(summary.reason).toBe('stopped');
    expect([summary.abandoned, summary.incomplete]).toEqual([0, false]);
    expect(await stored('stopped')).toBe(120);
    const spout = summary.tasks.find((t) => t.componentId === 'events')!;
    expect([spout.acked, spout.failed]).toEqual([120, 0]);
  });
});
