import { describe, expect, it } from 'vitest';
import { exactDurationMs, field, formatDuration, parseDuration, validateConfig } from './spec.js';

describe('durations', () => {
  it('take a number and a unit, with decimals and a leading dot', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('.5s')).toBe(500);
    expect(parseDuration(' 2h ')).toBe(7_200_000);
    expect(parseDuration('30 s')).toBe(30_000);
    expect(exactDurationMs('0.5ms')).toBe(0.5);
  });

  it('add up compound parts, largest unit first', () => {
    expect(parseDuration('1h30m')).toBe(90 * 60_000);
    expect(parseDuration('1m 30s')).toBe(90_000);
    expect(parseDuration('2d12h')).toBe(60 * 3_600_000);
    expect(parseDuration('1s500ms')).toBe(1500);
  });

  it('refuse what is not one', () => {
    for (const bad of ['', '5', '5 min', '5 minutes', '30m1h', '1h1h', '1h30', 'h', '-1s', '1e3s', '1..5s', 's30']) {
      expect(parseDuration(bad), bad).toBeUndefined();
    }
  });

  it('format as the largest whole unit, the inverse of parsing', () => {
    for (const ms of [250, 30_000, 90_000, 7_200_000, 86_400_000]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });

  it('in a config, a malformed one is said with examples', () => {
    const r = validateConfig({ window: field.duration({ description: 'w' }) }, { window: '1h 30' });
    expect(r.issues).toEqual([
      { path: ['window'], message: 'window: "1h 30" is not a duration; write a number and a unit (ms, s, m, h, d), e.g. "30s", "1.5h" or "1h30m"' },
    ]);
    expect(validateConfig({ window: field.duration({ description: 'w' }) }, { window: '1h30m' }).value).toEqual({ window: 5_400_000 });
  });
});
