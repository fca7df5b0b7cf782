/** Credit returns: a sender gets credits back during a consumer's turn, not only at its end. */
import { MessageChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { afterEach, expect, test } from 'vitest';
import type { PeerMessage } from './protocol.js';
import { Transfer } from './transfer.js';
import { SourceStream } from './tuple-impl.js';

const ports: MessagePort[] = [];
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
});

/** This thread is worker 0 with task 0; worker 1 (task 1) is at the other end of `peer`. */
function transfer(credits: number): { t: Transfer; peer: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const local = { enqueue() {}, localBatches: () => 0, applyAcks() {} };
  const t = new Transfer(0, [0, 1], [null, port1], 100, 5, credits, local, () => {});
  return { t, peer: port2 };
}

function received(port: MessagePort): PeerMessage[] {
  const out: PeerMessage[] = [];
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) out.push(m.message as PeerMessage);
  return out;
}

test('credits go back once a quarter of the sender credits are owed', () => {
  const { t, peer } = transfer(32);
  for (let i = 0; i < 7; i++) t.returnCredit(1, 0);
  expect(received(peer)).toEqual([]);
  t.returnCredit(1, 0);
  expect(received(peer)).toEqual([{ k: 'C', credits: [0, 8] }]);
  // The count starts over: the next return waits for another eight.
  t.returnCredit(1, 0);
  expect(received(peer)).toEqual([]);
  t.flushCredits();
  expect(received(peer)).toEqual([{ k: 'C', credits: [0, 1] }]);
});

test('with very few credits each one goes back at once', () => {
  const { t, peer } = transfer(2);
  t.returnCredit(1, 0);
  expect(received(peer)).toEqual([{ k: 'C', credits: [0, 1] }]);
});

test('a batch leaves once its values reach batchBytes, so that large tuples do not pile up in memory', () => {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const local: unknown[][] = [];
  const sink = { enqueue: (_task: number, batch: unknown[]) => local.push(batch), localBatches: () => 0, applyAcks() {} };
  const t = new Transfer(
    0,
    [0, 1],
    [null, port1],
    500,
    5,
    32,
    sink,
    () => {},
    () => {},
    10_000,
  );
  const src = new SourceStream('gen', 0, 'default', ['text', 'n']);
  const big = 'x'.repeat(4000);
  // To another thread: 4008 bytes a tuple, so the third reaches 10,000.
  t.push(1, src, [big, 1], null, [], 0, 0);
  t.push(1, src, [big, 2], null, [], 0, 0);
  expect(received(port2)).toEqual([]);
  t.push(1, src, [big, 3], null, [], 0, 0);
  const sent = received(port2) as (PeerMessage & { k: 'B' })[];
  expect(sent.map((m) => [m.k, m.n])).toEqual([['B', 3]]);
  // The count starts over with the next batch; small tuples fill it by batchSize, not bytes.
  for (let i = 0; i < 499; i++) t.push(1, src, ['s', i], null, [], 0, 0);
  expect(received(port2)).toEqual([]);
  // In this thread too (a task that takes batches): a large tuple alone makes a batch.
  t.push(0, src, ['y'.repeat(20_000), 4], null, [], 0, 0);
  expect(local.map((b) => b.length)).toEqual([1]);
});
