/**
 * One engine run of the syslog benchmark's topology, shared by main.ts and for profiling:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/syslog/engine-run.ts [LINES] [devices|file] [workers=N] [VAR=VALUE...]
 *
 * VAR=VALUE sets the topology's variables (routeParallelism=2, baseRate=..., path=... for file).
 *
 * Each worker thread writes its own .cpuprofile.
 */
import { fileURLToPath } from 'node:url';
import { builtinRegistry } from '@qitian/cli';
import { Engine, summarize } from '@qitian/runtime';
import { createPlan, loadTopology, type TopologySpec } from '@qitian/topology';

export type Source = 'devices' | 'file';

/** What one run counted, for the comparison with the plain loop. */
export interface Outcome {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  stored: Record<string, number>;
  alerts: Record<string, number>;
  rankings: Record<string, number>;
  ranked: Record<string, number>;
  windows: number;
  late: number;
}

export const WORKERS = 2;

export async function loadSpec(source: Source, lines: number, vars: Record<string, string> = {}): Promise<TopologySpec> {
  const file = fileURLToPath(new URL(`./${source}.yaml`, import.meta.url));
  return loadTopology(file, { registry: builtinRegistry(), vars: { perTask: String(lines / Number(vars.spouts ?? 1)), ...vars } });
}

/** Custom counters `name{reason="x"}` of a component summary as { x: n }. */
function byReason(custom: Readonly<Record<string, number>> | undefined, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  const prefix = `${name}{reason="`;
  for (const [k, v] of Object.entries(custom ?? {})) if (k.startsWith(prefix)) out[k.slice(prefix.length, -2)] = v;
  return out;
}

export async function engineRun(spec: TopologySpec, lines: number, workers = WORKERS): Promise<Outcome> {
  const run = await Engine.start(createPlan(spec, workers));
  const result = await run.finished;
  if (result.reason !== 'completed') throw new Error(`engine run ended ${result.reason}: ${result.error?.message}`);
  const c = new Map(summarize(result.tasks).map((s) => [s.component, s]));
  const stored = byReason(c.get('store')?.custom, 'stored');
  const events = Object.values(stored).reduce((a, b) => a + b, 0);
  if (events !== lines) {
    const figures = [...c.values()].map((s) => `${s.component}: emitted ${s.emitted}, executed ${s.executed}, dropped ${s.dropped}, errors ${s.errors}`);
    throw new Error(`engine stored ${events} of ${lines} events (${figures.join('; ')})`);
  }
  const seconds = result.durationMs / 1000;
  const custom = c.get('results')?.custom;
  return {
    events,
    seconds,
    eventsPerSecond: events / seconds,
    stored,
    alerts: byReason(custom, 'alerts'),
    rankings: byReason(custom, 'rankings'),
    ranked: byReason(custom, 'ranked'),
    windows: c.get('behaviour')?.custom.windows ?? 0,
    late: (c.get('topn')?.custom.late ?? 0) + (c.get('behaviour')?.custom.late ?? 0) + (c.get('alerts')?.custom.late ?? 0),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const lines = Number(process.argv[2] ?? 2_000_000);
  const source = (process.argv[3] ?? 'devices') as Source;
  const { workers, ...vars } = Object.fromEntries(process.argv.slice(4).map((a) => a.split('=') as [string, string]));
  const outcome = await engineRun(await loadSpec(source, lines, vars), lines, Number(workers ?? WORKERS));
  console.log(JSON.stringify({ ...outcome, eventsPerSecond: Math.round(outcome.eventsPerSecond) }));
}
