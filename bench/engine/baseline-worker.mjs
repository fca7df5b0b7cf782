// The plain loop of bench/engine, run in a fresh worker thread so that it starts as cold as the
// engine's worker threads do (same JIT warm-up, same kind of thread); posts lines per second.
// With `gate` (a SharedArrayBuffer), it waits for the main thread's go, so that two loops can run
// at once (the machine's own two-thread capacity).
import { parentPort, workerData } from 'node:worker_threads';
import { LineMaker } from '@qitian/netops';
import { importModule } from '@qitian/topology';

const { Counts, parseLine } = await importModule(new URL('./workload.ts', import.meta.url).href);
const { lines, seed, task = 0, gate } = workerData;
const maker = new LineMaker('syslog', seed, task);
const counts = new Counts();
if (gate) {
  // Two loops at once: both start together, once both are loaded.
  const flag = new Int32Array(gate);
  parentPort.postMessage('ready');
  Atomics.wait(flag, 0, 0);
}
const t0 = performance.now();
for (let i = 0; i < lines; i++) {
  const parsed = parseLine(maker.line(i));
  if (parsed !== null) counts.add(parsed[0], parsed[1]);
}
const secs = (performance.now() - t0) / 1000;
parentPort.postMessage({ linesPerSecond: lines / secs, counted: counts.total });
