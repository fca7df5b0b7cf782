import { describe, expect, it } from 'vitest';
import { PositionLog } from './position-log.js';

describe('PositionLog', () => {
  it('gives each task its last position at or before a time, else where it started; pruning keeps what later times need', () => {
    const log = new PositionLog({ 1: 'restored-1' });
    log.note(1, 10, 100);
    log.note(1, 20, 200);
    log.note(2, 'x', 150);
    log.note(2, 'y', 300);
    expect(log.asOf(50)).toEqual({ 1: 'restored-1' });
    expect(log.asOf(160)).toEqual({ 1: 10, 2: 'x' });
    expect(log.asOf(1000)).toEqual({ 1: 20, 2: 'y' });
    log.prune(250);
    expect(log.asOf(250)).toEqual({ 1: 20, 2: 'x' });
    expect(log.asOf(1000)).toEqual({ 1: 20, 2: 'y' });
  });
});
