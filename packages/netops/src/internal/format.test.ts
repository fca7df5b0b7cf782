import { describe, expect, it } from 'vitest';
import { TestTuple } from '../testkit.js';
import { LineFormatter } from './format.js';

const t = (fields: string[], values: unknown[]) => new TestTuple(fields, values);

describe('LineFormatter', () => {
  it('writes every field of the tuple as a JSON object line', () => {
    const f = new LineFormatter(undefined);
    expect(f.json(t(['a', 'b', 'c'], [1, 'x "q"\n', true]))).toBe('{"a":1,"b":"x \\"q\\"\\n","c":true}\n');
    expect(JSON.parse(f.json(t(['we"ird'], [null])))).toEqual({ 'we"ird': null });
    expect(f.json(t([], []))).toBe('{}\n');
  });

  it('writes only the configured fields, in their order, null for absent ones', () => {
    const f = new LineFormatter(['c', 'a', 'zz']);
    expect(f.json(t(['a', 'b', 'c'], [1, 2, 3]))).toBe('{"c":3,"a":1,"zz":null}\n');
  });

  it('converts what JSON cannot hold instead of failing', () => {
    const f = new LineFormatter(undefined);
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const line = f.json(
      t(
        ['big', 'bytes', 'buf', 'nan', 'inf', 'undef', 'map', 'set', 'nested', 'date', 'fn', 'cyc', 'f32'],
        [
          2n ** 70n,
          new Uint8Array([1, 2, 3]),
          Buffer.from('hi'),
          Number.NaN,
          Number.POSITIVE_INFINITY,
          undefined,
          new Map<unknown, unknown>([
            ['k', 1n],
            [2, 'two'],
          ]),
          new Set([1, 2]),
          { deep: [1n, Buffer.from([255])], when: new Date(0) },
          new Date(86_400_000),
          () => 1,
          cyclic,
          new Float32Array([0.5]),
        ],
      ),
    );
    expect(JSON.parse(line)).toEqual({
      big: '1180591620717411303424',
      bytes: 'AQID',
      buf: 'aGk=',
      nan: null,
      inf: null,
      undef: null,
      map: { k: '1', 2: 'two' },
      set: [1, 2],
      nested: { deep: ['1', '/w=='], when: '1970-01-01T00:00:00.000Z' },
      date: '1970-01-02T00:00:00.000Z',
      fn: null,
      cyc: '[object Object]',
      f32: [0.5],
    });
    expect(f.unrepresentable).toBe(1);
  });

  it('writes tab-separated text, escaping tabs and newlines inside values', () => {
    const f = new LineFormatter(undefined);
    expect(f.text(t(['a', 'b', 'c', 'd', 'e'], ['x\ty\nz', 42, null, { k: [1] }, 7n]))).toBe('x\\ty\\nz\t42\t\t{"k":[1]}\t7\n');
  });

  it('recognises a stream whose fields array is a new copy each time', () => {
    const f = new LineFormatter(undefined);
    for (let i = 0; i < 100; i++) expect(f.json(t(['a'], [i]))).toBe(`{"a":${i}}\n`);
    expect(f.json(t(['b'], [1]))).toBe('{"b":1}\n');
  });
});
