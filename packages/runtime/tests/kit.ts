/**
 * Test kit: topologies built by hand from the fixture components (no YAML), runs with captured
 * logs, and small helpers for files and polling.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ComponentDefinition, validateConfig } from '@qitian/api';
import { type ComponentSummary, Engine, type EngineLogLevel, type RunSummary, summarize } from '@qitian/runtime';
import { type ComponentKind, createPlan, DEFAULT_TOPOLOGY_CONFIG, type Grouping, type TopologyConfig, type TopologySpec } from '@qitian/topology';
import * as fixtures from './fixtures/components.js';

/** The fixture component definitions by export name. */
const DEFINITIONS: Readonly<Record<string, ComponentDefinition>> = { ...fixtures };

export const FIXTURES = pathToFileURL(new URL('./fixtures/components.ts', import.meta.url).pathname).href;
export const GROUPING = pathToFileURL(new URL('./fixtures/grouping.ts', import.meta.url).pathname).href;

export interface NodeArgs {
  id: string;
  /** Export name in fixtures/components.ts. */
  export: keyof typeof fixtures;
  parallelism?: number;
  config?: Record<string, unknown>;
  tickMs?: number;
}

export interface StreamArgs {
  from: string;
  to: string;
  grouping?: Partial<Grouping>;
  select?: string[];
}

/** A spec from fixture components: config validated and outputs declared as the loader would. */
export function spec(nodes: NodeArgs[], streams: StreamArgs[], config: Partial<TopologyConfig> = {}): TopologySpec {
  return {
    name: 'test',
    file: 'test.yaml',
    config: { ...DEFAULT_TOPOLOGY_CONFIG, ...config },
    components: nodes.map((n) => {
      const def = DEFINITIONS[n.export]!;
      const checked = validateConfig(def.spec.fields, n.config ?? {});
      if (checked.issues.length > 0) throw new Error(`${n.id}: ${checked.issues.map((i) => i.message).join('; ')}`);
      const cfg = checked.value as Record<string, unknown>;
      const kind: ComponentKind = def.kind;
      return {
        id: n.id,
        kind,
        ref: { url: FIXTURES, export: n.export },
        parallelism: n.parallelism ?? 1,
        config: cfg,
        outputs: kind === 'sink' || !def.outputs ? {} : def.outputs(cfg),
        ...(n.tickMs !== undefined ? { tickMs: n.tickMs } : {}),
        autoAck: def.kind === 'spout' ? false : ((def as { autoAck?: boolean }).autoAck ?? true),
      };
    }),
    streams: streams.map((s) => ({
      from: s.from,
      to: s.to,
      grouping: { type: 'shuffle', stream: 'default', ...s.grouping } as Grouping,
      ...(s.select ? { select: s.select } : {}),
    })),
  };
}

export interface Log {
  level: EngineLogLevel;
  msg: string;
  fields?: Record<string, unknown>;
}

export interface Started {
  engine: Engine;
  logs: Log[];
}

/** Starts a spec on `workers` threads, collecting the engine's log lines. */
export async function start(
  s: TopologySpec,
  workers = 2,
  opts: { maxRestarts?: number; stateDir?: string; allowNonRestoredState?: boolean } = {},
): Promise<Started> {
  const logs: Log[] = [];
  const engine = await Engine.start(createPlan(s, workers), {
    logger: (level, msg, fields) => logs.push({ level, msg, fields }),
    ...(opts.maxRestarts !== undefined ? { maxRestarts: opts.maxRestarts } : {}),
    ...(opts.stateDir !== undefined ? { stateDir: opts.stateDir } : {}),
    ...(opts.allowNonRestoredState ? { allowNonRestoredState: true } : {}),
  });
  return { engine, logs };
}

/** Starts a spec and waits for its run to end. */
export async function run(s: TopologySpec, workers = 2): Promise<{ summary: RunSummary; logs: Log[]; by: Record<string, ComponentSummary> }> {
  const { engine, logs } = await start(s, workers);
  const summary = await engine.finished;
  return { summary, logs, by: byComponent(summary) };
}

export function byComponent(summary: RunSummary): Record<string, ComponentSummary> {
  return Object.fromEntries(summarize(summary.tasks).map((c) => [c.component, c]));
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'qitian-rt-'));
}

/** The lines of a file (none when it does not exist). */
export function lines(path: string): string[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  return text.length === 0 ? [] : text.trimEnd().split('\n');
}

/** Each line of a JSON-lines file, parsed. */
export function jsonLines<T = unknown[]>(path: string): T[] {
  return lines(path).map((l) => JSON.parse(l) as T);
}

/** The first value of every JSON line (the "n" the fixtures pass along). */
export function firstValues(path: string): number[] {
  return jsonLines<number[]>(path).map((v) => v[0]!);
}

/** How often each value occurs. */
export function counts(values: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 10 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(10);
  }
}
