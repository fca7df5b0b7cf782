/**
 * bench/syslog-ingest (issue 4): how fast the `syslog` spout takes syslog in, beside rsyslogd
 * (the Debian package) receiving the same stream on the same machine.
 *
 * UDP: the highest rate received without loss. The same paced sender (udp-sender.mjs, its own
 * thread) sends the same ~118-byte RFC 3164 lines (the generator's `syslog` format) at rising
 * rates, `STEP_SECONDS` each, to the spout (topology.yaml: syslog spout -> counting sink, one
 * worker thread) and to rsyslogd (imudp -> one file). A step is lossless when every datagram
 * sent was counted: by the topology's sink (the spout's own `received` and `dropped{reason}`
 * counters are reported too), by rsyslogd's output file. Rates climb until the first lossy step
 * (then a bisection between the last lossless and the first lossy rate in a full run). Receivers
 * alternate per trial; figures are medians over trials.
 *
 * TCP: events/s from one connection writing octet-counted frames as fast as the socket takes
 * them (tcp-sender.mjs), from the sender's start to the last message counted (the sink records
 * the time it counted the last one; rsyslogd's file is polled every 20 ms), beside rsyslogd's imtcp.
 *
 *   npm run bench -- syslog-ingest [--quick]
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { builtinRegistry } from '@qitian/cli';
import { LineMaker } from '@qitian/netops';
import { Engine, summarize } from '@qitian/runtime';
import { createPlan, loadTopology } from '@qitian/topology';
import { startRsyslog } from './rsyslog.js';

const quick = process.argv.includes('--quick');
const STEP_SECONDS = quick ? 1 : 2;
const RATES = quick
  ? [50_000, 100_000, 200_000, 300_000, 400_000]
  : [25_000, 50_000, 75_000, 100_000, 150_000, 200_000, 250_000, 300_000, 400_000, 500_000, 600_000];
const BISECT = quick ? 0 : 3;
const UDP_TRIALS = quick ? 1 : 3;
const TCP_MESSAGES = quick ? 300_000 : 1_000_000;
const TCP_TRIALS = quick ? 1 : 3;
const TOPOLOGY = fileURLToPath(new URL('./topology.yaml', import.meta.url));

const maker = new LineMaker('syslog', 7, 0);
const LINES = Array.from({ length: 10_000 }, (_, i) => maker.line(i));
const LINE_BYTES = LINES.reduce((a, l) => a + Buffer.byteLength(l), 0) / LINES.length;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port (UDP uses the same number; both are checked free by the receivers' bind). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

/** A receiver under test: how many messages it has taken in so far, in total. */
interface Receiver {
  readonly name: string;
  count(): Promise<number>;
  /** Extra figures (the spout's counters). */
  details(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

async function engineReceiver(protocol: 'udp' | 'tcp', port: number, expect = 0): Promise<Receiver & { doneAt(): Promise<number> }> {
  const spec = await loadTopology(TOPOLOGY, { registry: builtinRegistry(), vars: { protocol, port: String(port), expect: String(expect) } });
  const run = await Engine.start(createPlan(spec, 1));
  const figures = async () => new Map(summarize(await run.stats()).map((c) => [c.component, c]));
  return {
    name: 'qitian',
    async count() {
      return (await figures()).get('count')?.custom.counted ?? 0;
    },
    async details() {
      const f = await figures();
      const spout = f.get('syslog')?.custom ?? {};
      return { counted: f.get('count')?.custom.counted ?? 0, ...spout };
    },
    async doneAt() {
      return (await figures()).get('count')?.custom.done_at_ms ?? 0;
    },
    async stop() {
      const summary = await run.stop();
      if (summary.reason === 'failed') throw new Error(`engine run failed: ${summary.error?.message}`);
    },
  };
}

async function rsyslogReceiver(protocol: 'udp' | 'tcp', port: number): Promise<Receiver> {
  const r = await startRsyslog(protocol, port);
  return {
    name: 'rsyslog',
    count: async () => r.received(),
    details: async () => ({ written: r.received() }),
    stop: () => r.stop(),
  };
}

/** Waits until the receiver has counted `target` more than `before`, or its count stops moving. */
async function settle(rx: Receiver, before: number, target: number, quietMs = 1500): Promise<number> {
  let last = -1;
  let since = performance.now();
  for (;;) {
    const n = (await rx.count()) - before;
    if (n >= target) return n;
    if (n !== last) {
      last = n;
      since = performance.now();
    } else if (performance.now() - since > quietMs) return n;
    await sleep(100);
  }
}

interface Step {
  rate: number;
  sent: number;
  sentPerSecond: number;
  received: number;
  lossless: boolean;
  /** The sender fell more than 3% short of the rate: the step says nothing about the receiver. */
  senderLimited: boolean;
}

async function udpStep(rx: Receiver, port: number, rate: number, seconds: number): Promise<Step> {
  const before = await rx.count();
  const count = Math.round(rate * seconds);
  const worker = new Worker(new URL('./udp-sender.mjs', import.meta.url), { workerData: { port, count, rate, lines: LINES } });
  const [sent] = (await once(worker, 'message')) as [{ sent: number; errors: number; seconds: number }];
  await worker.terminate();
  const received = await settle(rx, before, sent.sent - sent.errors);
  const sentPerSecond = Math.round(sent.sent / sent.seconds);
  return { rate, sent: sent.sent, sentPerSecond, received, lossless: sent.errors === 0 && received === sent.sent, senderLimited: sentPerSecond < rate * 0.97 };
}

/** Steps the rate up until the first loss, then bisects; returns the highest lossless rate and the steps. */
async function maxLossless(rx: Receiver, port: number): Promise<{ max: number; steps: Step[]; senderLimit: boolean; ceiling: boolean }> {
  const steps: Step[] = [];
  // Warm-up: JIT, buffers, rsyslogd's threads.
  await udpStep(rx, port, 20_000, 0.5);
  let ok = 0;
  let bad = 0;
  let senderLimit = false;
  let ceiling = true;
  for (const rate of RATES) {
    const s = await udpStep(rx, port, rate, STEP_SECONDS);
    steps.push(s);
    console.log(`  ${rx.name} udp ${rate}/s: sent ${s.sent} (${s.sentPerSecond}/s), received ${s.received}${s.lossless ? '' : ` LOST ${s.sent - s.received}`}`);
    if (!s.lossless) {
      bad = rate;
      ceiling = false;
      break;
    }
    if (s.senderLimited) {
      console.log(`  the sender reaches only ${s.sentPerSecond}/s: stopping at the sender's limit`);
      ok = s.sentPerSecond;
      senderLimit = true;
      ceiling = false;
      break;
    }
    ok = rate;
    await sleep(300);
  }
  for (let i = 0; i < BISECT && bad > 0; i++) {
    const rate = Math.round((ok + bad) / 2 / 1000) * 1000;
    if (rate <= ok || rate >= bad) break;
    await sleep(300);
    const s = await udpStep(rx, port, rate, STEP_SECONDS);
    steps.push(s);
    console.log(`  ${rx.name} udp ${rate}/s: sent ${s.sent} (${s.sentPerSecond}/s), received ${s.received}${s.lossless ? '' : ` LOST ${s.sent - s.received}`}`);
    if (s.lossless) ok = rate;
    else bad = rate;
  }
  return { max: ok, steps, senderLimit, ceiling };
}

async function tcpRun(which: 'qitian' | 'rsyslog'): Promise<{ eventsPerSecond: number; seconds: number; senderSeconds: number }> {
  const port = await freePort();
  const engineRx = which === 'qitian' ? await engineReceiver('tcp', port, TCP_MESSAGES) : undefined;
  const rx = engineRx ?? (await rsyslogReceiver('tcp', port));
  try {
    const worker = new Worker(new URL('./tcp-sender.mjs', import.meta.url), { workerData: { port, count: TCP_MESSAGES, lines: LINES } });
    let startedAt = 0;
    let senderSeconds = 0;
    worker.once('message', (m: { startedAt: number; seconds: number }) => {
      startedAt = m.startedAt;
      senderSeconds = m.seconds;
    });
    const t0 = Date.now();
    let doneAt = 0;
    for (;;) {
      if ((await rx.count()) >= TCP_MESSAGES) {
        doneAt = engineRx ? await engineRx.doneAt() : Date.now();
        break;
      }
      if (Date.now() - t0 > 120_000) throw new Error(`${which} tcp: ${await rx.count()} of ${TCP_MESSAGES} after 120 s`);
      // The sink records its own end time; rsyslogd's is when the poll sees the last line.
      await sleep(engineRx ? 100 : 20);
    }
    while (startedAt === 0) await sleep(10);
    await worker.terminate();
    const seconds = (doneAt - startedAt) / 1000;
    return { eventsPerSecond: TCP_MESSAGES / seconds, seconds, senderSeconds };
  } finally {
    await rx.stop();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

console.log(`lines: ${LINES.length} distinct, ${LINE_BYTES.toFixed(1)} bytes on average`);

// --- UDP ---
const udp: Record<'qitian' | 'rsyslog', number[]> = { qitian: [], rsyslog: [] };
const udpSteps: Record<string, Step[]> = {};
/** A receiver took everything the sender could send: its true maximum is higher. */
const senderLimited = { qitian: false, rsyslog: false };
/** A receiver lost nothing at the highest rate tried: its true maximum is higher. */
const atCeiling = { qitian: false, rsyslog: false };
let spoutCounters: Record<string, number> = {};
for (let trial = 0; trial < UDP_TRIALS; trial++) {
  const order: ('qitian' | 'rsyslog')[] = trial % 2 === 0 ? ['qitian', 'rsyslog'] : ['rsyslog', 'qitian'];
  for (const which of order) {
    const port = await freePort();
    const rx = which === 'qitian' ? await engineReceiver('udp', port) : await rsyslogReceiver('udp', port);
    try {
      const { max, steps, senderLimit, ceiling } = await maxLossless(rx, port);
      if (ceiling) atCeiling[which] = true;
      udp[which].push(max);
      if (senderLimit) senderLimited[which] = true;
      udpSteps[`${which}#${trial + 1}`] = steps;
      if (which === 'qitian') spoutCounters = await rx.details();
      console.log(`trial ${trial + 1}: ${which} max lossless UDP rate ${max}/s`);
    } finally {
      await rx.stop();
    }
  }
}

// --- TCP ---
const tcp: Record<'qitian' | 'rsyslog', number[]> = { qitian: [], rsyslog: [] };
for (let trial = 0; trial < TCP_TRIALS; trial++) {
  const order: ('qitian' | 'rsyslog')[] = trial % 2 === 0 ? ['qitian', 'rsyslog'] : ['rsyslog', 'qitian'];
  for (const which of order) {
    const r = await tcpRun(which);
    tcp[which].push(r.eventsPerSecond);
    console.log(
      `trial ${trial + 1}: ${which} tcp ${TCP_MESSAGES} messages in ${r.seconds.toFixed(2)} s: ${Math.round(r.eventsPerSecond)} events/s (sender done after ${r.senderSeconds.toFixed(2)} s)`,
    );
  }
}

const udpQ = median(udp.qitian);
const udpR = median(udp.rsyslog);
const tcpQ = median(tcp.qitian);
const tcpR = median(tcp.rsyslog);
console.log(
  JSON.stringify({
    bench: 'syslog-ingest',
    quick,
    line_bytes: Number(LINE_BYTES.toFixed(1)),
    udp: {
      rates: RATES,
      step_seconds: STEP_SECONDS,
      trials: UDP_TRIALS,
      qitian_max_lossless_per_s: udpQ,
      rsyslog_max_lossless_per_s: udpR,
      ratio: udpR > 0 ? Number((udpQ / udpR).toFixed(3)) : null,
      per_trial: udp,
      sender_limited: senderLimited,
      lossless_at_highest_rate: atCeiling,
      spout_counters_last_trial: spoutCounters,
    },
    tcp: {
      messages: TCP_MESSAGES,
      trials: TCP_TRIALS,
      qitian_events_per_s: Math.round(tcpQ),
      rsyslog_events_per_s: Math.round(tcpR),
      ratio: Number((tcpQ / tcpR).toFixed(3)),
      per_trial: { qitian: tcp.qitian.map(Math.round), rsyslog: tcp.rsyslog.map(Math.round) },
    },
  }),
);
