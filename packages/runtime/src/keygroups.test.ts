/**
 * Key-group assignment must never change between runs, threads, machines or releases: state
 * snapshots are stored by key group, and a rescale moves whole groups. These values are pinned.
 */
import { groupingKey, hashKey, KeyGroupedState, keyGroupOf, keyGroupRange, taskForKeyGroup } from '@qitian/api';
import { describe, expect, test } from 'vitest';

describe('key groups', () => {
  test('hashKey gives fixed values (FNV-1a over UTF-16 code units, then fmix32)', () => {
    expect(hashKey('')).toBe(2872998923);
    expect(hashKey('a')).toBe(444641715);
    expect(hashKey('key')).toBe(979252733);
    expect(hashKey('10.0.0.1')).toBe(2931590574);
    expect(hashKey('router-7')).toBe(3757998488);
    expect(hashKey('中文')).toBe(970441454);
  });

  test('keyGroupOf and taskForKeyGroup give fixed values', () => {
    expect(keyGroupOf('a', 1024)).toBe(435);
    expect(keyGroupOf('key', 1024)).toBe(509);
    expect(keyGroupOf('10.0.0.1', 1024)).toBe(430);
    expect(keyGroupOf('10.0.0.1', 128)).toBe(46);
    expect(keyGroupOf('中文', 1024)).toBe(750);
    // Multi-field keys join their values with NUL.
    expect(groupingKey(['k1', 0, 'ignored'], [0, 1])).toBe('k1\u00000');
    expect(keyGroupOf(groupingKey(['k1', 0], [0, 1]), 1024)).toBe(112);
    expect(taskForKeyGroup(435, 3, 1024)).toBe(1);
    expect(taskForKeyGroup(750, 3, 1024)).toBe(2);
    expect(taskForKeyGroup(11, 3, 1024)).toBe(0);
  });

  test('keyGroupOf stays in [0, maxParallelism)', () => {
    for (const max of [1, 7, 128, 1024, 32768]) {
      for (let i = 0; i < 2000; i++) {
        const g = keyGroupOf(`key-${i}`, max);
        expect(g >= 0 && g < max && Number.isInteger(g)).toBe(true);
      }
    }
  });

  test('keyGroupRange partitions [0, maxParallelism) exactly and inverts taskForKeyGroup', () => {
    for (const max of [1, 7, 128, 1000, 1024]) {
      for (const p of [1, 2, 3, 5, 7, 16, 100]) {
        if (p > max) continue;
        let expectStart = 0;
        for (let t = 0; t < p; t++) {
          const { start, end } = keyGroupRange(t, p, max);
          expect(start).toBe(expectStart);
          expect(end).toBeGreaterThan(start);
          for (let g = start; g < end; g++) expect(taskForKeyGroup(g, p, max)).toBe(t);
          expectStart = end;
        }
        expect(expectStart).toBe(max);
      }
    }
    expect(keyGroupRange(0, 3, 1024)).toEqual({ start: 0, end: 342 });
    expect(keyGroupRange(1, 3, 1024)).toEqual({ start: 342, end: 683 });
    expect(keyGroupRange(2, 3, 1024)).toEqual({ start: 683, end: 1024 });
  });

  test('keys spread over key groups', () => {
    const perGroup = new Array<number>(64).fill(0);
    for (let i = 0; i < 64_000; i++) perGroup[keyGroupOf(`10.0.${i >> 8}.${i & 255}`, 64)]!++;
    for (const n of perGroup) expect(n).toBeGreaterThan(800); // 1000 expected
  });

  test('keyed state takes a non-string key as the string fields grouping routes it by', () => {
    const state = new KeyGroupedState<number>(128);
    // JavaScript callers pass field values as they come: null, numbers, objects.
    state.set(null as unknown as string, 1);
    state.set(5 as unknown as string, 2);
    state.set({ ip: '10.0.0.1' } as unknown as string, 3);
    expect(state.get('null')).toBe(1);
    expect(state.get(5 as unknown as string)).toBe(2);
    expect(state.has('5')).toBe(true);
    expect([...state.keys()].sort()).toEqual(['5', 'null', '{"ip":"10.0.0.1"}']);
    // The snapshot hashes them (it threw on null before) into the groups their tuples go to.
    const snapshot = state.snapshot();
    for (const [value, n] of [
      [null, 1],
      [5, 2],
      [{ ip: '10.0.0.1' }, 3],
    ] as const) {
      const group = keyGroupOf(groupingKey([value], [0]), 128);
      expect(snapshot[group]).toContainEqual([groupingKey([value], [0]), n]);
    }
    expect(state.delete(null as unknown as string)).toBe(true);
    expect(state.size).toBe(2);
  });
});
