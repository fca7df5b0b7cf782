/** Keyed state is copied to the main thread and given back to a replacement thread, and kept in a state dir. */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { loadState, stateFile, summarize } from '@qitian/runtime';
import { createPlan, type TopologyConfig } from '@qitian/topology';
import { expect, test } from 'vitest';
import { spec, start, tempDir, waitFor } from './kit.js';

/**
 * N numbers fields-grouped to a keyed counter on worker 1, which is killed once half are counted;
 * the run goes on to its end with a replacement thread.
 */
async function killMidStream(N: number, counter: Record<string, unknown>, config: Partial<TopologyConfig>) {
  const s = spec(
    [
      { id: 'seq', export: 'seqSpout', config: { count: N } },
      { id: 'counter', export: 'keyedCountSink', config: { delayEvery: 20, ...counter } },
    ],
    [{ from: 'seq', to: 'counter', grouping: { type: 'fields', fields: ['n'] } }],
    config,
  );
  const plan = createPlan(s, 2);
  expect(plan.tasks[plan.componentTasks.counter![0]!]!.worker).toBe(1);
  const { engine, logs } = await start(s, 2);
  const executed = async () => (await engine.stats()).filter((t) => t.componentId === 'counter').reduce((a, t) => a + t.executed, 0);
  await waitFor(async () => (await executed()) > N / 2, 20_000, 'half of the stream counted');
  await engine.killWorker(1);
  const summary = await engine.finished;
  expect(summary.reason).toBe('completed');
  expect(summary.restarts).toBe(1);
  return { summary, logs };
}

test('a killed thread comes back with its keyed state as of the last copy, not empty', async () => {
  const N = 40_000;
  const { summary, logs } = await killMidStream(N, {}, { stateSnapshotIntervalMs: 50, messageTimeoutMs: 2000 });
  expect(logs.some((l) => l.msg.includes('keyed state restored (from the last copy before the thread restart)'))).toBe(true);
  // What the copy misses is said, with its age.
  expect(
    logs.some(
      (l) =>
        l.level === 'warn' &&
        /worker 1: its tasks' keyed state restarts from the copy made \d+ms ago; updates since then for tuples already acked are lost/.test(l.msg),
    ),
  ).toBe(true);
  const total = summarize(summary.tasks).find((c) => c.component === 'counter')!.custom.stateTotal ?? 0;
  // Without the copy, the replacement would start from nothing and count about half. With it,
  // the total is N, give or take what changed between the last copy and the kill (lost) and what
  // was counted but not yet acked (replayed, counted again).
  expect(total).toBeGreaterThan(N * 0.9);
  expect(total).toBeLessThan(N * 1.1);
});

test('a thread killed before the first interval is said to restart from the copy made as it started', async () => {
  // The copies come every 60 s: the only one is the first, made when the bolts started.
  const { logs } = await killMidStream(20_000, {}, { stateSnapshotIntervalMs: 60_000, messageTimeoutMs: 2000 });
  expect(logs.some((l) => l.level === 'warn' && /worker 1: its tasks' keyed state restarts from the copy made \d+ms ago; updates since then/.test(l.msg))).toBe(
    true,
  );
});

test('stateAcks after-copy: a killed thread loses no update of an acked tuple (every key counted at least once)', async () => {
  const N = 40_000;
  // Copies far apart, so that with immediate acks a kill loses updates (1000-2500 keys here).
  const { summary, logs } = await killMidStream(N, { by: 'value' }, { stateSnapshotIntervalMs: 300, messageTimeoutMs: 5000, stateAcks: 'after-copy' });
  expect(
    logs.some((l) => /worker 1: .*copy made \d+ms ago; the tuples executed since then were not acked \(stateAcks: after-copy\) and are replayed/.test(l.msg)),
  ).toBe(true);
  const counter = summarize(summary.tasks).find((c) => c.component === 'counter')!;
  // Each key is one number: all N there means nothing acked was lost; a total above N is the
  // replayed tuples whose update was already in the copy (at least once).
  expect(counter.custom.stateKeys).toBe(N);
  expect(counter.custom.stateTotal).toBeGreaterThanOrEqual(N);
  const replayed = summary.tasks.filter((t) => t.componentId === 'seq').reduce((a, t) => a + t.replayed, 0);
  expect(replayed).toBeGreaterThan(0);
  expect(counter.custom.stateTotal! - N).toBeLessThanOrEqual(replayed);
});

test('with a state dir, keyed state outlives the process and follows its keys to a new parallelism', async () => {
  const dir = tempDir();
  const N = 3000;
  // pairSpout emits a = "k0".."k4"; the counter is fields-grouped on a and keys its state by it.
  const topology = (parallelism: number) =>
    spec(
      [
        { id: 'pairs', export: 'pairSpout', config: { count: N } },
        { id: 'counter', export: 'keyedCountSink', parallelism, config: { by: 'value' } },
      ],
      [{ from: 'pairs', to: 'counter', grouping: { type: 'fields', fields: ['a'] } }],
    );
  const runOnce = async (parallelism: number) => {
    const { engine, logs } = await start(topology(parallelism), 2, { stateDir: dir });
    const summary = await engine.finished;
    expect(summary.reason).toBe('completed');
    expect(engine.info().stateWrittenAt).toBeGreaterThan(Date.now() - 60_000);
    expect(engine.info().stateWriteFailures).toBe(0);
    const counters = summary.tasks.filter((t) => t.componentId === 'counter');
    return { logs, perTask: counters.map((t) => t.custom.stateTotal ?? 0) };
  };
  const first = await runOnce(2);
  expect(first.perTask.reduce((a, b) => a + b, 0)).toBe(N);
  expect(existsSync(stateFile(dir, 'test'))).toBe(true);
  // Again with 3 counter tasks: each key's count is restored to the task its tuples go to now.
  const second = await runOnce(3);
  expect(second.logs.some((l) => l.msg.startsWith('state restored from'))).toBe(true);
  expect(second.logs.some((l) => l.msg.includes('keyed state restored (from the state file)'))).toBe(true);
  expect(second.perTask.reduce((a, b) => a + b, 0)).toBe(2 * N);
  const saved = loadState(stateFile(dir, 'test'), 'test')!;
  expect(Object.fromEntries(saved.states.counter!.counts!)).toEqual({ k0: 1200, k1: 1200, k2: 1200, k3: 1200, k4: 1200 });
});

test('a state file that is not one, or belongs to another topology, stops the start with its path', async () => {
  const dir = tempDir();
  const s = spec(
    [
      { id: 'seq', export: 'seqSpout', config: { count: 10 } },
      { id: 'counter', export: 'keyedCountSink' },
    ],
    [{ from: 'seq', to: 'counter' }],
  );
  writeFileSync(stateFile(dir, 'test'), 'not a state file');
  await expect(start(s, 1, { stateDir: dir })).rejects.toThrow(`${stateFile(dir, 'test')}: not a QiTian state file`);
  const other = { ...s, name: 'other' };
  const { engine } = await start(other, 1, { stateDir: dir });
  await engine.finished;
  renameSync(stateFile(dir, 'other'), stateFile(dir, 'test'));
  await expect(start(s, 1, { stateDir: dir })).rejects.toThrow('holds the state of topology "other", not "test"');
});

test('a state folder that cannot be used, or an empty state file, stops the start, saying why', async () => {
  const s = spec(
    [
      { id: 'seq', export: 'seqSpout', config: { count: 10 } },
      { id: 'counter', export: 'keyedCountSink' },
    ],
    [{ from: 'seq', to: 'counter' }],
  );
  const dir = tempDir();
  // A file where the folder should be.
  writeFileSync(`${dir}/file`, '');
  await expect(start(s, 1, { stateDir: `${dir}/file/state` })).rejects.toThrow(`cannot keep state in "${dir}/file/state"`);
  // Node's own recursive mkdir loops for ever on this one; the start must fail at once instead.
  await expect(start(s, 1, { stateDir: '/proc/qitian-no-such-dir/state' })).rejects.toThrow('cannot keep state in "/proc/qitian-no-such-dir/state"');
  // Folders that do not exist yet are made.
  const { engine } = await start(s, 1, { stateDir: `${dir}/a/b` });
  await engine.finished;
  expect(existsSync(stateFile(`${dir}/a/b`, 'test'))).toBe(true);
  writeFileSync(stateFile(`${dir}/a/b`, 'test'), '');
  await expect(start(s, 1, { stateDir: `${dir}/a/b` })).rejects.toThrow('the state file is empty');
});

test('a state file that cannot be written is counted and logged once; the run goes on', async () => {
  const dir = tempDir();
  // The temporary file the write goes through is a folder: every write fails.
  mkdirSync(`${stateFile(dir, 'test')}.${process.pid}.tmp`, { recursive: true });
  const s = spec(
    [
      { id: 'pairs', export: 'pairSpout', config: { count: 2000 } },
      { id: 'counter', export: 'keyedCountSink', config: { by: 'value' } },
    ],
    [{ from: 'pairs', to: 'counter', grouping: { type: 'fields', fields: ['a'] } }],
  );
  const { engine, logs } = await start(s, 1, { stateDir: dir });
  const summary = await engine.finished;
  expect(summary.reason).toBe('completed');
  expect(engine.info().stateWriteFailures).toBeGreaterThanOrEqual(1);
  expect(engine.info().stateWrittenAt).toBe(0);
  expect(logs.filter((l) => l.level === 'error' && l.msg.startsWith('cannot write the state file'))).toHaveLength(1);
  expect(existsSync(stateFile(dir, 'test'))).toBe(false);
});

test('a damaged state file stops the start; a file from before the checksum is still read', async () => {
  const dir = tempDir();
  const s = spec(
    [
      { id: 'pairs', export: 'pairSpout', config: { count: 500 } },
      { id: 'counter', export: 'keyedCountSink', config: { by: 'value' } },
    ],
    [{ from: 'pairs', to: 'counter', grouping: { type: 'fields', fields: ['a'] } }],
  );
  const { engine } = await start(s, 1, { stateDir: dir });
  await engine.finished;
  const file = stateFile(dir, 'test');
  const good = readFileSync(file);
  // One flipped bit in the body: v8.deserialize alone would take it, restoring a wrong count.
  const body = good.subarray(good.indexOf('\n') + 5);
  const at = good.length - body.length + body.indexOf('k3') + 1;
  const bad = Buffer.from(good);
  bad[at]! ^= 0x04;
  writeFileSync(file, bad);
  await expect(start(s, 1, { stateDir: dir })).rejects.toThrow(`${file}: the state file is damaged`);
  // Without the header (as written before it existed): read as it is.
  writeFileSync(file, body);
  const again = await start(s, 1, { stateDir: dir });
  expect((await again.engine.finished).reason).toBe('completed');
  expect(again.logs.some((l) => l.msg.startsWith('state restored from'))).toBe(true);
  expect(Object.fromEntries(loadState(file, 'test')!.states.counter!.counts!)).toEqual({ k0: 200, k1: 200, k2: 200, k3: 200, k4: 200 });
});

test('saved state a topology would not restore stops the start, unless it is allowed to drop it', async () => {
  const dir = tempDir();
  const topology = (spout: string, counter: string, spouts = 2) =>
    spec(
      [
        { id: spout, export: 'seqSpout', parallelism: spouts, config: { count: 2000, checkpointEvery: 8 } },
        { id: counter, export: 'keyedCountSink' },
      ],
      [{ from: spout, to: counter, grouping: { type: 'fields', fields: ['n'] } }],
    );
  const { engine } = await start(topology('seq', 'counter'), 1, { stateDir: dir });
  await engine.finished;
  const file = stateFile(dir, 'test');
  expect(Object.keys(loadState(file, 'test')!.checkpoints).sort()).toEqual(['seq/0', 'seq/1']);
  // Both components renamed: their positions and counts would be silently lost.
  const renamed = start(topology('numbers', 'count'), 1, { stateDir: dir });
  await expect(renamed).rejects.toThrow(`${file}: holds state this topology would not restore`);
  await expect(renamed).rejects.toThrow('positions of "seq" (task 0, 1): the topology has no component "seq" now');
  await expect(renamed).rejects.toThrow('keyed state "counts" of "counter": the topology has no component "counter" now');
  // One spout task fewer: task 1's position has nowhere to go.
  await expect(start(topology('seq', 'counter', 1), 1, { stateDir: dir })).rejects.toThrow('positions of "seq" task 1: "seq" has 1 task now');
  // Allowed: a warning per thing dropped, and the run goes on from nothing for the renamed ones.
  const dropped = await start(topology('numbers', 'count'), 1, { stateDir: dir, allowNonRestoredState: true });
  expect((await dropped.engine.finished).reason).toBe('completed');
  const warnings = dropped.logs.filter((l) => l.level === 'warn' && l.msg.startsWith('dropping saved'));
  expect(warnings.map((l) => l.msg)).toEqual([
    'dropping saved positions of "seq" (task 0, 1): the topology has no component "seq" now (--allow-non-restored-state)',
    'dropping saved keyed state "counts" of "counter": the topology has no component "counter" now (--allow-non-restored-state)',
  ]);
  expect(Object.keys(loadState(file, 'test')!.checkpoints).sort()).toEqual(['numbers/0', 'numbers/1']);
});

test('keyed state no copy can carry is said once until a copy works again, and counted every time', async () => {
  const s = spec(
    [
      { id: 'seq', export: 'seqSpout', config: { count: 0, delayEvery: 1 } },
      { id: 'held', export: 'functionStateSink' },
    ],
    [{ from: 'seq', to: 'held' }],
    { stateSnapshotIntervalMs: 50 },
  );
  const { engine, logs } = await start(s, 1);
  // Copies every 50 ms, each failing: wait for three counted, however slow the machine is.
  const heldErrors = async () => summarize(await engine.stats()).find((c) => c.component === 'held')?.errors ?? 0;
  await waitFor(async () => (await heldErrors()) >= 3, 20_000, 'three failed copies');
  const summary = await engine.stop();
  const said = logs.filter((l) => l.msg.includes('keyed state copy'));
  expect(said).toHaveLength(1);
  expect(said[0]!.msg).toMatch(/could not be cloned/);
  const held = summarize(summary.tasks).find((c) => c.component === 'held')!;
  expect(held.errors).toBeGreaterThanOrEqual(3);
});

test("a spout's last position, saved in close(), is kept beside keyed state copied before it at the end", async () => {
  const dir = tempDir();
  const N = 2000;
  const s = spec(
    [
      // Saves its position only in close(), 300 ms after the other thread made its last state copy.
      { id: 'seq', export: 'seqSpout', config: { count: N, checkpointEvery: 1_000_000, closeSaveAfterMs: 300 } },
      { id: 'counter', export: 'keyedCountSink', config: { by: 'value' } },
    ],
    [{ from: 'seq', to: 'counter', grouping: { type: 'fields', fields: ['n'] } }],
  );
  const plan = createPlan(s, 2);
  expect(plan.tasks[plan.componentTasks.counter![0]!]!.worker).not.toBe(plan.tasks[plan.componentTasks.seq![0]!]!.worker);
  const { engine } = await start(s, 2, { stateDir: dir });
  expect((await engine.finished).reason).toBe('completed');
  const saved = loadState(stateFile(dir, 'test'), 'test')!;
  expect(saved.states.counter!.counts!.length).toBe(N);
  // Every tree was acked and every thread copied its state after its last execute: the copies
  // hold all that the close position covers. As of the copy, it was "from the start", and a
  // resumed run counted all N again.
  expect(saved.checkpoints['seq/0']).toEqual({ next: N });
  const again = await start(s, 2, { stateDir: dir });
  const summary = await again.engine.finished;
  const counter = summarize(summary.tasks).find((c) => c.component === 'counter')!;
  expect(counter.executed).toBe(0);
  expect(counter.custom.stateTotal).toBe(N);
});

test('keyed state holding a key in two tasks (not keyed by the grouping fields) is said once with a state dir: the file keeps one value', async () => {
  const dir = tempDir();
  const topology = (by: 'mod10' | 'value') =>
    spec(
      [
        { id: 'seq', export: 'seqSpout', config: { count: 1000 } },
        // Fields-grouped on n; keyed by n mod 10 both tasks count every key.
        { id: 'counter', export: 'keyedCountSink', parallelism: 2, config: { by } },
      ],
      [{ from: 'seq', to: 'counter', grouping: { type: 'fields', fields: ['n'] } }],
    );
  const bad = await start(topology('mod10'), 2, { stateDir: dir });
  expect((await bad.engine.finished).reason).toBe('completed');
  const said = bad.logs.filter((l) => l.level === 'warn' && l.msg.includes('is held by tasks'));
  expect(said).toHaveLength(1);
  expect(said[0]!.msg).toMatch(/^keyed state "counts" of "counter": key "\d" is held by tasks 0 and 1; the state file keeps one value per key/);
  const good = await start(topology('value'), 2, { stateDir: tempDir() });
  expect((await good.engine.finished).reason).toBe('completed');
  expect(good.logs.filter((l) => l.msg.includes('is held by tasks'))).toEqual([]);
});

test('a spout position that cannot be copied is refused by saveCheckpoint, saying so', async () => {
  const s = spec(
    [
      { id: 'seq', export: 'seqSpout', config: { count: 10, badCheckpoint: true } },
      { id: 'counter', export: 'keyedCountSink' },
    ],
    [{ from: 'seq', to: 'counter' }],
  );
  await expect(start(s, 1)).rejects.toThrow(
    /component "seq" \(task 0\): open failed: saveCheckpoint: a position must be plain data, it is copied to the main thread: .*could not be cloned/,
  );
});
