/**
 * A consumer's input filter (BoltDefinition.inputFilter) runs in the sending task: what it turns
 * down is never copied or delivered, counted as neither dropped nor failed, and its tuple tree
 * completes; a filter that throws lets tuples through and counts an error of the sender.
 */
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { firstValues, run, spec, tempDir } from './kit.js';

const N = 10_000;

function topology(keep: 'even' | 'throw', acking = true) {
  const out = join(tempDir(), 'out.jsonl');
  // Two seq tasks and two sink tasks over two threads: tuples stay in their thread and cross.
  const s = spec(
    [
      { id: 'seq', export: 'seqSpout', parallelism: 2, config: { count: N } },
      { id: 'sink', export: 'filteredSink', parallelism: 2, config: { path: out, keep } },
    ],
    [{ from: 'seq', to: 'sink', grouping: { type: 'fields', fields: ['n'] } }],
    { acking },
  );
  return { s, out };
}

test.each([true, false])('tuples the filter turns down never reach the consumer, and their trees complete (acking %s)', async (acking) => {
  const { s, out } = topology('even', acking);
  const { summary, by } = await run(s, 2);
  expect(summary.reason).toBe('completed');
  const got = firstValues(out).sort((a, b) => a - b);
  expect(got).toEqual(Array.from({ length: N / 2 }, (_, i) => 2 * i));
  expect(by.seq!.acked).toBe(N);
  expect(by.seq!.failed).toBe(0);
  expect(by.seq!.dropped).toBe(0);
  expect(by.seq!.transferred).toBe(N / 2);
  expect(by.sink!.executed).toBe(N / 2);
});

test('a filter that throws lets every tuple through, and each throw is an error of the sender, logged', async () => {
  const { s, out } = topology('throw');
  const { summary, by, logs } = await run(s, 2);
  expect(summary.reason).toBe('completed');
  expect(firstValues(out).length).toBe(N);
  expect(by.seq!.acked).toBe(N);
  expect(by.seq!.errors).toBe(N);
  const logged = logs.find((l) => l.level === 'error' && l.msg.startsWith('input filter of "sink" on stream "default" failed: a filter that throws'));
  expect(logged?.fields).toMatchObject({ component: 'seq' });
});
