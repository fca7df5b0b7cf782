/**
 * One UDP ingest run for profiling the spout's worker thread (not a benchmark):
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/syslog-ingest/profile-udp.ts [RATE] [SECONDS]
 */
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { builtinRegistry } from '@qitian/cli';
import { LineMaker } from '@qitian/netops';
import { Engine, summarize } from '@qitian/runtime';
import { createPlan, loadTopology } from '@qitian/topology';

const rate = Number(process.argv[2] ?? 350_000);
const seconds = Number(process.argv[3] ?? 3);
const port = 20_000 + Math.floor(Math.random() * 20_000);
const maker = new LineMaker('syslog', 7, 0);
const lines = Array.from({ length: 10_000 }, (_, i) => maker.line(i));
const spec = await loadTopology(fileURLToPath(new URL('./topology.yaml', import.meta.url)), {
  registry: builtinRegistry(),
  vars: { protocol: 'udp', port: String(port) },
});
const run = await Engine.start(createPlan(spec, 1));
const worker = new Worker(new URL('./udp-sender.mjs', import.meta.url), { workerData: { port, count: rate * seconds, rate, lines } });
const [sent] = (await once(worker, 'message')) as [{ sent: number }];
await worker.terminate();
await new Promise((r) => setTimeout(r, 1500));
const summary = await run.stop();
const spout = summarize(summary.tasks).find((c) => c.component === 'syslog');
console.log(JSON.stringify({ rate, sent: sent.sent, ...spout?.custom }));
