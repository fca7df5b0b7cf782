/** Credit returns: a sender gets credits back during a consumer's turn, not only at its end. */
import { MessageChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { afterEach, expect, test } from 'vitest';
import type { PeerMessage } from './protocol.js';
import { Transfer } from './transfer.js';

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
