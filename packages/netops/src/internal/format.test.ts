import { describe, expect, it } from 'vitest';
import { RecordingLogger, TestTuple } from '../testkit.js';
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
      cyc: '[unserializable: cyclic object]',
      f32: [0.5],
    });
    expect(f.unrepresentable).toBe(1);
    expect(f.firstUnrepresentable).toEqual({ field: 'cyc', reason: 'cyclic object', written: '"[unserializable: cyclic object]"' });
  });

  it('writes an Error as its name and message, and a RegExp as /source/flags (JSON would write {})', () => {
    const f = new LineFormatter(undefined);
    const line = f.json(t(['err', 're', 'nested'], [new RangeError('too big'), /a+b/gi, { why: new Error('x') }]));
    expect(JSON.parse(line)).toEqual({ err: { name: 'RangeError', message: 'too big' }, re: '/a+b/gi', nested: { why: { name: 'Error', message: 'x' } } });
    expect(f.unrepresentable).toBe(0);
  });

  it('writes a placeholder saying why for values that cannot be serialized, and keeps the rest of the line', () => {
    const f = new LineFormatter(undefined);
    const selfMap = new Map<string, unknown>();
    selfMap.set('me', selfMap);
    const viaSet = new Map<string, unknown>([['s', new Set<unknown>()]]);
    (viaSet.get('s') as Set<unknown>).add(viaSet);
    const shared = new Map([['k', 1]]);
    const throws = {
      toJSON(): never {
        throw new Error('no  way\n out');
      },
    };
    const line = f.json(t(['ok', 'selfMap', 'viaSet', 'twice', 'throws', 'after'], [1, selfMap, viaSet, [shared, shared], throws, 'x']));
    expect(JSON.parse(line)).toEqual({
      ok: 1,
      selfMap: '[unserializable: cyclic object]',
      viaSet: '[unserializable: cyclic object]',
      twice: [{ k: 1 }, { k: 1 }], // the same Map twice is no cycle
      throws: '[unserializable: Error: no way out]',
      after: 'x',
    });
    expect(f.unrepresentable).toBe(3);
    // Only the first is remembered, with its field.
    expect(f.firstUnrepresentable?.field).toBe('selfMap');
  });

  it('names the field of the first unserializable value in text lines too, and reports it once', () => {
    const f = new LineFormatter(['a', 'b']);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(f.text(t(['b', 'a'], [cyclic, 'x']))).toBe('x\t"[unserializable: cyclic object]"\n');
    expect(f.firstUnrepresentable?.field).toBe('b');
    const counts: [string, number, string | undefined][] = [];
    const logger = new RecordingLogger();
    const to = { count: (name: string, n: number, reason?: string) => counts.push([name, n, reason]), logger };
    f.reportUnrepresentable(to, 'some sink');
    f.text(t(['a', 'b'], [cyclic, cyclic]));
    f.reportUnrepresentable(to, 'some sink');
    f.reportUnrepresentable(to, 'some sink'); // nothing new: no count
    expect(counts).toEqual([
      ['errors', 1, 'unserializable_value'],
      ['errors', 2, 'unserializable_value'],
    ]);
    expect(logger.records).toHaveLength(1);
    expect(logger.records[0]!.level).toBe('warn');
    expect(logger.records[0]!.msg).toContain('some sink: field "b" could not be written as JSON (cyclic object)');
    expect(logger.records[0]!.msg).toContain('"[unserializable: cyclic object]"');
    expect(logger.records[0]!.fields).toEqual({ field: 'b', reason: 'cyclic object' });
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
