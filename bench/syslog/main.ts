/**
 * bench/syslog (issue 4): the syslog analysis pipeline (parse, priority-route, two-stage Top-N,
 * per-host clustering, alert strategies; pipeline.yaml) on 2 worker threads, beside a plain
 * single-threaded loop doing the same work with the components' own classes (workload.ts), in
 * the same run. Both sides get the same lines: from the device-syslog generator (rate 0, as fast
 * as asked; devices.yaml) or, with `--source file`, from a file of pre-generated lines read by the
 * file spout (file.yaml). Sinks on both sides only count (events per severity, rankings, alerts):
 * no disk writes. The plain loop runs in a fresh worker thread each round, as the engine's threads
 * are fresh each run; rounds alternate, figures are medians, the ratio is the median of the
 * per-round ratios. Every round checks that both sides counted the same events per severity,
 * the same rankings (and events ranked), cluster windows and alerts.
 *
 *   npm run bench -- syslog [--quick] [--source devices|file]
 */
import { once } from 'node:events';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DeviceSyslogModel } from '@qitian/netops';
import { engineRun, loadSpec, type Outcome, type Source } from './engine-run.js';
import type { Counted } from './workload.js';

const quick = process.argv.includes('--quick');
const at = process.argv.indexOf('--source');
const source: Source = at > 0 ? (process.argv[at + 1] as Source) : 'devices';
if (source !== 'devices' && source !== 'file') throw new Error(`--source: devices or file, got ${source}`);
// --quick stays under 30 s on this machine also when it is busy (300k took 35 s beside another job).
const LINES = quick ? 200_000 : 3_000_000;
const ROUNDS = quick ? 3 : 5;
const WARMUP = LINES / 5;
/** The file of pre-generated lines for `--source file` (written once, kept in the temp dir). */
const fileFor = (lines: number) => join(tmpdir(), `qitian-bench-syslog-${lines}.log`);

/** The lines of the generator's default config (devices.yaml), written once to a file for `--source file`. */
async function writeLines(path: string, n: number): Promise<void> {
  if (existsSync(path) && statSync(path).size > n * 60) return;
  const spec = await loadSpec('devices', n);
  const c = spec.components.find((x) => x.id === 'devices')!.config as Record<string, never>;
  const m = new DeviceSyslogModel({ seed: c.seed, devices: c.devices, start: c.start, rate: 0, baseRate: c.baseRate, faults: c.faults }, 0);
  const out = createWriteStream(path);
  for (let i = 0; i < n; i += 10_000) {
    const chunk = `${m.lines(Math.min(10_000, n - i), i).join('\n')}\n`;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function specFor(lines: number) {
  return loadSpec(source, lines, source === 'file' ? { path: fileFor(lines) } : {});
}

/** The plain loop, in a fresh worker thread, on the same configs as the engine's run. */
async function baseline(lines: number): Promise<{ eventsPerSecond: number; counted: Counted }> {
  const spec = await specFor(lines);
  const configs = Object.fromEntries(spec.components.map((c) => [c.id, c.config]));
  const spouts = spec.components.find((c) => c.kind === 'spout')!.parallelism;
  const worker = new Worker(new URL('./baseline-worker.mjs', import.meta.url), { workerData: { configs, source, lines, spouts, file: fileFor(lines) } });
  const [result] = (await once(worker, 'message')) as [{ eventsPerSecond: number; counted: Counted }];
  await worker.terminate();
  if (result.counted.events !== lines) throw new Error(`baseline counted ${result.counted.events} of ${lines} events`);
  return result;
}

async function engine(lines: number): Promise<Outcome> {
  return engineRun(await specFor(lines), lines);
}

/**
 * Differences between what the two sides counted (empty: the same): events per severity,
 * rankings and the events they cover, cluster windows. Alerts are not compared here: threshold
 * strategies fire on the event that crosses the count in arrival order, and events from the two
 * parse tasks reach the alert bolt up to tens of simulated seconds out of order, so the engine
 * can count a few boundary events in another window (it counts them in the previous window's
 * baseline) and fire a little later or not at all; both sides' alerts are reported.
 */
function differences(a: Counted, b: Outcome): string[] {
  const out: string[] = [];
  for (const k of ['stored', 'rankings', 'ranked'] as const) {
    const x = a[k];
    const y = b[k];
    for (const key of new Set([...Object.keys(x), ...Object.keys(y)]))
      if ((x[key] ?? 0) !== (y[key] ?? 0)) out.push(`${k}.${key}: loop ${x[key] ?? 0}, engine ${y[key] ?? 0}`);
  }
  if (a.windows !== b.windows) out.push(`cluster windows: loop ${a.windows}, engine ${b.windows}`);
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

if (source === 'file') for (const n of [WARMUP, LINES]) await writeLines(fileFor(n), n);

// Warm-up: module loading and tsx in the main thread, the OS's file cache.
await baseline(WARMUP);
await engine(WARMUP);

const base: number[] = [];
const eng: number[] = [];
const ratios: number[] = [];
let mismatches: string[] = [];
let last: { counted: Counted; outcome: Outcome } | undefined;
for (let r = 0; r < ROUNDS; r++) {
  const b = await baseline(LINES);
  const e = await engine(LINES);
  base.push(b.eventsPerSecond);
  eng.push(e.eventsPerSecond);
  ratios.push(e.eventsPerSecond / b.eventsPerSecond);
  const diff = differences(b.counted, e);
  if (diff.length > 0) mismatches = diff;
  last = { counted: b.counted, outcome: e };
  console.log(
    `round ${r + 1}: plain loop ${Math.round(b.eventsPerSecond)} events/s, engine (2 threads) ${Math.round(e.eventsPerSecond)} events/s ` +
      `(${(e.eventsPerSecond / b.eventsPerSecond).toFixed(3)}x)${diff.length ? `; results differ: ${diff.join('; ')}` : '; same results'}`,
  );
}

const ratio = median(ratios);
const engineRate = median(eng);
const result = {
  bench: 'syslog',
  quick,
  source,
  lines: LINES,
  rounds: ROUNDS,
  workers: 2,
  baseline_events_per_s: Math.round(median(base)),
  engine_events_per_s: Math.round(engineRate),
  ratio: Number(ratio.toFixed(3)),
  same_results: mismatches.length === 0,
  ...(mismatches.length ? { differences: mismatches } : {}),
  results: last
    ? {
        stored: last.outcome.stored,
        rankings: last.outcome.rankings,
        cluster_windows: last.outcome.windows,
        alerts_engine: last.outcome.alerts,
        alerts_loop: last.counted.alerts,
        late_engine: last.outcome.late,
        late_loop: last.counted.late,
      }
    : {},
  targets: { ratio: 1.2, engine_events_per_s: 1_500_000 },
  met: { ratio: ratio >= 1.2, engine_events_per_s: engineRate >= 1_500_000 },
};
console.log(JSON.stringify(result));
