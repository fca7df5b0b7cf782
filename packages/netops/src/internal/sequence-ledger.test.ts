import { describe, expect, it } from 'vitest';
import { SequenceLedger } from './sequence-ledger.js';

describe('SequenceLedger', () => {
  it('replays failed numbers still pending, in failure order, and skips those acked since', () => {
    const l = new SequenceLedger(10, true);
    for (let i = 10; i < 15; i++) l.track(i);
    l.seq = 15;
    expect(l.fail(12)).toBe(true);
    expect(l.fail(11)).toBe(true);
    expect(l.fail(99)).toBe(false);
    expect(l.ack(12)).toBe(true);
    expect(l.replaying).toBe(true);
    expect(l.nextReplay()).toBe(11);
    expect(l.nextReplay()).toBe(-1);
    expect(l.replaying).toBe(false);
  });

  it('its checkpoint is the lowest number not yet acked, or the next new one', () => {
    const l = new SequenceLedger(0, true);
    for (let i = 0; i < 4; i++) l.track(i);
    l.seq = 4;
    expect(l.lowest()).toBe(0);
    l.ack(0);
    l.ack(2);
    expect(l.lowest()).toBe(1);
    l.ack(1);
    l.ack(3);
    expect(l.lowest()).toBe(4);
  });

  it('without acking nothing is pending: the checkpoint follows the emits', () => {
    const l = new SequenceLedger(5, false);
    l.track(5);
    l.seq = 6;
    expect(l.fail(5)).toBe(false);
    expect(l.lowest()).toBe(6);
  });
});
