import { describe, expect, it } from 'vitest';
import { FrameDecoder, type FrameSink, type FramingFallback } from './framing.js';

class Recorder implements FrameSink {
  readonly frames: string[] = [];
  readonly tooLongs: { offset: number; length: number }[] = [];
  readonly fallbacks: FramingFallback[] = [];
  empties = 0;
  frame(buf: Buffer, start: number, end: number): void {
    this.frames.push(buf.toString('utf8', start, end));
  }
  tooLong(offset: number, length: number): void {
    this.tooLongs.push({ offset, length });
  }
  fallback(fallback: FramingFallback): void {
    this.fallbacks.push(fallback);
  }
  empty(): void {
    this.empties++;
  }
}

function decode(chunks: (string | Buffer)[], max = 1024): { rec: Recorder; dec: FrameDecoder; lost: number } {
  const rec = new Recorder();
  const dec = new FrameDecoder(max, rec);
  for (const c of chunks) dec.push(typeof c === 'string' ? Buffer.from(c) : c);
  const lost = dec.finish();
  return { rec, dec, lost };
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

  it('reports an over-long last line cut off by the end of the stream as too long, like one ended by LF', () => {
    const text = `<13>ok\n<14>${'q'.repeat(300)}`;
    for (const chunks of cuts(text)) {
      const { rec, lost } = decode(chunks, 100);
      expect(rec.frames).toEqual(['<13>ok']);
      expect(rec.tooLongs).toEqual([{ offset: 7, length: 304 }]);
      expect(lost).toBe(0);
    }
  });

  it('reports a last line of one byte over the maximum without trailer as too long, and takes one of exactly the maximum', () => {
    const exact = `<1>${'y'.repeat(29)}`; // 32 bytes
    for (const chunks of cuts(`<13>ok\n${exact}y`)) {
      const { rec } = decode(chunks, 32);
      expect(rec.frames).toEqual(['<13>ok']);
      expect(rec.tooLongs).toEqual([{ offset: 7, length: 33 }]);
    }
    for (const text of [exact, `${exact}\r`]) {
      for (const chunks of cuts(text)) {
        const { rec } = decode(chunks, 32);
        expect(rec.frames).toEqual([exact]);
        expect(rec.tooLongs).toEqual([]);
      }
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
    const { rec } = decode([`${octet('<13>a\n')}\n${octet('<13>b\r\n')}\r\n${octet('<13>c\0')}`]);
    expect(rec.frames).toEqual(['<13>a', '<13>b', '<13>c']);
    expect(rec.empties).toBe(0);
  });

  it('tells the sink of a frame that holds only its trailer, and goes on', () => {
    const { rec } = decode([`${octet('<13>a')}1 \n2 \r\n1 \0${octet('<13>b')}`]);
    expect(rec.frames).toEqual(['<13>a', '<13>b']);
    expect(rec.empties).toBe(3);
  });

  it('applies the maximum to the message, not to its trailer, as for lines', () => {
    const ten = '<13>abcdef';
    const { rec } = decode([octet(`${ten}\n`) + octet(`${ten}\r\n`) + octet(`${ten}x`) + octet(`${ten}x\n`) + octet('<13>ok')], 10);
    expect(rec.frames).toEqual([ten, ten, '<13>ok']);
    expect(rec.tooLongs.map((t) => t.length)).toEqual([11, 11]);
  });

  it('skips exactly an over-long frame and goes on with the next', () => {
    const big = `<13>${'q'.repeat(200)}`;
    const text = octet('<13>before') + octet(big) + octet('<13>after');
    for (const chunks of cuts(text)) {
      const { rec } = decode(chunks, 64);
      expect(rec.frames).toEqual(['<13>before', '<13>after']);
      expect(rec.tooLongs).toEqual([{ offset: Buffer.byteLength(octet('<13>before')), length: Buffer.byteLength(big) }]);
    }
  });

  it('reads a frame that does not start with a digit, after octet-counted ones, as a line, naming the byte offset (as rsyslog decides per frame)', () => {
    const text = `${octet('<13>ok')}garbage here\n${octet('<13>next')}`;
    for (const chunks of cuts(text)) {
      const { rec, dec, lost } = decode(chunks);
      expect(rec.frames).toEqual(['<13>ok', 'garbage here', '<13>next']);
      expect(dec.mode).toBe('octet-counting');
      expect(lost).toBe(0);
      expect(rec.fallbacks).toHaveLength(1);
      // '6 <13>ok' is bytes 0..7.
      expect(rec.fallbacks[0]).toMatchObject({ reason: 'lf_fallback', offset: 8, at: 8, mode: 'octet-counting' });
      expect(rec.fallbacks[0]!.message).toContain("'g' (0x67) at byte 8 where an octet count should start: no octet count; the frame is read as a line");
    }
  });

  it('reads a frame with count 0 as a line, digits included', () => {
    const text = `${octet('<13>a')}0 <13>zero\n${octet('<13>b')}`;
    for (const chunks of cuts(text)) {
      const { rec } = decode(chunks);
      expect(rec.frames).toEqual(['<13>a', '0 <13>zero', '<13>b']);
      expect(rec.fallbacks.map((f) => [f.offset, f.message.startsWith('octet count 0 at byte 7 is 0')])).toEqual([[7, true]]);
    }
    // On the first frame: the connection is LF-framed from then on.
    const first = decode(['0 <13>x\n5 <13>y\n']);
    expect(first.rec.frames).toEqual(['0 <13>x', '5 <13>y']);
    expect(first.dec.mode).toBe('non-transparent');
  });

  it('resynchronises after a count that was too short: the rest of that frame is one line, then octet-counting goes on', () => {
    const { rec } = decode([`4 <13>hello\n${octet('<13>after')}`]);
    expect(rec.frames).toEqual(['<13>', 'hello', '<13>after']);
    expect(rec.fallbacks).toHaveLength(1);
  });

  it('after a wrong count, finds the next frame by its start (LEN SP <PRI>) even with no LF in the stream: one bad count costs a frame, not the connection', () => {
    const good = Array.from({ length: 50 }, (_, i) => octet(`<13>1 2026-12-03T10:00:00Z h1 app - - - good ${i}`)).join('');
    const bad = '<13>1 2026-12-03T10:00:00Z h1 app - - - SHORTLIAR-x';
    // A count 2 short, and one 30 long (it swallows the start of the next frame).
    for (const wrong of [`${Buffer.byteLength(bad) - 2} ${bad}`, `${Buffer.byteLength(bad) + 30} ${bad}`]) {
      const all = wrong + good;
      // In one chunk, and in chunks of 1000 bytes (a frame start the chunk cannot confirm is passed over: the next is found).
      for (const chunks of [[all], Array.from({ length: Math.ceil(all.length / 1000) }, (_, i) => all.slice(i * 1000, i * 1000 + 1000))]) {
        const { rec } = decode(chunks);
        const goods = rec.frames.filter((f) => f.includes(' good '));
        expect(goods.length).toBeGreaterThanOrEqual(48);
        expect(goods.at(-1)).toBe('<13>1 2026-12-03T10:00:00Z h1 app - - - good 49');
        expect(rec.frames.every((f) => f.length < 200)).toBe(true);
        expect(rec.fallbacks).toHaveLength(1);
      }
    }
  });

  it('does not take the digits a short count left unread for the start of the next count (port 22 then 46 <13>... is not 2246)', () => {
    const before = Array.from({ length: 5 }, (_, i) => octet(`<13>1 2026-12-03T10:00:00Z r1 sshd - - - before ${i}`)).join('');
    const bad = '<13>1 2026-12-03T10:00:00Z r1 sshd - - - accepted from 10.0.0.1 port 22';
    const good = Array.from({ length: 60 }, (_, i) => octet(`<13>1 2026-12-03T10:00:00Z r1 app - - - good ${i}`)).join('');
    expect(good.startsWith('46 <13>')).toBe(true); // read after the leftover 22: a count of 2246, which the stream holds
    const all = before + `${Buffer.byteLength(bad) - 2} ${bad}` + good;
    const cut = before.length; // also with the leftover digits at the start of a chunk
    for (const chunks of [[all], [all.slice(0, cut), all.slice(cut)]]) {
      const { rec, lost } = decode(chunks);
      const goods = rec.frames.filter((f) => f.includes(' good '));
      expect(goods).toHaveLength(60);
      expect(rec.frames.filter((f) => f.includes(' before '))).toHaveLength(5);
      // The short frame, then its last two bytes as a line of their own.
      expect(rec.frames.slice(5, 7)).toEqual([bad.slice(0, -2), '22']);
      expect(rec.fallbacks).toHaveLength(1);
      expect(rec.fallbacks[0]!.message).toContain('octet count 2246 at byte');
      expect(rec.fallbacks[0]!.message).toContain('22 ends the previous frame (its count was short)');
      expect(lost).toBe(0);
    }
  });

  it('ends a frame whose count is too long at the next confirmed frame start, when its declared end is no frame start', () => {
    const bad = '<13>1 2026-12-03T10:00:00Z h1 app - - - LONGLIAR';
    const good = Array.from({ length: 20 }, (_, i) => octet(`<13>1 2026-12-03T10:00:00Z h1 app - - - good ${i}`)).join('');
    const { rec } = decode([`${Buffer.byteLength(bad) + 30} ${bad}${good}`]);
    expect(rec.frames).toEqual([bad, ...Array.from({ length: 20 }, (_, i) => `<13>1 2026-12-03T10:00:00Z h1 app - - - good ${i}`)]);
    expect(rec.fallbacks).toHaveLength(1);
    expect(rec.fallbacks[0]!.message).toContain('the count is too long');
  });

  it('never splits valid frames whose messages hold frame-like text (12 <13>, even a chain of them whose counts agree)', () => {
    // "9 <13>abcd " is a frame whose end is another frame start, "9 <14>efgh ": a confirmed chain inside a message.
    const msgs = [
      '<13>relay: saw 12 <13>x from 10.0.0.1 port 22',
      '<13>quoted: 9 <13>abcd 9 <14>efgh 9 <15>ijkl tail 22',
      '<13>ends in digits 46',
      '<14>quoted again: 9 <13>abcd 9 <14>efgh',
    ];
    const framed = msgs.map(octet).join('');
    // Followed by a frame without PRI, by an LF, or by nothing: none of them is a reason to doubt a count.
    for (const text of [framed, `${framed}5 hello`, msgs.map((m) => `${octet(m)}\n`).join(''), `${octet(msgs[1]!)}${octet('no pri')}${octet(msgs[3]!)}`]) {
      for (const chunks of cuts(text)) {
        const { rec, lost } = decode(chunks);
        expect(rec.fallbacks).toEqual([]);
        expect(lost).toBe(0);
        expect(rec.frames.filter((f) => f.includes('quoted')).every((f) => f.endsWith('tail 22') || f.endsWith('efgh'))).toBe(true);
        expect(rec.frames.join('|')).not.toMatch(/\|9 |\|<1[345]>(abcd|efgh|ijkl)/);
      }
    }
  });

  it('takes more than 9 digits for the start of a line (an epoch in ms), not a count, whatever follows', () => {
    const text = '1764751200000 host1 app: epoch stamped\n1764751200001 host1 app: again\n';
    for (const chunks of cuts(text)) {
      const { rec, dec } = decode(chunks);
      expect(dec.error).toBeUndefined();
      expect(rec.frames).toEqual(['1764751200000 host1 app: epoch stamped', '1764751200001 host1 app: again']);
      expect(rec.fallbacks).toHaveLength(1);
      expect(rec.fallbacks[0]!.message).toContain('176475120... at byte 0 has more than 9 digits: not an octet count');
    }
    // After octet-counted frames, only that frame.
    const { rec } = decode([`${octet('<13>a')}12345678901 plain\n${octet('<13>b')}`]);
    expect(rec.frames).toEqual(['<13>a', '12345678901 plain', '<13>b']);
  });

  it('still skips an over-long octet-counted frame after a frame read as a line', () => {
    const big = `<13>${'q'.repeat(200)}`;
    const text = octet('<13>a') + '7x no count\n' + octet(big) + octet('<13>b');
    for (const chunks of cuts(text)) {
      const { rec } = decode(chunks, 64);
      expect(rec.frames).toEqual(['<13>a', '7x no count', '<13>b']);
      expect(rec.tooLongs).toEqual([{ offset: 19, length: Buffer.byteLength(big) }]);
    }
  });

  it('reports the bytes of a frame cut short by the end of the stream', () => {
    const { rec, lost } = decode([octet('<13>whole') + '20 <13>par']);
    expect(rec.frames).toEqual(['<13>whole']);
    expect(lost).toBe(7);
  });
});

describe('FrameDecoder: digits not followed by a space (no octet count)', () => {
  const lines = ['2026-12-03T06:00:00Z host1 app: line 1', '2026-12-03T06:00:01Z host1 app: line 2', '123 looks counted'];

  it('reads the first frame as a line from its first digit, and the connection as LF-framed from then on', () => {
    for (const chunks of cuts(lines.map((l) => `${l}\n`).join(''))) {
      const { rec, dec } = decode(chunks);
      expect(dec.error).toBeUndefined();
      expect(dec.mode).toBe('non-transparent');
      // '123 looks counted' is a line too: the connection is not octet-counted.
      expect(rec.frames).toEqual(lines);
      expect(rec.fallbacks).toHaveLength(1);
      expect(rec.fallbacks[0]).toMatchObject({ reason: 'lf_fallback', offset: 0, at: 4, mode: 'non-transparent' });
      expect(rec.fallbacks[0]!.message).toContain("2026 at byte 0 is followed by '-' (0x2d), not a space");
    }
  });

  it('takes a count not followed by a space, or by a trailer, as the start of a line', () => {
    expect(decode(['12x<13>abc\n']).rec.frames).toEqual(['12x<13>abc']);
    expect(decode(['42\r\n007\n']).rec.frames).toEqual(['42', '007']);
    const { rec, lost } = decode(['0012:00 last, no trailer']);
    expect(rec.frames).toEqual(['0012:00 last, no trailer']);
    expect(lost).toBe(0);
  });

  it('after octet-counted frames reads only that frame as a line and goes on octet-counting', () => {
    const text = `${octet('<13>a')}2026-12-03 no pri\n${octet('<13>b')}\n${octet('<13>c 1\n2')}`;
    for (const chunks of cuts(text)) {
      const { rec, dec } = decode(chunks);
      expect(dec.mode).toBe('octet-counting');
      expect(rec.frames).toEqual(['<13>a', '2026-12-03 no pri', '<13>b', '<13>c 1\n2']);
      expect(rec.fallbacks.map((f) => ({ offset: f.offset, at: f.at, mode: f.mode }))).toEqual([{ offset: 7, at: 11, mode: 'octet-counting' }]);
    }
  });

  it('skips such a line when it is over-long, up to its trailer or the end of the stream', () => {
    const long = `2026-${'x'.repeat(100)}`;
    for (const chunks of cuts(`${octet('<13>a')}${long}\n${octet('<13>b')}${long}`)) {
      const { rec, lost } = decode(chunks, 64);
      expect(rec.frames).toEqual(['<13>a', '<13>b']);
      expect(rec.tooLongs).toEqual([
        { offset: 7, length: 105 },
        { offset: 120, length: 105 },
      ]);
      expect(lost).toBe(0);
    }
  });

  it('reads a non-digit where a count should be as a line, and a frame cut inside its count is still lost', () => {
    const x = decode([`${octet('<13>a')}x`]);
    expect(x.rec.frames).toEqual(['<13>a', 'x']);
    expect(x.rec.fallbacks[0]).toMatchObject({ offset: 7, reason: 'lf_fallback' });
    const { rec, lost } = decode([`${octet('<13>a')}123`]);
    expect(rec.frames).toEqual(['<13>a']);
    expect(rec.fallbacks).toEqual([]);
    expect(lost).toBe(3);
  });
});
