/**
 * One engine run of the bench topology, for profiling (not a benchmark: no baseline, one run):
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/engine/profile-run.ts [WORKERS] [LINES] [TOPOLOGY]
 *
 * Each worker thread writes its own .cpuprofile. A third argument runs a variant of topology.yaml.
 */
import { fileURLToPath } from 'node:url';
import { builtinRegistry } from '@qitian/cli';
import { Engine } from '@qitian/runtime';
import { createPlan, loadTopology } from '@qitian/topology';

const workers = Number(process.argv[2] ?? 1);
const lines = Number(process.argv[3] ?? 2_000_000);
const file = process.argv[4] ?? fileURLToPath(new URL('./topology.yaml', import.meta.url));
const spec = await loadTopology(file, {
  registry: builtinRegistry(),
  vars: { workers: String(workers), perTask: String(lines / workers), acking: 'false' },
});
const run = await Engine.start(createPlan(spec, workers));
const result = await run.finished;
console.log(JSON.stringify({ reason: result.reason, workers, lines, lines_per_s: Math.round(lines / (result.durationMs / 1000)) }));
