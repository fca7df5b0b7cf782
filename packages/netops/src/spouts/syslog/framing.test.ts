import { describe, expect, it } from 'vitest';
import { FrameDecoder, type FrameSink } from './framing.js';

class Recorder implements FrameSink {
  readonly frames: string[] = [];
  readonly tooLongs: { offset: number; length: number }[] = [];
  frame(buf: Buffer, start: number, end: number): void {
    this.frames.push(buf.toString('utf8', start, end));
  }
  tooLong(offset: number, length: number): void {
    this.tooLongs.push({ offset, length });
  }
}

function decode(chunks: (string | Buffer)[], max = 1024): { rec: Recorder; dec: FrameDecoder; ok: boolean; lost: number } {
  const rec = new Recorder();
  const dec = new FrameDecoder(max, rec);
  let ok = true;
  for (const c of chunks) ok = dec.push(typeof c === 'string' ? Buffer.from(c) : c) && ok;
  const lost = dec.finish();
  return { rec, dec, ok, lost };
}

/** Every way of cutting `text` in two, and one byte at a time. */
function cuts(text: string): Buffer[][] {
  const b = Buffer.from(text);
  const out: Buffer[][] = [[b]];
  for (let i = 1; i < b.length; i++) out.push([b.subarray(0, i), b.subarray(i)]);
  out.push([...b].map((x) => Buffer.from([x])));
  return out;
}

const octet = (msg: string): string => `${Buffer.byteLength(msg)} ${msg}`;

describe('FrameDecoder: non-transparent (LF) framing', () => {
  it('detects LF framing from a first byte that is not a digit', () => {
    const { rec, dec } = decode(['<13>one\n<14>two\n']);
    expect(dec.mode).toBe('non-transparent');
    expect(rec.frames).toEqual(['<13>one', '<14>two']);
  });

  it('accepts LF, CR LF and NUL trailers, skips empty lines', () => {
    const { rec } = decode(['<13>a\r\n<13>b\0<13>c\n\n\r\n<13>d\0\n']);
    expect(rec.frames).toEqual(['<13>a', '<13>b', '<13>c', '<13>d']);
  });

  it('gives the same frames however the stream is cut', () => {
    const text = '<34>Oct 11 22:14:15 mymachine su: é ünïcode\r\n<13>second\n<165>third\0<1>x\n';
    for (const chunks of cuts(text)) {
      expect(decode(chunks).rec.frames).toEqual(['<34>Oct 11 22:14:15 mymachine su: é ünïcode', '<13>second', '<165>third', '<1>x']);
    }
  });

  it('delivers a last line without trailer when the stream ends', () => {
    const { rec, lost } = decode(['<13>one\n<13>tw', 'o']);
    expect(rec.frames).toEqual(['<13>one', '<13>two']);
    expect(lost).toBe(0);
  });

  it('skips an over-long line up to its trailer and goes on, in one chunk or split', () => {
    const long = `<13>${'x'.repeat(60)}`;
    const text = `<13>ok1\n${long}\n<13>ok2\n`;
    for (const chunks of cuts(text)) {
      const { rec } = decode(chunks, 32);
      expect(rec.frames).toEqual(['<13>ok1', '<13>ok2']);
      expect(rec.tooLongs).toHaveLength(1);
      expect(rec.tooLongs[0]!.offset).toBe(8);
      expect(rec.tooLongs[0]!.length).toBeGreaterThan(32);
    }
  });

  it('accepts a line of exactly the maximum, with or without CR', () => {
    const exact = `<1>${'y'.repeat(29)}`; // 32 bytes
    for (const chunks of cuts(`${exact}\r\n${exact}\n`)) {
      const { rec } = decode(chunks, 32);
      expect(rec.frames).toEqual([exact, exact]);
      expect(rec.tooLongs).toEqual([]);
    }
  });

  it('does not treat a later digit as octet-counting: framing is decided once per connection', () => {
    const { rec } = decode(['<13>a\n2024-01-01 no pri\n']);
    expect(rec.frames).toEqual(['<13>a', '2024-01-01 no pri']);
  });
});

describe('FrameDecoder: octet-counting framing', () => {
  it('detects octet-counting from a leading digit and takes exactly LEN bytes', () => {
    const msgs = ['<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 - a\nb', '<13>é', '<165>1 - - - - - -'];
    const { rec, dec } = decode([msgs.map(octet).join('')]);
    expect(dec.mode).toBe('octet-counting');
    // An LF inside a frame is part of the message.
    expect(rec.frames).toEqual(msgs);
  });

  it('gives the same frames however the stream is cut, including inside the length', () => {
    const msgs = ['<13>first message', '<14>ünïcode bytes counted', `<15>${'z'.repeat(120)}`];
    const text = msgs.map(octet).join('');
    for (const chunks of cuts(text)) expect(decode(chunks).rec.frames).toEqual(msgs);
  });

  it('removes one trailing LF, CR LF or NUL inside the count, and tolerates newlines between frames', () => {
    const { rec, ok } = decode([`${octet('<13>a\n')}\n${octet('<13>b\r\n')}\r\n${octet('<13>c\0')}`]);
    expect(ok).toBe(true);
    expect(rec.frames).toEqual(['<13>a', '<13>b', '<13>c']);
  });

  it('skips exactly an over-long frame and goes on with the next', () => {
    const big = `<13>${'q'.repeat(200)}`;
    const text = octet('<13>before') + octet(big) + octet('<13>after');
    for (const chunks of cuts(text)) {
      const { rec, ok } = decode(chunks, 64);
      expect(ok).toBe(true);
      expect(rec.frames).toEqual(['<13>before', '<13>after']);
      expect(rec.tooLongs).toEqual([{ offset: Buffer.byteLength(octet('<13>before')), length: Buffer.byteLength(big) }]);
    }
  });

  it('breaks on a non-digit where a count should be, naming the byte offset', () => {
    const { rec, ok, dec } = decode([octet('<13>ok') + 'garbage here\n' + octet('<13>never')]);
    expect(ok).toBe(false);
    expect(rec.frames).toEqual(['<13>ok']);
    expect(dec.error).toMatchObject({ reason: 'bad_length', offset: 8 }); // '6 <13>ok' is bytes 0..7
    expect(dec.error!.message).toContain("'g' (0x67)");
    expect(dec.push(Buffer.from(octet('<13>later')))).toBe(false);
  });

  it('breaks on a count not followed by a space, on count 0, and on more than 9 digits', () => {
    expect(decode(['12x<13>abc']).dec.error).toMatchObject({ reason: 'bad_length', offset: 2 });
    expect(decode(['0 ']).dec.error).toMatchObject({ reason: 'zero_length', offset: 0 });
    expect(decode(['1234567890 x']).dec.error).toMatchObject({ reason: 'length_overflow', offset: 9 });
  });

  it('reports the bytes of a frame cut short by the end of the stream', () => {
    const { rec, lost } = decode([octet('<13>whole') + '20 <13>par']);
    expect(rec.frames).toEqual(['<13>whole']);
    expect(lost).toBe(7);
  });
});
