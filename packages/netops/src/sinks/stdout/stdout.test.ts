import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { configFor, FakeTopologyContext, RecordingOutputCollector, TestTuple, tuples } from '../../testkit.js';
import { StdoutSink, type StdoutSinkConfig, stdoutSink } from './index.js';
import { errorText } from './stdout.js';

/** What a worker thread's stdout gave on a closed pipe: Node's SystemError, built from nothing. */
function emptySystemError(code?: string): Error {
  const err = new Error('A system error occurred: undefined returned undefined (undefined)');
  err.name = 'SystemError';
  return Object.assign(err, { info: {}, errno: undefined, syscall: undefined }, code === undefined ? {} : { code });
}

/** A writable that takes `delayMs` per chunk and has a small buffer, like a pipe to a slow reader. */
class SlowOutput extends Writable {
  readonly chunks: string[] = [];
  constructor(
    private readonly delayMs: number,
    private readonly failWith?: Error,
    /** false: like fs.createWriteStream(fd 1, autoClose: false), an error leaves it errored, not destroyed. */
    autoDestroy = true,
  ) {
    super({ highWaterMark: 1024, decodeStrings: false, autoDestroy });
  }
  override _write(chunk: unknown, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    setTimeout(() => {
      if (this.failWith) return cb(this.failWith);
      this.chunks.push(String(chunk));
      cb();
    }, this.delayMs);
  }
  get text(): string {
    return this.chunks.join('');
  }
}

async function start(raw: Record<string, unknown>, out: Writable) {
  const config: StdoutSinkConfig = configFor(stdoutSink, raw);
  const sink = new StdoutSink(config, out);
  const context = new FakeTopologyContext({ config });
  const collector = new RecordingOutputCollector();
  await sink.prepare(context, collector);
  return { sink, context, collector };
}

describe('stdout sink', () => {
  it('prints JSON lines by default', async () => {
    const out = new SlowOutput(0);
    const h = await start({}, out);
    await h.sink.executeBatch(tuples(['word', 'count'], ['storm', 3], ['bolt', 1]));
    await h.sink.finish();
    expect(out.text).toBe('{"word":"storm","count":3}\n{"word":"bolt","count":1}\n');
    expect(h.collector.acked).toHaveLength(2);
    await h.sink.cleanup();
  });

  it('prints tab-separated text, with only the chosen fields', async () => {
    const out = new SlowOutput(0);
    const h = await start({ format: 'text', fields: ['count', 'word'] }, out);
    await h.sink.execute(new TestTuple(['word', 'count', 'x'], ['a\tb', 3, 'ignored']));
    await h.sink.execute(new TestTuple(['word', 'count', 'x'], [null, 4n, 'ignored']));
    await h.sink.cleanup();
    expect(out.text).toBe('3\ta\\tb\n4\t\n');
  });

  it('loses no line when the output is slow, and makes the executor wait', async () => {
    const out = new SlowOutput(2);
    const h = await start({ flushInterval: '5ms' }, out);
    const expected: string[] = [];
    let waited = 0;
    for (let b = 0; b < 40; b++) {
      const rows: unknown[][] = [];
      for (let i = 0; i < 200; i++) {
        const n = b * 200 + i;
        rows.push([n, 'y'.repeat(n % 30)]);
        expected.push(`${n}\t${'y'.repeat(n % 30)}`);
      }
      const r = h.sink.executeBatch(tuples(['n', 's'], ...rows));
      if (r instanceof Promise) {
        waited++;
        await r;
      }
    }
    await h.sink.cleanup();
    const lines = out.text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l) as { n: number; s: string }).map((o) => `${o.n}\t${o.s}`)).toEqual(expected);
    expect(waited).toBeGreaterThan(0);
    expect(h.collector.acked).toHaveLength(8000);
  });

  it('drops and counts lines when the output is gone, instead of replaying them forever', async () => {
    const out = new SlowOutput(0, Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    const h = await start({}, out);
    await h.sink.executeBatch(tuples(['v'], [1], [2]));
    await h.sink.finish();
    expect(h.context.counted('dropped', 'stdout_error')).toBe(2);
    expect(h.collector.acked).toHaveLength(2);
    expect(h.collector.errors).toHaveLength(1);
    expect((h.collector.errors[0]!.error as Error).message).toBe(
      'standard output failed, lines to it are dropped from now on: the reader went away (EPIPE: broken pipe)',
    );
    await h.sink.cleanup();
  });

  it('reports a closed pipe readably, even when the error says nothing', async () => {
    const out = new SlowOutput(0, emptySystemError());
    const h = await start({}, out);
    await h.sink.executeBatch(tuples(['v'], [1], [2]));
    await h.sink.finish();
    expect(h.context.counted('dropped', 'stdout_error')).toBe(2);
    expect(h.collector.errors).toHaveLength(1);
    const msg = (h.collector.errors[0]!.error as Error).message;
    expect(msg).toBe('standard output failed, lines to it are dropped from now on: the reader most likely went away (broken pipe; the error gave no details)');
    expect(msg).not.toContain('undefined');
    await h.sink.cleanup();
  });

  it('an output left errored (not destroyed) fails the later writes too, instead of leaving them waiting', async () => {
    const out = new SlowOutput(0, Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), false);
    const h = await start({}, out);
    const rows = Array.from({ length: 3000 }, (_, i) => [i, 'z'.repeat(40)]);
    for (let b = 0; b < 6; b++) {
      const r = h.sink.executeBatch(tuples(['n', 's'], ...rows.slice(b * 500, (b + 1) * 500)));
      const settled = await Promise.race([Promise.resolve(r).then(() => true), new Promise((ok) => setTimeout(() => ok(false), 2000))]);
      expect(settled, `batch ${b}`).toBe(true);
    }
    await h.sink.finish();
    expect(h.context.counted('dropped', 'stdout_error')).toBe(3000);
    expect(h.collector.acked).toHaveLength(3000);
    await h.sink.cleanup();
  });

  it('writes to file descriptor 1 itself when built from its definition', async () => {
    const sink = stdoutSink.create(configFor(stdoutSink, {}));
    expect(sink).toBeInstanceOf(StdoutSink);
    await sink.prepare?.(new FakeTopologyContext({ config: configFor(stdoutSink, {}) }), new RecordingOutputCollector());
    const out = (sink as unknown as { out: { fd: number } }).out;
    expect(out).not.toBe(process.stdout);
    expect(out.fd).toBe(1);
    await sink.cleanup?.();
  });
});

describe('stdout sink error text', () => {
  it('says the reader went away for EPIPE', () => {
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE', errno: -32, syscall: 'write' });
    expect(errorText(epipe)).toBe('the reader went away (EPIPE: broken pipe)');
    // A SystemError whose details name EPIPE.
    expect(errorText(Object.assign(emptySystemError('ERR_SYSTEM_ERROR'), { info: { code: 'EPIPE' } }))).toBe('the reader went away (EPIPE: broken pipe)');
  });

  it('never repeats the empty SystemError of a worker thread, with or without a code', () => {
    for (const err of [emptySystemError(), emptySystemError('ERR_SYSTEM_ERROR')]) {
      expect(errorText(err)).toBe('the reader most likely went away (broken pipe; the error gave no details)');
    }
    expect(errorText(new Error(''))).toBe('the reader most likely went away (broken pipe; the error gave no details)');
    expect(errorText(undefined)).toBe('the reader most likely went away (broken pipe; the error gave no details)');
  });

  it('keeps a message that says something, and names a bare code', () => {
    const again = Object.assign(new Error('EAGAIN: resource temporarily unavailable, write'), { code: 'EAGAIN' });
    expect(errorText(again)).toBe('EAGAIN: resource temporarily unavailable, write');
    expect(errorText(new Error('standard output is closed'))).toBe('standard output is closed');
    expect(errorText(Object.assign(new Error(''), { code: 'EIO' }))).toBe('write failed (EIO)');
    expect(errorText('disk on fire')).toBe('disk on fire');
  });
});
