import { describe, expect, it } from 'vitest';
import { EventOrder, type HeldEvent, MAX_HELD } from './event-order.js';

const hit = (key: string) => [{ strategy: 0, key, by: {} }];

describe('event order', () => {
  it('releases up to a time, earliest first, equal times in arrival order', () => {
    const order = new EventOrder([]);
    const times = [5, 3, 9, 3, 1, 7, 5, 2, 8, 3];
    for (const [i, t] of times.entries()) order.hold(t, hit(String(i)));
    const out: HeldEvent[] = [];
    order.release(5, (e) => out.push(e));
    expect(out.map((e) => [e.time, e.hits[0]!.key])).toEqual([
      [1, '4'],
      [2, '7'],
      [3, '1'],
      [3, '3'],
      [3, '9'],
      [5, '0'],
      [5, '6'],
    ]);
    expect(order.size).toBe(3);
    order.release(Number.POSITIVE_INFINITY, (e) => out.push(e));
    expect(out.slice(7).map((e) => e.time)).toEqual([7, 8, 9]);
  });

  it('goes on from a heap kept elsewhere (keyed state), numbering after its events', () => {
    const first = new EventOrder([]);
    first.hold(10, hit('a'));
    first.hold(10, hit('b'));
    const again = new EventOrder(structuredClone(first.heap));
    again.hold(10, hit('c'));
    const keys: string[] = [];
    again.release(10, (e) => keys.push(e.hits[0]!.key));
    expect(keys).toEqual(['a', 'b', 'c']);
  });

  it(`holds at most ${MAX_HELD} events: past that the earliest are released at once`, () => {
    const order = new EventOrder([]);
    for (let i = 0; i < MAX_HELD + 3; i++) order.hold(MAX_HELD + 3 - i, hit('k'));
    const out: number[] = [];
    order.release(Number.NEGATIVE_INFINITY, (e) => out.push(e.time));
    expect(out).toEqual([1, 2, 3]);
    expect(order.size).toBe(MAX_HELD);
  });
});
