/** The bolt input queue: fair between sending threads, in order within each. */
import { expect, test } from 'vitest';
import { Inbox, type InboxEntry } from './inbox.js';

const entry = (fromWorker: number, label: number): InboxEntry => ({ tuples: [], decode: null, fromWorker, at: label });

function drain(inbox: Inbox): [number, number][] {
  const out: [number, number][] = [];
  for (let e = inbox.shift(); e !== undefined; e = inbox.shift()) out.push([e.fromWorker, e.at]);
  return out;
}

test('a sender with many batches waiting takes turns with one that has few', () => {
  const inbox = new Inbox();
  for (let i = 0; i < 4; i++) inbox.push(entry(1, i)); // a remote thread, all its credits queued
  inbox.push(entry(-1, 100)); // this thread's one batch
  expect(inbox.size).toBe(5);
  const first = inbox.shift()!;
  inbox.push(entry(-1, 101)); // the local sender refills as soon as its batch is taken
  const rest = drain(inbox);
  const order = [[first.fromWorker, first.at], ...rest];
  // Local and remote alternate while both have batches; each keeps its own order.
  expect(
    order
      .slice(0, 4)
      .map(([w]) => w)
      .sort(),
  ).toEqual([-1, -1, 1, 1]);
  expect(order.filter(([w]) => w === 1).map(([, at]) => at)).toEqual([0, 1, 2, 3]);
  expect(order.filter(([w]) => w === -1).map(([, at]) => at)).toEqual([100, 101]);
  expect(inbox.size).toBe(0);
  expect(inbox.shift()).toBeUndefined();
});

test('three senders are served round-robin; deferred local tuples share the local lane', () => {
  const inbox = new Inbox();
  for (let i = 0; i < 3; i++) {
    inbox.push(entry(0, i));
    inbox.push(entry(2, 10 + i));
  }
  inbox.push(entry(-1, 20));
  inbox.push(entry(-2, 21));
  expect(drain(inbox)).toEqual([
    [-1, 20],
    [0, 0],
    [2, 10],
    [-2, 21],
    [0, 1],
    [2, 11],
    [0, 2],
    [2, 12],
  ]);
});

test('lastLocal is the newest local batch still waiting; relabel marks one sender’s batches in place', () => {
  const inbox = new Inbox();
  expect(inbox.lastLocal()).toBeUndefined();
  inbox.push(entry(-1, 1));
  inbox.push(entry(1, 2));
  inbox.push(entry(-2, 3));
  expect(inbox.lastLocal()?.at).toBe(3);
  expect(inbox.localSize()).toBe(2); // the local and the deferred batch, not the remote one
  inbox.relabel(1, -3);
  inbox.relabel(5, -3); // a thread that never sent: nothing to do
  expect(drain(inbox)).toEqual([
    [-1, 1],
    [-3, 2],
    [-2, 3],
  ]);
  expect(inbox.lastLocal()).toBeUndefined();
});

test('a long queue from one sender comes out whole and in order', () => {
  const inbox = new Inbox();
  const n = 5000;
  for (let i = 0; i < n; i++) {
    inbox.push(entry(3, i));
    if (i % 3 === 0) expect(inbox.shift()!.at).toBe(i / 3);
  }
  const rest = drain(inbox).map(([, at]) => at);
  expect(rest[0]).toBe(Math.ceil(n / 3));
  expect(rest.at(-1)).toBe(n - 1);
  expect(rest.every((v, i) => i === 0 || v === rest[i - 1]! + 1)).toBe(true);
});
