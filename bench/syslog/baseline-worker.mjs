// The plain loop of bench/syslog (workload.ts), run in a fresh worker thread so that it starts as
// cold as the engine's worker threads do; posts events per second and what it counted.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { DeviceSyslogModel } from '@qitian/netops';
import { importModule } from '@qitian/topology';

const { PlainPipeline } = await importModule(new URL('./workload.ts', import.meta.url).href);
const { configs, source, lines, file } = workerData;
const pipeline = new PlainPipeline(configs);
let t0;
if (source === 'devices') {
  // The spout's lines: one model per task, as the device-syslog spout makes them.
  const c = configs.devices;
  const tasks = workerData.spouts;
  const models = [];
  for (let k = 0; k < tasks; k++) {
    models.push(
      new DeviceSyslogModel(
        { seed: c.seed, devices: c.devices, start: c.start, speedup: c.speedup, rate: c.rate, baseRate: c.baseRate, rateSteps: c.rateSteps, faults: c.faults },
        k,
      ),
    );
  }
  const perTask = lines / tasks;
  t0 = performance.now();
  for (let i = 0; i < perTask; i++) {
    for (let k = 0; k < tasks; k++) {
      const m = models[k];
      const line = m.line(i);
      pipeline.add(line, m.peer, m.time);
    }
  }
} else {
  // The file spout's lines: read in chunks, split on newlines, no peer, no receive time.
  t0 = performance.now();
  const text = readFileSync(file, 'utf8');
  let from = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
    pipeline.add(text.slice(from, nl), null, null);
    from = nl + 1;
  }
}
const counted = pipeline.finish();
const seconds = (performance.now() - t0) / 1000;
parentPort.postMessage({ eventsPerSecond: counted.events / seconds, seconds, counted });
