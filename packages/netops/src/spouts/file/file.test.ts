import { createHash } from 'node:crypto';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileAccessError } from '../../errors.js';
import { configFor, driveSpout, FakeSpoutContext, type FakeSpoutContextOptions, RecordingSpoutCollector, type SpoutHarness } from '../../testkit.js';
import { FileSpout, type FileSpoutConfig, type FileSpoutOptions, fileSpout } from './index.js';

let dir: string;
const opened: FileSpout[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'qitian-file-spout-'));
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

type Harness = SpoutHarness<FileSpoutConfig> & { spout: FileSpout };

async function start(
  raw: Record<string, unknown>,
  opts: Omit<FakeSpoutContextOptions<FileSpoutConfig>, 'config'> = {},
  spoutOpts: FileSpoutOptions = {},
): Promise<Harness> {
  const config = configFor(fileSpout, raw);
  const spout = new FileSpout(config, spoutOpts);
  opened.push(spout);
  const context = new FakeSpoutContext<FileSpoutConfig>({ ...opts, config });
  const collector = new RecordingSpoutCollector();
  await spout.open(context, collector);
  return { spout, context, collector };
}

async function readAll(path: string, raw: Record<string, unknown> = {}, spoutOpts: FileSpoutOptions = {}): Promise<Harness> {
  const h = await start({ path, ...raw }, {}, spoutOpts);
  expect(await driveSpout(h)).toBe('end');
  return h;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fingerprint a checkpoint carries of a file that starts with `content`. */
function head(content: string): { headBytes: number; headHash: string } {
  const bytes = Buffer.from(content).subarray(0, 256);
  return { headBytes: bytes.length, headHash: createHash('sha256').update(bytes).digest('base64url') };
}

/** What a checkpoint at `offset` of the file being read, which holds `content`, says of its extent. */
function extent(content: string, offset: number): { size: number; tailBytes?: number; tailHash?: string } {
  const bytes = Buffer.from(content).subarray(Math.max(0, offset - 256), offset);
  const size = Buffer.byteLength(content);
  return bytes.length === 0 ? { size } : { size, tailBytes: bytes.length, tailHash: createHash('sha256').update(bytes).digest('base64url') };
}

describe('file spout: reading', () => {
  it('declares one output stream with the field "line"', () => {
    expect(fileSpout.kind).toBe('spout');
    expect(fileSpout.outputs?.(configFor(fileSpout, { path: '/x' }))).toEqual({ default: ['line'] });
  });

  it('emits the lines of a plain file on the default stream, then ends', async () => {
    const h = await readAll(write('a.log', 'alpha\nbeta\n\ngamma\n'));
    expect(h.collector.lines).toEqual(['alpha', 'beta', '', 'gamma']);
    expect(h.collector.emits.every((e) => e.stream === 'default' && e.messageId === undefined && e.values.length === 1)).toBe(true);
  });

  it('strips CR LF and emits a last line that has no newline', async () => {
    const h = await readAll(write('crlf.log', 'one\r\ntwo\r\nthree'));
    expect(h.collector.lines).toEqual(['one', 'two', 'three']);
  });

  it('drops a UTF-8 byte order mark that opens the file, and only there', async () => {
    const h = await readAll(write('bom.log', '\ufeffone\r\n\ufefftwo\r\n'));
    expect(h.collector.lines).toEqual(['one', '\ufefftwo']);
    const latin1 = await readAll(write('bom1.log', '\ufeffone\n'), { encoding: 'latin1' });
    expect(latin1.collector.lines).toEqual(['\u00ef\u00bb\u00bfone']);
  });

  it('emits nothing for an empty file', async () => {
    const h = await readAll(write('empty.log', ''));
    expect(h.collector.emits).toEqual([]);
  });

  it('replaces invalid UTF-8 with U+FFFD instead of failing', async () => {
    const h = await readAll(write('bad.log', Buffer.from([0x61, 0xff, 0x62, 0x0a, 0xc3, 0x0a, 0xe2, 0x82, 0xac, 0x0a])));
    expect(h.collector.lines).toEqual(['a\uFFFDb', '\uFFFD', '€']);
  });

  it('decodes latin1 when asked', async () => {
    const h = await readAll(write('l1.log', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])), { encoding: 'latin1' });
    expect(h.collector.lines).toEqual(['café']);
  });

  it('splits lines correctly whatever the read size (lines across chunk borders)', async () => {
    const expected: string[] = [];
    for (let i = 0; i < 500; i++) expected.push('x'.repeat((i * 7) % 53) + `#${i}`);
    const path = write('many.log', expected.join('\r\n') + '\r\n');
    for (const chunkBytes of [16, 17, 61, 4096]) {
      const h = await readAll(path, {}, { chunkBytes });
      expect(h.collector.lines).toEqual(expected);
    }
  });

  it('reads gzip files, recognised by magic bytes whatever the name', async () => {
    const text = 'one\ntwo\r\nthree';
    for (const name of ['x.gz', 'x.log']) {
      const h = await readAll(write(name, gzipSync(text)));
      expect(h.collector.lines).toEqual(['one', 'two', 'three']);
    }
  });

  it('counts the bytes it read, after gunzip', async () => {
    const text = Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n');
    for (const [name, data] of [
      ['b.log', Buffer.from(text)],
      ['b.gz', gzipSync(text)],
    ] as const) {
      const h = await readAll(write(name, data), {}, { chunkBytes: 1000 });
      expect(h.context.counted('bytes')).toBe(Buffer.byteLength(text));
    }
  });

  it('reads concatenated gzip members as one stream', async () => {
    const h = await readAll(write('multi.gz', Buffer.concat([gzipSync('a\nb'), gzipSync('c\nd\n')])));
    expect(h.collector.lines).toEqual(['a', 'bc', 'd']);
  });

  it('reports a damaged gzip file, keeps the lines decoded before the damage, and ends', async () => {
    const whole = gzipSync(Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const h = await readAll(write('cut.gz', whole.subarray(0, whole.length - 30)));
    expect(h.collector.errors).toHaveLength(1);
    expect(h.collector.errors[0]).toBeInstanceOf(FileAccessError);
    // Reported, so counted by the engine: not counted again as the component's own `errors`.
    expect(h.context.counted('errors', 'read')).toBe(0);
    expect(h.collector.lines.length).toBeGreaterThan(1900);
    expect(h.collector.lines[0]).toBe('line 0');
  });

  it('drops the cut-off last line of a truncated gzip file, counted, and keeps every complete line', async () => {
    // Numbers that compress poorly, so that 60% of the archive holds many lines and ends inside one.
    let x = 7;
    const all = Array.from({ length: 5000 }, () => String((x = (x * 48271) % 2147483647)));
    const whole = gzipSync(`${all.join('\n')}\n`);
    const cut = whole.subarray(0, Math.floor(whole.length * 0.6));
    // What zlib can decode of the cut archive: complete lines, then a fragment.
    const decoded = gunzipSync(cut, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString();
    const complete = decoded.slice(0, decoded.lastIndexOf('\n'));
    const fragment = decoded.slice(complete.length + 1);
    expect(fragment).not.toBe('');
    expect(all).not.toContain(fragment);

    const h = await readAll(write('cut60.gz', cut));
    expect(h.collector.lines).toEqual(complete.split('\n'));
    expect(h.collector.errors).toHaveLength(1);
    expect(h.collector.errors[0]).toBeInstanceOf(FileAccessError);
    // Reported as input that could not be read to its end (qitian run exits 4), not only an error.
    expect(h.collector.inputFailures).toEqual(h.collector.errors);
    expect(h.context.counted('dropped', 'truncated_input')).toBe(1);
    // The committed position stops at the fragment: a resumed run reads that line again.
    await h.spout.close();
    expect(h.context.lastCheckpoint).toMatchObject({ offset: Buffer.byteLength(complete) + 1 });
  });

  it('drops the unfinished line of a plain file whose read fails', async () => {
    const path = write('eio.log', 'aaaa\nbbbbbbbbbbbbbbbbbbbb\n');
    // 16-byte reads and room for one line: reading pauses after "aaaa\n" + 11 bytes of the next line.
    const h = await start({ path }, {}, { chunkBytes: 16, maxBufferedLines: 1 });
    while (h.spout.bufferedLines < 1) await sleep(1);
    // The next read fails (EBADF): a stand-in for an I/O error.
    await (h.spout as unknown as { handle: { close(): Promise<void> } }).handle.close();
    expect(await driveSpout(h)).toBe('end');
    expect(h.collector.lines).toEqual(['aaaa']);
    expect(h.collector.errors).toHaveLength(1);
    expect(h.collector.inputFailures).toHaveLength(1);
    expect(h.context.counted('dropped', 'truncated_input')).toBe(1);
  });

  it('skips lines longer than maxLineBytes and counts them as dropped (line_too_long)', async () => {
    const long = 'y'.repeat(100);
    const path = write('long.log', `short\n${long}\nok\n${long}${long}\nlast ${long}`);
    for (const chunkBytes of [16, 64 * 1024]) {
      const h = await readAll(path, { maxLineBytes: 10 }, { chunkBytes });
      expect(h.collector.lines).toEqual(['short', 'ok']);
      expect(h.context.counted('dropped', 'line_too_long')).toBe(3);
      expect(h.context.logger.records.filter((r) => r.level === 'warn')).toHaveLength(1);
    }
  });

  it('emits lines that are not valid UTF-8 with U+FFFD, counts them (invalid_utf8) and logs the first offset', async () => {
    const path = join(dir, 'mixed.log');
    // A Latin-1 line, a valid multi-byte line, a line cut inside a character, a good line.
    writeFileSync(
      path,
      Buffer.concat([Buffer.from('caf\xe9 latin1\n', 'latin1'), Buffer.from('naïve ✓ ok\n'), Buffer.from([0x61, 0xe2, 0x9c, 0x0a]), Buffer.from('last\n')]),
    );
    // 5-byte chunks split the good multi-byte characters across chunks: they must not be counted.
    for (const chunkBytes of [5, 16, 64 * 1024]) {
      const h = await readAll(path, {}, { chunkBytes });
      expect(h.collector.lines).toEqual(['caf\uFFFD latin1', 'naïve ✓ ok', 'a\uFFFD', 'last']);
      expect(h.context.counted('invalid_utf8')).toBe(2);
      const warns = h.context.logger.records.filter((r) => r.level === 'warn');
      expect(warns).toHaveLength(1);
      expect(warns[0]!.fields).toMatchObject({ path, offset: 0 });
    }
    const latin1 = await readAll(path, { encoding: 'latin1' });
    expect(latin1.collector.lines[0]).toBe('café latin1');
    expect(latin1.context.counted('invalid_utf8')).toBe(0);
  });

  it('accepts a line of exactly maxLineBytes', async () => {
    const h = await readAll(write('exact.log', '0123456789\n01234567890\n'), { maxLineBytes: 10 });
    expect(h.collector.lines).toEqual(['0123456789']);
  });

  it('throws a FileAccessError naming the path when the file does not exist', async () => {
    const path = join(dir, 'missing.log');
    const err = await start({ path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileAccessError);
    expect((err as FileAccessError).message).toContain(path);
    expect((err as FileAccessError).code).toBe('ENOENT');
    expect((err as FileAccessError).path).toBe(path);
  });

  it('throws when the path is a directory', async () => {
    const err = await start({ path: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileAccessError);
    expect((err as Error).message).toContain(dir);
  });

  it('with startAt: end, emits nothing of what the file already holds', async () => {
    const h = await readAll(write('old.log', 'old\nlines\n'), { startAt: 'end' });
    expect(h.collector.emits).toEqual([]);
  });

  it('keeps the read-ahead buffer bounded', async () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i}`);
    const path = write('big.log', lines.join('\n') + '\n');
    const h = await start({ path }, {}, { maxBufferedLines: 1000, chunkBytes: 4096 });
    await sleep(100);
    // One chunk past the bound at most.
    expect(h.spout.bufferedLines).toBeGreaterThanOrEqual(1000);
    expect(h.spout.bufferedLines).toBeLessThanOrEqual(1000 + 4096);
    expect(await driveSpout(h, { max: 700 })).toBe('end');
    expect(h.collector.lines).toEqual(lines);
  });

  it('returns idle, then wakes the executor, while lines are on their way', async () => {
    const path = write('w.log', 'a\n');
    const h = await start({ path });
    // Nothing has been read yet right after open; every later call follows a wake().
    let status = h.spout.next(10);
    expect(status).toBe('idle');
    for (let i = 0; i < 5 && status === 'idle'; i++) {
      const wakes = h.context.wakes;
      await h.context.waitForWake(2000);
      expect(h.context.wakes).toBe(wakes + 1);
      status = h.spout.next(10);
    }
    expect(status).toBe('end');
    expect(h.collector.lines).toEqual(['a']);
  });
});

describe('file spout: at-least-once', () => {
  it('uses byte offsets as message ids and saves the lowest unacked offset as the checkpoint', async () => {
    const path = write('r.log', 'aa\nbbb\nc\n');
    const { ino } = statSync(path);
    const h = await start({ path }, { reliable: true });
    expect(await driveSpout(h)).toBe('end');
    expect(h.collector.emits.map((e) => e.messageId)).toEqual([0, 3, 7]);
    expect(h.spout.pendingLines).toBe(3);

    h.spout.ack(3); // out of order: the committed position stays at 0
    await sleep(150);
    for (const c of h.context.checkpoints) expect(c).toEqual({ offset: 0, inode: ino, ...head('aa\nbbb\nc\n'), ...extent('aa\nbbb\nc\n', 0) });
    h.spout.ack(0);
    await sleep(150);
    expect(h.context.lastCheckpoint).toEqual({ offset: 7, inode: ino, ...head('aa\nbbb\nc\n'), ...extent('aa\nbbb\nc\n', 7) });
    h.spout.ack(7);
    await h.spout.close();
    expect(h.context.lastCheckpoint).toEqual({ offset: 9, inode: ino, ...head('aa\nbbb\nc\n'), ...extent('aa\nbbb\nc\n', 9) });
  });

  it('re-emits a failed line, with the same id, before any new line', async () => {
    const path = write('f.log', 'l0\nl1\nl2\nl3\n');
    const h = await start({ path }, { reliable: true });
    await driveSpout(h, { max: 2, until: () => h.collector.emits.length >= 2 });
    expect(h.collector.lines).toEqual(['l0', 'l1']);
    h.spout.fail(3);
    h.spout.fail(0);
    h.spout.fail(999); // unknown id: ignored
    expect(h.spout.next(3)).toBe('more');
    expect(h.collector.emits.slice(2).map((e) => [e.values[0], e.messageId])).toEqual([
      ['l1', 3],
      ['l0', 0],
      ['l2', 6],
    ]);
    // Acked while queued for replay: not emitted again.
    h.spout.fail(6);
    h.spout.ack(6);
    await sleep(20);
    expect(h.spout.next(10)).toBe('end');
    expect(h.collector.lines.slice(5)).toEqual(['l3']);
  });

  it('asks to be called again after a failure once it had ended', async () => {
    const path = write('e.log', 'only\n');
    const h = await start({ path }, { reliable: true });
    expect(await driveSpout(h)).toBe('end');
    h.spout.fail(0);
    expect(h.spout.next(10)).toBe('end');
    expect(h.collector.emits.map((e) => e.messageId)).toEqual([0, 0]);
  });

  it('saves checkpoints at most every ~100 ms, not per tuple', async () => {
    const path = write('t.log', Array.from({ length: 5000 }, (_, i) => `l${i}`).join('\n') + '\n');
    const h = await start({ path }, { reliable: true });
    await driveSpout(h, { max: 500, until: () => h.collector.emits.length === 5000 });
    for (const e of h.collector.emits) h.spout.ack(e.messageId);
    expect(h.context.checkpoints.length).toBeLessThanOrEqual(1);
    await h.spout.close();
    expect(h.context.checkpoints.length).toBeLessThanOrEqual(2);
    expect(h.context.lastCheckpoint).toMatchObject({ offset: statSync(path).size });
  });

  it('without acking, checkpoints the position after the last emitted line', async () => {
    const path = write('u.log', 'a\nbb\npartial');
    const h = await readAll(path);
    await h.spout.close();
    expect(h.context.lastCheckpoint).toEqual({
      offset: 12,
      inode: statSync(path).ino,
      ...head('a\nbb\npartial'),
      ...extent('a\nbb\npartial', 12),
      partialBytes: 7,
    });
  });

  it('resumed after a last line emitted without its newline, emits it again whole once the writer completed it, never its rest alone', async () => {
    const resume = async (p: string, restoredCheckpoint: unknown, reliable = false) => {
      const h = await start({ path: p, position: true }, { restoredCheckpoint, reliable });
      expect(await driveSpout(h)).toBe('end');
      await h.spout.close();
      return h;
    };
    const path = write('mid.log', 'a\nbb\npart');
    const first = await readAll(path, { position: true });
    expect(first.collector.lines).toEqual(['a', 'bb', 'part']);
    await first.spout.close();
    const checkpoint = first.context.lastCheckpoint;
    expect(checkpoint).toMatchObject({ offset: 9, line: 4, partialBytes: 4 });
    // Nothing written since: nothing again.
    expect((await resume(path, checkpoint)).collector.lines).toEqual([]);
    // The writer was mid-line: the whole line, with its own number and offset, then the next.
    appendFileSync(path, 'ial line\nnext\n');
    const second = await resume(path, checkpoint);
    expect(second.collector.emits.map((e) => e.values)).toEqual([
      ['partial line', path, 3, 5],
      ['next', path, 4, 18],
    ]);
    expect(second.context.logger.records.some((r) => r.msg.includes('continued since the checkpoint'))).toBe(true);
    expect(second.context.lastCheckpoint).toMatchObject({ offset: 23, line: 5 });
    expect(second.context.lastCheckpoint).not.toHaveProperty('partialBytes');

    // The line was whole: only its newline came (LF or CR LF), then other lines.
    for (const [name, end] of [
      ['lf.log', '\n'],
      ['crlf.log', '\r\n'],
    ] as const) {
      const p = write(name, `x${end}y`);
      const h = await readAll(p, { position: true });
      await h.spout.close();
      appendFileSync(p, `${end}z${end}`);
      expect((await resume(p, h.context.lastCheckpoint)).collector.emits.map((e) => e.values)).toEqual([['z', p, 3, 2 + 2 * end.length]]);
    }

    // Acked and saved with acking on too; unacked, the checkpoint is simply the line's start.
    const r = write('mid-r.log', 'a\nbc');
    const acked = await start({ path: r }, { reliable: true });
    expect(await driveSpout(acked)).toBe('end');
    acked.spout.ack(0);
    await sleep(150);
    expect(acked.context.lastCheckpoint).toMatchObject({ offset: 2 });
    expect(acked.context.lastCheckpoint).not.toHaveProperty('partialBytes');
    acked.spout.ack(2);
    await acked.spout.close();
    expect(acked.context.lastCheckpoint).toMatchObject({ offset: 4, partialBytes: 2 });
    appendFileSync(r, 'd\n');
    expect((await resume(r, acked.context.lastCheckpoint, true)).collector.lines).toEqual(['bcd']);
  });

  it('resumes a plain file at the checkpoint offset', async () => {
    const path = write('c.log', 'aa\nbbb\nc\n');
    const inode = statSync(path).ino;
    const h = await start({ path }, { reliable: true, restoredCheckpoint: { offset: 3, inode } });
    expect(await driveSpout(h)).toBe('end');
    expect(h.collector.emits.map((e) => [e.values[0], e.messageId])).toEqual([
      ['bbb', 3],
      ['c', 7],
    ]);
  });

  it('resumes a gzip file by skipping decompressed bytes up to the checkpoint offset', async () => {
    const path = write('c.gz', gzipSync('aa\nbbb\nc\n'));
    const inode = statSync(path).ino;
    const h = await start({ path }, { reliable: true, restoredCheckpoint: { offset: 7, inode } });
    expect(await driveSpout(h)).toBe('end');
    expect(h.collector.emits.map((e) => [e.values[0], e.messageId])).toEqual([['c', 7]]);
  });

  it('reads from the start when the checkpoint belongs to another file or is past its end', async () => {
    const path = write('d.log', 'x\ny\n');
    const inode = statSync(path).ino;
    for (const restoredCheckpoint of [{ offset: 2, inode: inode + 1 }, { offset: 100, inode }, 'garbage']) {
      const h = await start({ path }, { reliable: true, restoredCheckpoint });
      expect(await driveSpout(h)).toBe('end');
      expect(h.collector.lines).toEqual(['x', 'y']);
      expect(h.context.logger.records.some((r) => r.level === 'warn')).toBe(true);
    }
  });

  it('resumes at the checkpoint of a file that only grew since, and reads a file rewritten in place from the start', async () => {
    const path = write('cp.log', 'aa\nbbb\nc\n');
    const first = await start({ path }, { reliable: true });
    expect(await driveSpout(first)).toBe('end');
    first.spout.ack(0);
    await first.spout.close();
    const checkpoint = first.context.lastCheckpoint;
    expect(checkpoint).toMatchObject({ offset: 3, inode: statSync(path).ino });

    appendFileSync(path, 'd\n');
    const grown = await start({ path }, { reliable: true, restoredCheckpoint: checkpoint });
    expect(await driveSpout(grown)).toBe('end');
    expect(grown.collector.lines).toEqual(['bbb', 'c', 'd']);

    // Same inode, longer than the offset, other first bytes: copytruncate while the task was down.
    truncateSync(path, 0);
    appendFileSync(path, 'xx\nyyy\nzzzz\n');
    const rewritten = await start({ path }, { reliable: true, restoredCheckpoint: checkpoint });
    expect(await driveSpout(rewritten)).toBe('end');
    expect(rewritten.collector.lines).toEqual(['xx', 'yyy', 'zzzz']);
    expect(rewritten.context.logger.records.some((r) => r.level === 'warn' && r.msg.includes('rewritten'))).toBe(true);
  });

  it('a checkpoint wins over startAt: end', async () => {
    const path = write('s.log', 'x\ny\n');
    const h = await start({ path, startAt: 'end' }, { restoredCheckpoint: { offset: 2, inode: statSync(path).ino } });
    expect(await driveSpout(h)).toBe('end');
    expect(h.collector.lines).toEqual(['y']);
  });
});

describe('file spout: position', () => {
  const positions = (h: Harness) => h.collector.emits.map((e) => e.values);
  const until = (h: Harness, n: number) => driveSpout(h, { until: () => h.collector.emits.length >= n, timeoutMs: 5000 });

  it('declares file, lineNumber and offset beside line', () => {
    expect(fileSpout.outputs?.(configFor(fileSpout, { path: '/x', position: true }))).toEqual({
      default: ['line', 'file', 'lineNumber', 'offset'],
    });
  });

  it('emits each line with its file, 1-based line number and byte offset, counting dropped long lines', async () => {
    const path = write('p.log', 'alpha\r\nxxxxxxxxxxxx\nbé\n\nlast');
    const h = await readAll(path, { position: true, maxLineBytes: 8 });
    expect(positions(h)).toEqual([
      ['alpha', path, 1, 0],
      ['bé', path, 3, 20],
      ['', path, 4, 24],
      ['last', path, 5, 25],
    ]);
  });

  it('numbers lines of a gzip file in its decompressed data, across read chunks', async () => {
    const text = Array.from({ length: 300 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const path = write('p.gz', gzipSync(text));
    const h = await readAll(path, { position: true }, { chunkBytes: 64 });
    const values = positions(h);
    expect(values.length).toBe(300);
    expect(values[299]).toEqual(['line 299', path, 300, text.lastIndexOf('line 299')]);
    expect(values.every((v, i) => v[2] === i + 1)).toBe(true);
  });

  it('replays a failed line with its own position, and checkpoints the line number with the offset', async () => {
    const path = write('pr.log', 'l0\nl1\nl2\n');
    const { ino } = statSync(path);
    const h = await start({ path, position: true }, { reliable: true });
    expect(await driveSpout(h)).toBe('end');
    h.spout.fail(3);
    h.spout.next(10);
    expect(h.collector.emits.at(-1)).toMatchObject({ values: ['l1', path, 2, 3], messageId: 3 });
    h.spout.ack(0);
    await h.spout.close();
    expect(h.context.lastCheckpoint).toEqual({ offset: 3, inode: ino, line: 2, ...head('l0\nl1\nl2\n'), ...extent('l0\nl1\nl2\n', 3) });
  });

  it('resumes numbering from a checkpoint that has the line, and says null when it does not', async () => {
    const path = write('pc.log', 'aa\nbbb\nc\n');
    const inode = statSync(path).ino;
    const withLine = await readAll2(path, { offset: 3, inode, line: 2 });
    expect(withLine).toEqual([
      ['bbb', path, 2, 3],
      ['c', path, 3, 7],
    ]);
    const without = await readAll2(path, { offset: 7, inode });
    expect(without).toEqual([['c', path, null, 7]]);

    async function readAll2(p: string, restoredCheckpoint: unknown): Promise<unknown[][]> {
      const h = await start({ path: p, position: true }, { restoredCheckpoint });
      expect(await driveSpout(h)).toBe('end');
      return positions(h);
    }
  });

  it('starts again at line 1 in a rotated file, and has no line numbers after startAt: end', async () => {
    const path = write('prot.log', 'old 1\nold 2\n');
    const h = await start({ path, position: true, follow: true, startAt: 'end', pollInterval: '10ms' });
    appendFileSync(path, 'appended\n');
    await until(h, 1);
    renameSync(path, `${path}.1`);
    writeFileSync(path, 'new 1\nnew 2\n');
    await until(h, 3);
    expect(positions(h)).toEqual([
      ['appended', path, null, 12],
      ['new 1', path, 1, 0],
      ['new 2', path, 2, 6],
    ]);
  });
});

describe('file spout: follow', () => {
  const until = (h: Harness, n: number) => driveSpout(h, { until: () => h.collector.emits.length >= n, timeoutMs: 5000 });

  it('picks up appended lines, holding a partial line until its newline', async () => {
    const path = write('live.log', 'a\n');
    const h = await start({ path, follow: true, pollInterval: '10ms' });
    await until(h, 1);
    appendFileSync(path, 'b\nc');
    await until(h, 2);
    await sleep(50);
    expect(h.spout.next(10)).toBe('idle');
    appendFileSync(path, 'c\n');
    await until(h, 3);
    expect(h.collector.lines).toEqual(['a', 'b', 'cc']);
  });

  it('never ends by itself', async () => {
    const h = await start({ path: write('n.log', 'a\n'), follow: true, pollInterval: '10ms' });
    expect(await driveSpout(h, { timeoutMs: 200 })).toBe('timeout');
  });

  it('with startAt: end, emits only lines appended after open', async () => {
    const path = write('tail.log', 'old\n');
    const h = await start({ path, follow: true, startAt: 'end', pollInterval: '10ms' });
    appendFileSync(path, 'new\n');
    await until(h, 1);
    expect(h.collector.lines).toEqual(['new']);
  });

  it('follows a rotation: reads the rest of the old file, then the new file from its start', async () => {
    const path = write('rot.log', 'a\n');
    const h = await start({ path, follow: true, pollInterval: '10ms' }, { reliable: true });
    await until(h, 1);
    renameSync(path, `${path}.1`);
    appendFileSync(`${path}.1`, 'b\n'); // the writer still had the old file open
    writeFileSync(path, 'c\nd\n');
    await until(h, 4);
    expect(h.collector.lines).toEqual(['a', 'b', 'c', 'd']);
    // Ids keep growing across files, so they stay unique.
    const ids = h.collector.emits.map((e) => e.messageId as number);
    expect(ids).toEqual([0, 2, 4, 6]);
    expect(h.context.counted('reopened', 'rotated')).toBe(1);
    // The checkpoint names the new file once the old one is fully acked.
    for (const id of ids) h.spout.ack(id);
    await h.spout.close();
    expect(h.context.lastCheckpoint).toEqual({ offset: 4, inode: statSync(path).ino, ...head('c\nd\n'), ...extent('c\nd\n', 4) });
  });

  it('checkpoints the old file while its lines are unacked after a rotation', async () => {
    const path = write('rot2.log', 'a\nb\n');
    const oldInode = statSync(path).ino;
    const h = await start({ path, follow: true, pollInterval: '10ms' }, { reliable: true });
    await until(h, 2);
    renameSync(path, `${path}.1`);
    writeFileSync(path, 'c\n');
    await until(h, 3);
    h.spout.ack(0);
    h.spout.ack(4);
    await h.spout.close();
    // With the old file's fingerprint, not the new file's.
    expect(h.context.lastCheckpoint).toEqual({ offset: 2, inode: oldInode, ...head('a\nb\n'), size: 4 });
  });

  it('resumed after a rotation, reads the rest of the old file (found by its inode beside the path) before the new one', async () => {
    const path = write('resume-rot.log', 'a1\na2\na3\n');
    const first = await start({ path, follow: true, pollInterval: '10ms' }, { reliable: true });
    await until(first, 3);
    first.spout.ack(0); // a1 only: the checkpoint stays at a2
    await first.spout.close();
    const checkpoint = first.context.lastCheckpoint as { offset: number };
    expect(checkpoint.offset).toBe(3);
    // Rotated while the run was down, the old file written to on the way.
    appendFileSync(path, 'a4\n');
    renameSync(path, `${path}.1`);
    writeFileSync(path, 'b1\nb2\n');
    const second = await start({ path, follow: true, pollInterval: '10ms' }, { reliable: true, restoredCheckpoint: checkpoint });
    await until(second, 5);
    expect(second.collector.lines).toEqual(['a2', 'a3', 'a4', 'b1', 'b2']);
    expect(second.context.logger.records.some((r) => r.msg.includes('rotated since the checkpoint; reading the rest of the old one first'))).toBe(true);
    // Gone (compressed by logrotate, say): the new file from its start, and a warning that says what is lost.
    await second.spout.close();
    rmSync(`${path}.1`);
    const third = await start({ path, follow: true, pollInterval: '10ms' }, { reliable: true, restoredCheckpoint: checkpoint });
    await until(third, 2);
    expect(third.collector.lines).toEqual(['b1', 'b2']);
    expect(third.context.logger.records.some((r) => r.level === 'warn' && r.msg.includes('lines of the old one after the checkpoint are lost'))).toBe(true);
  });

  it('rotated twice before it looked again, reads the rotated file in between before the new one, and names one already compressed', async () => {
    const path = write('lag.log', 'a1\n');
    // A poll interval long enough that both rotations happen while the spout sleeps at the end of the file.
    const h = await start({ path, follow: true, pollInterval: '300ms' }, { reliable: true });
    await until(h, 1);
    const rotate = (middle: string) => {
      appendFileSync(path, 'a2\n');
      renameSync(path, `${path}.1`);
      writeFileSync(path, middle);
      renameSync(`${path}.1`, `${path}.2`);
      renameSync(path, `${path}.1`);
      writeFileSync(path, 'c1\n');
    };
    rotate('b1\nb2\n');
    await until(h, 5);
    expect(h.collector.lines).toEqual(['a1', 'a2', 'b1', 'b2', 'c1']);
    expect(h.context.counted('reopened', 'rotated')).toBe(2);
    expect(h.context.logger.records.some((r) => r.msg.includes('rotated more than once') && r.fields?.between === `${path}.1`)).toBe(true);
    // Ids keep growing through the three files.
    expect(h.collector.emits.map((e) => e.messageId)).toEqual([0, 3, 6, 9, 12]);
    await h.spout.close();

    // The file in between compressed already (logrotate compress without delaycompress): said, with its size.
    rmSync(`${path}.1`);
    rmSync(`${path}.2`);
    writeFileSync(path, 'a1\n');
    const g = await start({ path, follow: true, pollInterval: '300ms' });
    await until(g, 1);
    rotate('');
    writeFileSync(`${path}.1.gz`, gzipSync('b1\nb2\n'));
    rmSync(`${path}.1`);
    await until(g, 3);
    expect(g.collector.lines).toEqual(['a1', 'a2', 'c1']);
    const warn = g.context.logger.records.find((r) => r.level === 'warn' && r.msg.includes('already compressed'));
    expect(warn?.fields).toMatchObject({ skipped: [`${path}.1.gz`], skippedBytes: statSync(`${path}.1.gz`).size });
  });

  it('resumed with the checkpoint in a file rotated twice since, reads it, the file in between, then the new one', async () => {
    const path = write('lag2.log', 'a1\na2\n');
    const first = await readAll(path);
    await first.spout.close();
    appendFileSync(path, 'a3\n');
    renameSync(path, `${path}-20261203`);
    writeFileSync(path, 'b1\n');
    renameSync(path, `${path}-20261204`);
    writeFileSync(path, 'c1\n');
    for (const follow of [false, true]) {
      const h = await start({ path, follow, pollInterval: '10ms' }, { restoredCheckpoint: first.context.lastCheckpoint });
      await until(h, 3);
      expect(h.collector.lines).toEqual(['a3', 'b1', 'c1']);
      if (!follow) expect(await driveSpout(h)).toBe('end');
      await h.spout.close();
    }
  });

  it('waits while the file is missing and reads it once it is back', async () => {
    const path = write('gone.log', 'a\n');
    const h = await start({ path, follow: true, pollInterval: '10ms' });
    await until(h, 1);
    rmSync(path);
    await sleep(50);
    writeFileSync(path, 'b\n');
    await until(h, 2);
    expect(h.collector.lines).toEqual(['a', 'b']);
  });

  it('reads a truncated file again from its start', async () => {
    const path = write('trunc.log', 'first line\nsecond line\n');
    const h = await start({ path, follow: true, pollInterval: '10ms' });
    await until(h, 2);
    truncateSync(path, 0);
    await sleep(50);
    appendFileSync(path, 'new\n');
    await until(h, 3);
    expect(h.collector.lines).toEqual(['first line', 'second line', 'new']);
    expect(h.context.counted('reopened', 'truncated')).toBe(1);
  });

  it('reads a file truncated and rewritten past the old offset within one poll again from its start (copytruncate)', async () => {
    const path = write('copytrunc.log', '1\n2\n3\n4\n');
    const h = await start({ path, follow: true, pollInterval: '50ms' }, { reliable: true });
    await until(h, 4);
    await sleep(10); // the spout is asleep at the end of the file
    // Both before the next poll: the file never looks shorter than the 8 bytes read.
    truncateSync(path, 0);
    appendFileSync(path, Array.from({ length: 11 }, (_, i) => `${300 + i}\n`).join(''));
    await until(h, 15);
    expect(h.collector.lines).toEqual(['1', '2', '3', '4', ...Array.from({ length: 11 }, (_, i) => String(300 + i))]);
    expect(h.context.counted('reopened', 'truncated')).toBe(1);
    // Ids keep growing across the rewrite, so they stay unique.
    expect(h.collector.emits.map((e) => e.messageId).slice(3, 6)).toEqual([6, 8, 12]);
    // A second rewrite is counted again.
    await sleep(60);
    truncateSync(path, 0);
    appendFileSync(path, 'again, longer than what was read before\n'.repeat(3));
    await until(h, 18);
    expect(h.collector.lines.slice(15)).toEqual(new Array(3).fill('again, longer than what was read before'));
    expect(h.context.counted('reopened', 'truncated')).toBe(2);
  });

  it('does not take appends for a rewrite while a file shorter than its fingerprint grows past it, then sees a rewrite there', async () => {
    const path = write('grow.log', 'a\n');
    const h = await start({ path, follow: true, pollInterval: '5ms' });
    await until(h, 1);
    const grown = ['a'];
    // 2 bytes at first; appended a line at a time, across polls, to well past 256 bytes.
    for (let i = 0; i < 40; i++) {
      const line = `line ${String(i).padStart(2, '0')} of the growing file`;
      grown.push(line);
      appendFileSync(path, `${line}\n`);
      if (i % 4 === 0) await sleep(8);
    }
    await until(h, grown.length);
    await sleep(30);
    expect(h.collector.lines).toEqual(grown);
    expect(h.context.counted('reopened', 'truncated')).toBe(0);
    // Rewritten with the same first line (the 2 bytes first seen) but different bytes before 256.
    const size = statSync(path).size;
    truncateSync(path, 0);
    const rewritten = ['a', ...Array.from({ length: 30 }, (_, i) => `rewritten ${i} of the file, past its old end`)];
    appendFileSync(path, `${rewritten.join('\n')}\n`);
    expect(statSync(path).size).toBeGreaterThan(size);
    await until(h, grown.length + rewritten.length);
    expect(h.collector.lines.slice(grown.length)).toEqual(rewritten);
    expect(h.context.counted('reopened', 'truncated')).toBe(1);
  });

  it('waits for a file that does not exist yet, saying so once, then reads it from its start and follows it', async () => {
    const path = join(dir, 'later.log');
    const h = await start({ path, follow: true, pollInterval: '10ms' });
    expect(await driveSpout(h, { timeoutMs: 100 })).toBe('timeout');
    expect(h.collector.emits).toEqual([]);
    const waiting = () => h.context.logger.records.filter((r) => r.msg.includes('waiting for it to appear'));
    expect(waiting()).toHaveLength(1);
    expect(['info', 'warn']).toContain(waiting()[0]!.level);
    expect(waiting()[0]!.fields).toMatchObject({ path });
    writeFileSync(path, 'a\nb');
    await until(h, 1);
    appendFileSync(path, '\nc\n');
    await until(h, 3);
    expect(h.collector.lines).toEqual(['a', 'b', 'c']);
    expect(waiting()).toHaveLength(1);
    // Followed as any file once it is there: rotation included.
    renameSync(path, `${path}.1`);
    writeFileSync(path, 'd\n');
    await until(h, 4);
    expect(h.collector.lines).toEqual(['a', 'b', 'c', 'd']);
    expect(h.context.counted('reopened', 'rotated')).toBe(1);
  });

  it('reads a file that appears after open from its start despite startAt: end, numbering from line 1', async () => {
    const path = join(dir, 'later-end.log');
    const h = await start({ path, follow: true, startAt: 'end', position: true, pollInterval: '10ms' }, { reliable: true });
    await sleep(30);
    writeFileSync(path, 'one\ntwo\n');
    await until(h, 2);
    expect(h.collector.emits.map((e) => [...e.values, e.messageId])).toEqual([
      ['one', path, 1, 0, 0],
      ['two', path, 2, 4, 4],
    ]);
    h.spout.ack(0);
    await h.spout.close();
    expect(h.context.lastCheckpoint).toEqual({ offset: 4, inode: statSync(path).ino, line: 2, ...head('one\ntwo\n'), ...extent('one\ntwo\n', 4) });
  });

  it('saves no checkpoint while the file is missing, and closes promptly while waiting for it', async () => {
    const h = await start({ path: join(dir, 'never.log'), follow: true, pollInterval: '10s' }, { reliable: true });
    await sleep(150);
    const t0 = performance.now();
    await h.spout.close();
    expect(performance.now() - t0).toBeLessThan(500);
    expect(h.context.checkpoints).toEqual([]);
  });

  it('reads a file missing when its checkpoint was restored from its start once it appears, as a replaced file', async () => {
    // Even with the same content and (if the file system reuses it) the same inode as the checkpoint.
    const content = 'a\nb\nc\n';
    const path = write('back.log', content);
    const restoredCheckpoint = { offset: 2, inode: statSync(path).ino, line: 2, ...head(content) };
    rmSync(path);
    const h = await start({ path, follow: true, position: true, pollInterval: '10ms' }, { reliable: true, restoredCheckpoint });
    await sleep(150);
    expect(h.context.checkpoints).toEqual([]);
    writeFileSync(path, content);
    await until(h, 3);
    expect(h.collector.emits.map((e) => e.values)).toEqual([
      ['a', path, 1, 0],
      ['b', path, 2, 2],
      ['c', path, 3, 4],
    ]);
    expect(h.context.logger.records.some((r) => r.level === 'warn' && r.msg.includes('replaced'))).toBe(true);
  });

  it('still fails open with follow on errors other than a missing file', async () => {
    const file = write('plain.log', 'x\n');
    for (const [path, code] of [
      [join(file, 'under-a-file.log'), 'ENOTDIR'],
      [dir, 'EISDIR'],
    ] as const) {
      const err = await start({ path, follow: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FileAccessError);
      expect((err as FileAccessError).code).toBe(code);
      expect((err as FileAccessError).message).toContain(path);
    }
  });

  it('reports a path that appears as a directory as input that could not be read, and ends', async () => {
    const path = join(dir, 'becomes-a-dir');
    const h = await start({ path, follow: true, pollInterval: '10ms' });
    mkdirSync(path);
    expect(await driveSpout(h)).toBe('end');
    expect(h.collector.inputFailures).toHaveLength(1);
    expect(h.collector.inputFailures[0]).toBeInstanceOf(FileAccessError);
    expect(h.collector.inputFailures[0]).toMatchObject({ path, code: 'EISDIR' });
  });

  it('reads a gzip file that appears after open once, from its start', async () => {
    const path = join(dir, 'later.gz');
    const h = await start({ path, follow: true, pollInterval: '10ms' });
    writeFileSync(path, gzipSync('g1\ng2\n'));
    expect(await driveSpout(h)).toBe('end');
    expect(h.collector.lines).toEqual(['g1', 'g2']);
  });

  it('closes promptly while waiting for data', async () => {
    const h = await start({ path: write('idle.log', ''), follow: true, pollInterval: '10s' });
    await sleep(20);
    const t0 = performance.now();
    await h.spout.close();
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

describe('file spout: copytruncate while stopped', () => {
  const until = (h: Harness, n: number) => driveSpout(h, { until: () => h.collector.emits.length >= n, timeoutMs: 5000 });
  const warnings = (h: Harness) => h.context.logger.records.filter((r) => r.level === 'warn');

  /** What logrotate's copytruncate does: copy the file beside it, then empty it. */
  function copytruncate(path: string, copy: string): void {
    copyFileSync(path, copy);
    truncateSync(path, 0);
  }

  it('reads the rest of the copy from the checkpoint, then the truncated file from its start, telling the copy by the bytes before the offset', async () => {
    // Every rotation opens with the same 300-byte header: the first bytes alone cannot tell them apart.
    const header = `#${'h'.repeat(298)}\n`;
    const path = write('ct.log', `${header}a1\na2\na3\n`);
    const first = await start({ path, follow: true, pollInterval: '10ms' }, { reliable: true });
    await until(first, 4);
    first.spout.ack(0);
    first.spout.ack(300); // a1: the checkpoint stays at a2
    await first.spout.close();
    const checkpoint = first.context.lastCheckpoint;
    expect(checkpoint).toMatchObject({ offset: 303, size: 309, tailBytes: 256 });

    // While the run is down: a line more, the copy and truncation, the writer on in the emptied file;
    // and an older rotation with the same header, long enough, modified later than the copy.
    appendFileSync(path, 'a4\n');
    write('ct.log.2', `${header}z1\nz2\nz3\nz4\nz5\n`);
    copytruncate(path, `${path}.1`);
    appendFileSync(path, 'b1\n');
    const later = new Date(Date.now() + 60_000);
    utimesSync(`${path}.2`, later, later);

    const second = await start({ path, follow: true, pollInterval: '10ms' }, { reliable: true, restoredCheckpoint: checkpoint });
    await until(second, 4);
    await sleep(30);
    expect(second.collector.lines).toEqual(['a2', 'a3', 'a4', 'b1']);
    expect(second.context.logger.records.some((r) => r.level === 'info' && r.msg.includes('copytruncate') && r.fields?.old === `${path}.1`)).toBe(true);
    expect(warnings(second)).toEqual([]);
    await second.spout.close();

    // No copy beside it (compressed, deleted): from the start, saying plainly what may be lost and how much.
    rmSync(`${path}.1`);
    const third = await start({ path, follow: true, pollInterval: '10ms' }, { reliable: true, restoredCheckpoint: checkpoint });
    await until(third, 1);
    expect(third.collector.lines).toEqual(['b1']);
    expect(warnings(third)).toHaveLength(1);
    expect(warnings(third)[0]!.msg).toContain('lines after byte 303 of the old file may be lost: at least the 6 bytes read past it');
    expect(warnings(third)[0]!.fields).toMatchObject({ offset: 303, lostBytesAtLeast: 6 });
  });

  it('without follow too, and from a checkpoint of the previous version (no size, no bytes before the offset), after the file was written past its old end', async () => {
    const path = write('ct2.log', 'l1\nl2\nl3\n');
    const first = await readAll(path);
    await first.spout.close();
    const { size: _size, tailBytes: _tb, tailHash: _th, ...previous } = first.context.lastCheckpoint as Record<string, unknown>;
    expect(previous).toEqual({ offset: 9, inode: statSync(path).ino, ...head('l1\nl2\nl3\n') });

    appendFileSync(path, 'l4\nl5\n');
    copytruncate(path, `${path}-20261203`);
    // Longer than the old offset before the resume: seen by its first bytes, not its size.
    appendFileSync(path, 'm1, written to the emptied file\n');
    for (const checkpoint of [first.context.lastCheckpoint, previous]) {
      const h = await start({ path }, { restoredCheckpoint: checkpoint });
      expect(await driveSpout(h)).toBe('end');
      expect(h.collector.lines).toEqual(['l4', 'l5', 'm1, written to the emptied file']);
      expect(warnings(h)).toEqual([]);
      await h.spout.close();
      // Saved in the file at the path, once read there.
      expect(h.context.lastCheckpoint).toMatchObject({ offset: 32, inode: statSync(path).ino });
    }

    // Renamed away rather than copied: the same, by inode.
    const moved = write('mv.log', 'k1\nk2\n');
    const once = await readAll(moved);
    await once.spout.close();
    appendFileSync(moved, 'k3\n');
    renameSync(moved, `${moved}.1`);
    writeFileSync(moved, 'n1\n');
    const resumed = await start({ path: moved }, { restoredCheckpoint: once.context.lastCheckpoint });
    expect(await driveSpout(resumed)).toBe('end');
    expect(resumed.collector.lines).toEqual(['k3', 'n1']);

    rmSync(`${path}-20261203`);
    const lost = await start({ path }, { restoredCheckpoint: previous });
    expect(await driveSpout(lost)).toBe('end');
    expect(lost.collector.lines).toEqual(['m1, written to the emptied file']);
    expect(warnings(lost)[0]!.msg).toContain('lines after byte 9 of the old file may be lost');
  });
});

describe('file spout: real logs (../shared/data)', () => {
  const data = fileURLToPath(new URL('../../../../../../shared/data/loghub/', import.meta.url));

  for (const system of ['Linux', 'OpenSSH', 'Apache']) {
    it(`reads ${system}_2k.log (CRLF) exactly as its LF copy reads`, async () => {
      const crlf = join(data, system, `${system}_2k.log`);
      const lf = join(data, system, 'corrected', `${system}_2k.log`);
      expect(existsSync(crlf), `test data missing: ${crlf}`).toBe(true);
      expect(existsSync(lf), `test data missing: ${lf}`).toBe(true);
      const expected = readFileSync(lf, 'utf8').split('\n');
      if (expected.at(-1) === '') expected.pop();
      const a = await readAll(crlf, {}, { chunkBytes: 1000 });
      const b = await readAll(lf);
      expect(a.collector.lines).toHaveLength(2000);
      expect(a.collector.lines).toEqual(b.collector.lines);
      expect(b.collector.lines).toEqual(expected);
    });
  }
});
