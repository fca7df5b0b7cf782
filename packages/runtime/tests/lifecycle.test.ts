/** Start, run, finish and stop: drain, ticks, async and failing components, finish() order. */
import { join } from 'node:path';
import { Engine, StartAbortedError, WorkerFailedError } from '@qitian/runtime';
import { createPlan } from '@qitian/topology';
import { describe, expect, test } from 'vitest';
import { counts, firstValues, jsonLines, lines, run, sleep, spec, start, tempDir } from './kit.js';

describe('graceful stop', () => {
  test('stop() mid-stream drains: acked ids all reached the sink, every component finished and closed', async () => {
    const dir = tempDir();
    const markers = join(dir, 'markers');
    const ackLog = join(dir, 'acked');
    const out = join(dir, 'out');
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', parallelism: 2, config: { count: 0, ackLog, marker: markers } },
        { id: 'flaky', export: 'flakyBolt', parallelism: 2, config: { marker: markers, delayEvery: 200 } },
        { id: 'sink', export: 'collectSink', parallelism: 2, config: { path: out, marker: markers } },
      ],
      [
        { from: 'seq', to: 'flaky' },
        { from: 'flaky', to: 'sink', grouping: { type: 'fields', fields: ['n'] } },
      ],
      { messageTimeoutMs: 10_000 },
    );
    const { engine } = await start(s, 2);
    await sleep(700);
    const summary = await engine.stop();
    expect(summary.reason).toBe('stopped');
    expect(summary.abandoned).toBe(0);
    expect(summary.restarts).toBe(0);
    const spouts = summary.tasks.filter((t) => t.kind === 'spout');
    expect(spouts.map((t) => t.pending)).toEqual([0, 0]);
    expect(spouts.reduce((a, t) => a + t.failed, 0)).toBe(0);

    const acked = lines(ackLog).map(Number);
    expect(acked.length).toBe(spouts.reduce((a, t) => a + t.acked, 0));
    expect(acked.length).toBeGreaterThan(1000);
    const got = counts(firstValues(out));
    for (const id of acked) if (got.get(id) !== 1) throw new Error(`acked id ${id} reached the sink ${got.get(id) ?? 0} times`);
    // Nothing that was emitted is left behind: every emit was acked.
    expect(got.size).toBe(acked.length);

    const m = lines(markers);
    for (const c of ['flaky', 'sink']) {
      for (const t of [0, 1]) {
        expect(m.filter((l) => l === `finish ${c} ${t}`)).toHaveLength(1);
        expect(m.filter((l) => l === `cleanup ${c} ${t}`)).toHaveLength(1);
        // finish() before cleanup()
        expect(m.indexOf(`finish ${c} ${t}`)).toBeLessThan(m.indexOf(`cleanup ${c} ${t}`));
      }
    }
    // Bolts finish in topological order: every flaky task before any sink task.
    expect(Math.max(m.indexOf('finish flaky 0'), m.indexOf('finish flaky 1'))).toBeLessThan(Math.min(m.indexOf('finish sink 0'), m.indexOf('finish sink 1')));
    expect(m.filter((l) => l.startsWith('close seq')).sort()).toEqual(['close seq 0', 'close seq 1']);
  });
});

describe('a spout that drains what it holds', () => {
  test('deactivate() returning a promise: what the spout emits until it settles goes through the drain', async () => {
    const dir = tempDir();
    const markers = join(dir, 'markers');
    const ackLog = join(dir, 'acked');
    const out = join(dir, 'out');
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 0, ackLog, marker: markers, drainEmits: 500 } },
        { id: 'sink', export: 'collectSink', config: { path: out } },
      ],
      [{ from: 'seq', to: 'sink' }],
    );
    const { engine, logs } = await start(s, 1);
    await sleep(300);
    const summary = await engine.stop();
    expect(summary.reason).toBe('stopped');
    expect(summary.abandoned).toBe(0);
    // What it emits until the promise settles is the drain's, not a late emit.
    expect(logs.filter((l) => l.msg.includes('after it was deactivated'))).toEqual([]);
    const drained = lines(markers).find((l) => l.startsWith('drain-emitted:'));
    expect(drained).toBeDefined();
    const [first, last] = drained!.split(' ')[0]!.split(':').slice(1).map(Number) as [number, number];
    expect(last - first).toBe(499);
    const got = new Set(firstValues(out));
    const acked = new Set(lines(ackLog).map(Number));
    for (let id = first; id <= last; id++) {
      if (!got.has(id)) throw new Error(`id ${id}, emitted while the spout drained, never reached the sink`);
      if (!acked.has(id)) throw new Error(`id ${id}, emitted while the spout drained, was not acked`);
    }
  });

  test('a spout that goes on emitting from its own timer after deactivate() is named at close, with the count', async () => {
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 0, timerEmits: true } },
        { id: 'sink', export: 'collectSink', config: { path: join(tempDir(), 'out') } },
      ],
      [{ from: 'seq', to: 'sink' }],
      { drainTimeoutMs: 500 },
    );
    const { engine, logs } = await start(s, 2);
    await sleep(300);
    expect((await engine.stop()).reason).toBe('stopped');
    const said = logs.filter((l) => l.level === 'warn' && l.msg.includes('after it was deactivated'));
    expect(said).toHaveLength(1);
    expect(said[0]!.fields?.component).toBe('seq');
    expect(said[0]!.msg).toMatch(/^emitted \d+ tuples? after it was deactivated, from its own timers or callbacks rather than next\(\)/);
  });
});

describe('emits too late', () => {
  test('what a bolt emits from cleanup() reaches nobody: dropped, counted and said once', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 100 } },
        { id: 'late', export: 'flakyBolt', config: { emitInCleanup: 3 } },
        { id: 'sink', export: 'collectSink', config: { path: out } },
      ],
      [
        { from: 'seq', to: 'late' },
        { from: 'late', to: 'sink' },
      ],
    );
    const { summary, by, logs } = await run(s, 2);
    expect(summary.reason).toBe('completed');
    expect(by.late!.dropped).toBe(3);
    expect(by.sink!.executed).toBe(100);
    expect(firstValues(out).filter((n) => n < 0)).toEqual([]);
    const said = logs.filter((l) => /after its cleanup\(\) began/.test(l.msg));
    expect(said).toHaveLength(1);
    expect(said[0]!.msg).toMatch(/emitted 3 tuples after its cleanup\(\) began .*emit final results in finish\(\)/);
    expect(said[0]!.fields?.component).toBe('late');
  });
});

describe('drain timeout', () => {
  test('trees still pending when the drain times out are reported as abandoned', async () => {
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 0 } },
        { id: 'hold', export: 'holdBolt' },
      ],
      [{ from: 'seq', to: 'hold' }],
      { maxSpoutPending: 300, drainTimeoutMs: 300 },
    );
    const { engine, logs } = await start(s, 2);
    await sleep(300);
    const t0 = Date.now();
    const summary = await engine.stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(summary.reason).toBe('stopped');
    expect(summary.abandoned).toBe(300);
    expect(logs.some((l) => l.level === 'warn' && /drain timed out after 300ms with 300 tuple trees pending/.test(l.msg))).toBe(true);
    // Where the trees stopped: the bolt that took them and acked none.
    const executed = summary.tasks.find((t) => t.componentId === 'hold')!.executed;
    expect(executed).toBeGreaterThan(0);
    const said = logs.filter((l) => l.level === 'warn' && l.msg.includes('neither acked nor failed'));
    expect(said.map((l) => l.msg)).toEqual([
      `bolt "hold" neither acked nor failed ${executed} of the ${executed} tuples it executed: with autoAck: false, call collector.ack(tuple) or collector.fail(tuple) once for each, or their trees time out (messageTimeout) and their spouts replay them`,
    ]);
  });
});

describe('stop budget', () => {
  test('a stop whose in-flight tuples never settle is over within drainTimeout plus a few seconds, abandoned trees counted at the end', async () => {
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 0 } },
        { id: 'slow', export: 'asyncBolt', parallelism: 2, config: { delayMs: 60_000 } },
        { id: 'sink', export: 'collectSink', config: { path: join(tempDir(), 'out') } },
      ],
      [
        { from: 'seq', to: 'slow' },
        { from: 'slow', to: 'sink' },
      ],
      { maxSpoutPending: 50, drainTimeoutMs: 1500, messageTimeoutMs: 120_000 },
    );
    const { engine, logs } = await start(s, 2);
    await sleep(500);
    const t0 = Date.now();
    const summary = await engine.stop();
    const took = Date.now() - t0;
    // drainTimeout (1.5 s) + STOP_GRACE_MS (2 s) for the steps after it and closing, + terminating the threads.
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(5000);
    expect(summary.reason).toBe('stopped');
    expect(summary.incomplete).toBe(true);
    expect(summary.abandoned).toBe(50);
    expect(logs.some((l) => l.level === 'warn' && /drain timed out after 1500ms with 50 tuple trees pending/.test(l.msg))).toBe(true);
  });
});

describe('end of a run', () => {
  test('a finish() that never returns is given up after drainTimeout, with a warning', async () => {
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 500 } },
        { id: 'stuck', export: 'hangingFinishSink' },
      ],
      [{ from: 'seq', to: 'stuck' }],
      { drainTimeoutMs: 500 },
    );
    const { engine, logs } = await start(s, 2);
    const t0 = Date.now();
    const summary = await engine.finished;
    // drainTimeout for finish, then at most 2 s for close before the threads are terminated.
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(summary.reason).toBe('completed');
    expect(summary.incomplete).toBe(true);
    expect(logs.some((l) => l.level === 'warn' && /finish\(\) of "stuck" did not return within 500ms/.test(l.msg))).toBe(true);
  });
});

describe('a sink that emits', () => {
  test('each execute fails, saying that a sink declares no streams', async () => {
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 3 } },
        { id: 'out', export: 'emittingSink' },
      ],
      [{ from: 'seq', to: 'out' }],
      { acking: false },
    );
    const { engine, logs } = await start(s, 1);
    const summary = await engine.finished;
    expect(summary.tasks.find((t) => t.componentId === 'out')!.errors).toBe(3);
    expect(logs.some((l) => l.msg.includes('sink "out" emitted, but a sink ends its streams and declares none to emit on'))).toBe(true);
  });
});

describe('a component stuck in a loop', () => {
  test('a stop still ends the run: the stuck thread is named, left out after 2 s, and terminated', async () => {
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 10_000_000 } },
        { id: 'loop', export: 'loopingSink', config: { at: 5 } },
      ],
      [{ from: 'seq', to: 'loop' }],
      { drainTimeoutMs: 500 },
    );
    const { engine, logs } = await start(s, 2);
    // While it runs, the stuck thread is named as silent (after 5 s without a report), with its components.
    const stuckOn = createPlan(s, 2).tasks.find((t) => t.componentId === 'loop')!.worker;
    const deadline = Date.now() + 15_000;
    while (engine.info().silentThreads.length === 0 && Date.now() < deadline) await sleep(200);
    // ...and the task whose code holds it, read from memory the thread shares (it answers nothing).
    expect(engine.info().silentThreads).toEqual([
      { worker: stuckOn, silentSeconds: expect.any(Number), components: expect.arrayContaining(['loop']), stuckIn: { component: 'loop', task: 0 } },
    ]);
    const t0 = Date.now();
    const summary = await engine.stop();
    // drainTimeout, 2 s for the stuck thread's answer, then close within the stop's grace.
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(summary.reason).toBe('stopped');
    expect(summary.incomplete).toBe(true);
    expect(logs.some((l) => l.level === 'warn' && /worker \d did not answer within 2s: it is stuck in component "loop" \(task 0\)/.test(l.msg))).toBe(true);
    // Its task is in the summary, with what it last reported.
    expect(summary.tasks.map((t) => t.componentId).sort()).toEqual(['loop', 'seq']);
  });

  test('named at the stop also when no spout waits on it (acking off): the bolts do not settle, and the warning says why', async () => {
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 10_000_000 } },
        { id: 'loop', export: 'loopingSink', config: { at: 5 } },
      ],
      [{ from: 'seq', to: 'loop' }],
      { drainTimeoutMs: 500, acking: false },
    );
    const plan = createPlan(s, 2);
    // On threads of their own: the spout ends at once, with no trees to wait for.
    expect(plan.tasks.find((t) => t.componentId === 'seq')!.worker).not.toBe(plan.tasks.find((t) => t.componentId === 'loop')!.worker);
    const { engine, logs } = await start(s, 2);
    const deadline = Date.now() + 15_000;
    while (engine.info().silentThreads.length === 0 && Date.now() < deadline) await sleep(200);
    const summary = await engine.stop();
    expect(summary.incomplete).toBe(true);
    // Before, only "in-flight tuples did not settle": nothing said which thread, or in what.
    expect(logs.some((l) => l.level === 'warn' && /worker \d did not answer within 2s: it is stuck in component "loop" \(task 0\)/.test(l.msg))).toBe(true);
  });
});

describe('ticks', () => {
  test('a bolt with tickMs gets tick tuples at about that interval', async () => {
    const dir = tempDir();
    const ticks = join(dir, 'ticks');
    const out = join(dir, 'out');
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 0 } },
        { id: 'ticker', export: 'tickBolt', tickMs: 100, config: { path: ticks } },
        { id: 'sink', export: 'collectSink', config: { path: out } },
      ],
      [
        { from: 'seq', to: 'ticker' },
        { from: 'ticker', to: 'sink' },
      ],
    );
    const { engine } = await start(s, 2);
    const startedAt = Date.now();
    await sleep(1200);
    const stoppedAt = Date.now();
    const summary = await engine.stop();
    expect(summary.reason).toBe('stopped');
    const all = lines(ticks).map((l) => l.split(' ').map(Number) as [number, number]);
    expect(all.every(([, nvalues]) => nvalues === 0)).toBe(true);
    // Ticks between the start's end and the stop: ticks begin while the other components still
    // start, which a loaded machine stretches, so the window is measured rather than assumed.
    const t = all.map(([at]) => at).filter((at) => at >= startedAt && at <= stoppedAt);
    expect(t.length).toBeGreaterThanOrEqual(5);
    // Never more than one an interval, however late the timer runs.
    expect(t.length).toBeLessThanOrEqual(Math.floor((stoppedAt - startedAt) / 100) + 2);
    const gaps = t.slice(1).map((at, i) => at - t[i]!);
    const median = gaps.sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
    // About the interval: a loaded machine delays ticks a little, never brings them closer.
    expect(median).toBeGreaterThanOrEqual(70);
    expect(median).toBeLessThanOrEqual(200);
    // Ticks are not data: the sink got only the spout's tuples.
    const seq = summary.tasks.find((x) => x.componentId === 'seq')!;
    expect(firstValues(out).length).toBe(seq.emitted);
    // Nor are they counted as executed or acked input (a quiet bolt would show a tuple a tick).
    const ticker = summary.tasks.find((x) => x.componentId === 'ticker')!;
    expect(ticker.executed).toBe(seq.emitted);
    expect(ticker.acked).toBe(seq.emitted);
    expect(ticker.failed).toBe(0);
  });
});

describe('async and failing components', () => {
  test('an async execute keeps per-task order and completes', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const N = 6000;
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', parallelism: 2, config: { count: N } },
        { id: 'async', export: 'asyncBolt', parallelism: 2 },
        { id: 'sink', export: 'collectSink', config: { path: out, withTask: true } },
      ],
      [
        { from: 'seq', to: 'async' },
        { from: 'async', to: 'sink' },
      ],
    );
    const { summary, by } = await run(s, 2);
    expect(summary.reason).toBe('completed');
    expect(by.seq!.acked).toBe(N);
    expect(by.seq!.failed).toBe(0);
    expect(by.async!.executed).toBe(N);
    expect(by.async!.custom.disorder ?? 0).toBe(0);
    expect(by.async!.custom.overlap ?? 0).toBe(0);
    // [n, spoutTask, sinkTaskIndex, asyncTask]: per (async task, spout task), n increases.
    const rows = jsonLines<[number, number, number, number]>(out);
    expect(rows.length).toBe(N);
    expect(new Set(rows.map((r) => r[0])).size).toBe(N);
    const last = new Map<string, number>();
    for (const [n, spoutTask, , asyncTask] of rows) {
      const k = `${asyncTask}/${spoutTask}`;
      expect(n).toBeGreaterThan(last.get(k) ?? -1);
      last.set(k, n);
    }
  });

  test('a bolt throwing in execute keeps its worker alive and counts errors', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const N = 3000;
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: N } },
        { id: 'thrower', export: 'flakyBolt', parallelism: 2, config: { throwEvery: 3 } },
        { id: 'sink', export: 'collectSink', config: { path: out } },
      ],
      [
        { from: 'seq', to: 'thrower' },
        { from: 'thrower', to: 'sink' },
      ],
      { acking: false },
    );
    const { summary, by, logs } = await run(s, 2);
    expect(summary.reason).toBe('completed');
    expect(summary.restarts).toBe(0);
    expect(by.thrower!.errors).toBe(N / 3);
    expect(by.thrower!.failed).toBe(N / 3);
    expect(by.thrower!.executed).toBe(N);
    const got = firstValues(out);
    expect(got.length).toBe(N - N / 3);
    expect(got.every((n) => n % 3 !== 0)).toBe(true);
    const errors = logs.filter((l) => l.level === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.length).toBeLessThan(N / 3); // rate-limited
    expect(errors[0]!.msg).toMatch(/^execute failed: planned error on \d+$/);
    expect(errors[0]!.fields?.component).toBe('thrower');
  });

  test('a component throwing in prepare makes Engine.start reject, naming it', async () => {
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 10 } },
        { id: 'db', export: 'badPrepareBolt', parallelism: 2 },
      ],
      [{ from: 'seq', to: 'db' }],
    );
    const err = await Engine.start(createPlan(s, 2)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkerFailedError);
    const e = err as WorkerFailedError;
    expect(e.message).toMatch(/"db"/);
    expect(e.message).toMatch(/prepare/);
    expect(e.message).toMatch(/no database here/);
    expect(e.component).toBe('db');
    expect(e.cause).toBeInstanceOf(Error);
  });
});

describe('a finite run', () => {
  test('completes by itself; finish() emits flow downstream in topological order', async () => {
    const dir = tempDir();
    const counted = join(dir, 'counts');
    const total = join(dir, 'total');
    const markers = join(dir, 'markers');
    const N = 20_000;
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', parallelism: 2, config: { count: N } },
        { id: 'count', export: 'countBolt', parallelism: 3 },
        { id: 'sum', export: 'sumBolt' },
        { id: 'counts', export: 'collectSink', config: { path: counted, marker: markers } },
        { id: 'total', export: 'collectSink', parallelism: 2, config: { path: total, marker: markers } },
      ],
      [
        { from: 'seq', to: 'count' },
        { from: 'count', to: 'sum', grouping: { type: 'global' } },
        { from: 'count', to: 'counts' },
        { from: 'sum', to: 'total' },
      ],
    );
    const { summary, by } = await run(s, 2);
    expect(summary.reason).toBe('completed');
    expect(summary.abandoned).toBe(0);
    expect(by.seq!.acked).toBe(N);
    // Each count task emitted its total in finish(); together they add up to N.
    const c = jsonLines<[string, number]>(counted);
    expect(c.map((r) => r[0]).sort()).toEqual(['count/0', 'count/1', 'count/2']);
    expect(c.reduce((a, r) => a + r[1], 0)).toBe(N);
    // sum finished after all three count tasks' finish() emits had reached it.
    expect(jsonLines(total)).toEqual([['sum/0:3', N]]);
    expect(lines(markers).filter((l) => l.startsWith('finish'))).toHaveLength(3);
  });
});

describe('failing lifecycle steps', () => {
  test('finish(), cleanup() and close() that throw are logged and counted as errors of their task; the run completes', async () => {
    for (const step of ['finish', 'cleanup'] as const) {
      const s = spec(
        [
          { id: 'seq', export: 'seqSpout', parallelism: 2, config: { count: 100, throwOnClose: step === 'cleanup' } },
          { id: 'flaky', export: 'flakyBolt', parallelism: 2, config: { throwIn: step } },
        ],
        [{ from: 'seq', to: 'flaky' }],
      );
      const { summary, by, logs } = await run(s, 2);
      expect(summary.reason).toBe('completed');
      expect(by.flaky!.errors).toBe(2);
      expect(logs.filter((l) => l.level === 'error' && l.msg.includes(`planned ${step} failure`))).toHaveLength(2);
      if (step === 'cleanup') {
        expect(by.seq!.errors).toBe(2);
        expect(logs.filter((l) => l.level === 'error' && l.msg.includes('planned close failure'))).toHaveLength(2);
      }
    }
  });

  test('a worker thread that dies in the end phase fails the run at once, with what the others counted', async () => {
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', parallelism: 2, config: { count: 200 } },
        { id: 'flaky', export: 'flakyBolt', parallelism: 2, config: { exitInFinish: 1 } },
      ],
      [{ from: 'seq', to: 'flaky' }],
    );
    const t0 = performance.now();
    const { summary, by, logs } = await run(s, 2);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(summary.reason).toBe('failed');
    expect(summary.error?.message).toMatch(/worker 1 (died|exited).*end/);
    expect(by.flaky).toBeDefined();
    expect(logs.some((l) => l.level === 'error' && /worker 1/.test(l.msg))).toBe(true);
    // The component whose code ended the thread is named.
    expect(summary.error?.message).toMatch(/while running component "flaky" \(task 1\)/);
  });

  test('a start held by an open() that never returns says what it waits for, and can be called off', async () => {
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 10, hangInOpen: true } },
        { id: 'flaky', export: 'flakyBolt' },
      ],
      [{ from: 'seq', to: 'flaky' }],
    );
    const logs: { level: string; msg: string }[] = [];
    const abort = new AbortController();
    const starting = Engine.start(createPlan(s, 1), { signal: abort.signal, logger: (level, msg) => logs.push({ level, msg }) });
    const outcome = starting.then(
      () => 'started',
      (err: unknown) => err,
    );
    await sleep(10_500);
    expect(logs.filter((l) => l.level === 'warn').map((l) => l.msg)).toContainEqual(
      expect.stringMatching(/^still starting after 10s, waiting for worker 0: open\(\) of spout "seq" \(task 0\)/),
    );
    const t0 = performance.now();
    abort.abort();
    expect(await outcome).toBeInstanceOf(StartAbortedError);
    expect(performance.now() - t0).toBeLessThan(3000);
  }, 20_000);

  test('an async execute that runs longer than messageTimeout is reported with its task', async () => {
    const s = spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 1 } },
        { id: 'slow', export: 'asyncBolt', config: { delayMs: 2600 } },
      ],
      [{ from: 'seq', to: 'slow' }],
      { acking: false, messageTimeoutMs: 1000 },
    );
    const { summary, logs } = await run(s, 1);
    expect(summary.reason).toBe('completed');
    const warns = logs.filter((l) => l.level === 'warn' && l.msg.startsWith('an async execute has not settled for'));
    // Said after 1 s and again after 2 s, not every second in between.
    expect(warns.length).toBeGreaterThanOrEqual(1);
    expect(warns.length).toBeLessThanOrEqual(2);
    expect(warns[0]!.msg).toContain('(messageTimeout is 1s); this task takes no more input until it does');
    expect(warns[0]!.fields).toMatchObject({ component: 'slow', task: 0 });
  });
});
