/**
 * RFC 6587 framing of a syslog byte stream (TCP, and TLS after RFC 5425), one decoder per
 * connection. The framing is detected from the connection's first byte: a digit means
 * octet-counting (`MSG-LEN SP MSG`), anything else non-transparent framing (messages ended by
 * LF; CR LF and NUL are accepted as trailers too).
 *
 * A frame that does not start with a valid octet count (digits not followed by SP, as in a line
 * without PRI that starts with a timestamp; a count of 0; after octet-counted frames, a frame that
 * does not start with a digit at all) is read as a line (LF framing) from its first byte, and the
 * connection goes on (the sink's `fallback` is told). rsyslog's imtcp decides the framing per
 * frame the same way, so a sender that mixes framings, or a count that was wrong, loses at most a
 * frame, never the connection. On the connection's first frame the detection itself was wrong:
 * the connection is non-transparent from then on. After octet-counted frames, only that frame is
 * a line, ended by a trailer or by the next frame start (`LEN SP <PRI>`, confirmed by the frame
 * after it: octet-counted streams have no newlines); the next one is octet-counted again. A count
 * is not believed when the chunk shows that it does not end at a frame boundary while a confirmed
 * frame start lies before its end: the digits a short count left unread (`... port 22`) would
 * otherwise join the next count (`46` read as `2246`) and swallow dozens of frames.
 *
 * The decoder works on bytes and never buffers more than one frame: a frame that lies inside one
 * chunk is handed over as a slice of that chunk; only a frame split across chunks is joined.
 */

export type FramingMode = 'unknown' | 'octet-counting' | 'non-transparent';

/** Where a decoder delivers what it finds. Implemented once per connection (no per-frame closures). */
export interface FrameSink {
  /** One complete message: bytes [start, end) of `buf`, trailer removed. */
  frame(buf: Buffer, start: number, end: number): void;
  /**
   * A frame longer than the maximum was skipped. `offset` is where it starts in the connection
   * (its length field for octet-counting), `length` its size in bytes (for a line: the bytes seen
   * when it was found too long, a lower bound).
   */
  tooLong(offset: number, length: number): void;
  /**
   * A frame did not start with a valid octet count: it is read as a line from its first byte
   * (digits included) and delivered (or found too long) as usual, after this call. The connection
   * goes on. Optional; the decoder works without it.
   */
  fallback?(fallback: FramingFallback): void;
  /** An octet-counted frame held nothing once its trailer was removed (`1 \n`). Optional. */
  empty?(): void;
}

/** A frame that looked octet-counted and was read as a line instead (see `FrameSink.fallback`). */
export interface FramingFallback {
  /** Machine-readable: `lf_fallback`. */
  readonly reason: 'lf_fallback';
  /** Byte offset in the connection where the frame starts. */
  readonly offset: number;
  /** Byte offset in the connection of the byte that showed it was no octet count. */
  readonly at: number;
  /**
   * The connection's framing from now on: `non-transparent` when it was its first frame (the
   * framing was detected wrongly), `octet-counting` when octet-counted frames came before (the
   * next frame is octet-counted again).
   */
  readonly mode: FramingMode;
  readonly message: string;
}

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const SP = 0x20;
const ZERO = 0x30;
const NINE = 0x39;
const LT = 0x3c;
const GT = 0x3e;
/** MSG-LEN digits accepted: up to 999,999,999 bytes; more cannot be meant and marks garbage. */
const MAX_LEN_DIGITS = 9;

// Octet-counting states.
const LEN = 0;
const BODY = 1;
const SKIP = 2;

function isTrailer(b: number): boolean {
  return b === LF || b === CR || b === NUL;
}

function showByte(b: number): string {
  const hex = `0x${b.toString(16).padStart(2, '0')}`;
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}' (${hex})` : hex;
}

export class FrameDecoder {
  mode: FramingMode = 'unknown';
  /** Bytes of the connection consumed before the current chunk. */
  private base = 0;

  // Octet-counting.
  private state = LEN;
  private len = 0;
  private lenDigits = 0;
  /** Connection offset of the current frame's length field. */
  private frameOffset = 0;
  private remaining = 0;
  /** An octet count followed by SP has been seen: the connection really is octet-counted. */
  private counted = false;
  /** Octet-counting connection: the current frame is read as a line (see `FrameSink.fallback`). */
  private lineFrame = false;

  // A frame (or line) split across chunks.
  private parts: Buffer[] = [];
  private partsLen = 0;
  /** Non-transparent: inside an over-long line, discarding up to the next trailer. */
  private skipping = false;
  private skipped = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly sink: FrameSink,
  ) {}

  /** Bytes consumed so far. */
  get offset(): number {
    return this.base;
  }

  /** True while a frame has started and not ended (bytes would be lost if the stream ended now). */
  get midFrame(): boolean {
    if (this.mode === 'octet-counting' && !this.lineFrame) return this.state !== LEN || this.lenDigits > 0;
    return this.partsLen > 0 || this.skipping;
  }

  /** Decodes one chunk. */
  push(chunk: Buffer): void {
    let i = 0;
    const len = chunk.length;
    if (this.mode === 'unknown') {
      // Stray trailers before the first message say nothing about the framing.
      while (i < len && isTrailer(chunk[i]!)) i++;
      if (i === len) {
        this.base += len;
        return;
      }
      const b = chunk[i]!;
      this.mode = b >= ZERO && b <= NINE ? 'octet-counting' : 'non-transparent';
    }
    while (i < len) {
      i = this.mode === 'octet-counting' && !this.lineFrame ? this.octets(chunk, i) : this.lines(chunk, i);
    }
    this.base += len;
  }

  /**
   * The stream ended. The end of the stream ends a line as a trailer would: a last line without a
   * trailer is delivered, or reported too long (`tooLong`) when it is longer than the maximum.
   * Returns the bytes of an unfinished octet-counted frame that are lost (0 when the stream ended
   * between frames).
   */
  finish(): number {
    let lost = 0;
    if (this.mode === 'octet-counting' && !this.lineFrame) {
      if (this.state === BODY) lost = this.len - this.remaining;
      else if (this.state === LEN && this.lenDigits > 0) lost = this.lenDigits;
    } else if (this.skipping) {
      this.sink.tooLong(this.frameOffset, this.skipped);
    } else if (this.partsLen > 0) {
      const joined = Buffer.concat(this.parts, this.partsLen);
      let end = joined.length;
      if (end > 0 && joined[end - 1] === CR) end--;
      // Up to max + 1 bytes are held (room for a CR): without the CR, one byte too many.
      if (end > this.maxBytes) this.sink.tooLong(this.frameOffset, end);
      else if (end > 0) this.sink.frame(joined, 0, end);
    }
    this.parts = [];
    this.partsLen = 0;
    this.state = LEN;
    this.len = 0;
    this.lenDigits = 0;
    this.skipping = false;
    this.skipped = 0;
    this.lineFrame = false;
    return lost;
  }

  /** Octet-counted frames from `i`; returns where to go on (the chunk's length, or where a frame read as a line starts). */
  private octets(chunk: Buffer, i: number): number {
    const len = chunk.length;
    const max = this.maxBytes;
    while (i < len) {
      if (this.state === LEN) {
        const b = chunk[i]!;
        if (b >= ZERO && b <= NINE) {
          if (this.lenDigits === 0) this.frameOffset = this.base + i;
          // No octet count is that long (a frame of a gigabyte and more): a line that starts with
          // a number, such as an epoch in milliseconds, read as a line like other digits without SP.
          if (this.lenDigits === MAX_LEN_DIGITS) {
            return this.toLine(i, `${this.digits()}... at byte ${this.frameOffset} has more than ${MAX_LEN_DIGITS} digits: not an octet count`);
          }
          this.lenDigits++;
          this.len = this.len * 10 + (b - ZERO);
          i++;
          continue;
        }
        if (this.lenDigits === 0) {
          // Tolerated between frames: senders that end each frame with a newline anyway.
          if (isTrailer(b)) {
            i++;
            continue;
          }
          // Not even a digit (only after octet-counted frames: the first byte chose the framing):
          // this sender mixes framings, or the last count was wrong. rsyslog reads it as a line too.
          this.frameOffset = this.base + i;
          return this.toLine(i, `${showByte(b)} at byte ${this.frameOffset} where an octet count should start: no octet count`);
        }
        if (b !== SP) return this.toLine(i, `${this.digits()} at byte ${this.frameOffset} is followed by ${showByte(b)}, not a space: not an octet count`);
        if (this.len === 0) return this.toLine(i, `octet count ${this.digits()} at byte ${this.frameOffset} is 0: no frame is empty`);
        // A count whose end is in sight and is no frame start, while a frame start that the frame
        // after it confirms lies before that end, is wrong: end the frame there (see `recount`).
        const start = this.frameOffset - this.base;
        const declaredEnd = i + 1 + this.len;
        if (start >= 0 && declaredEnd < len && !mayStartFrame(chunk, declaredEnd)) {
          const sync = nextFrameStart(chunk, start + 1, declaredEnd);
          if (sync !== -1) {
            i = this.recount(chunk, start, i, sync);
            continue;
          }
        }
        this.counted = true;
        i++;
        this.remaining = this.len;
        this.lenDigits = 0;
        // The count may include a trailer (CR LF) beyond the message, which the maximum does not
        // count, as for a line: deliver() checks the message itself.
        if (this.len > max + 2) {
          this.sink.tooLong(this.frameOffset, this.len);
          this.state = SKIP;
        } else {
          this.state = BODY;
        }
        continue;
      }
      const avail = len - i;
      if (this.state === SKIP) {
        if (avail < this.remaining) {
          this.remaining -= avail;
          return len;
        }
        i += this.remaining;
        this.endFrame();
        continue;
      }
      // BODY
      if (avail < this.remaining) {
        this.parts.push(chunk.subarray(i));
        this.partsLen += avail;
        this.remaining -= avail;
        return len;
      }
      const end = i + this.remaining;
      if (this.partsLen === 0) {
        this.deliver(chunk, i, end);
      } else {
        this.parts.push(chunk.subarray(i, end));
        const joined = Buffer.concat(this.parts, this.partsLen + this.remaining);
        this.parts = [];
        this.partsLen = 0;
        this.deliver(joined, 0, joined.length);
      }
      i = end;
      this.endFrame();
    }
    return len;
  }

  /**
   * The count at chunk[start, sp) (`sp` is its space) runs past a confirmed frame start at `sync`
   * and does not end at one. Sync inside the digits: the count took the last digits of the
   * previous frame, whose count was short (`... port 22` then `46 <13>...` read as 2246), and
   * those digits are read as a line. Sync in the body: the count was too long, and the frame ends
   * at the frame start. Both are told as a fallback; returns `sync`, where octet-counting goes on.
   */
  private recount(chunk: Buffer, start: number, sp: number, sync: number): number {
    const digits = this.digits();
    const at = this.base + sync;
    const inDigits = sync < sp;
    this.counted = true;
    this.sink.fallback?.({
      reason: 'lf_fallback',
      offset: this.frameOffset,
      at,
      mode: this.mode,
      message: inDigits
        ? `octet count ${digits} at byte ${this.frameOffset} does not end at a frame start, and a frame starts inside it at byte ${at}: ` +
          `${chunk.toString('latin1', start, sync)} ends the previous frame (its count was short) and is read as a line`
        : `octet count ${digits} at byte ${this.frameOffset} does not end at a frame start, and the next frame starts before that at byte ${at}: ` +
          'the count is too long, and the frame is read as a line up to there',
    });
    if (inDigits) this.sink.frame(chunk, start, sync);
    else this.deliver(chunk, sp + 1, sync);
    this.endFrame();
    return sync;
  }

  /** The digits of the count being read (at most 9, so `len` holds them exactly). */
  private digits(): string {
    return this.lenDigits === 0 ? '' : String(this.len).padStart(this.lenDigits, '0');
  }

  /**
   * The frame being read starts with no valid octet count (the byte at `at` of the
   * chunk showed it; `why` says how): it becomes a line from its first byte; returns where `lines`
   * goes on in the chunk.
   */
  private toLine(at: number, why: string): number {
    const digits = this.digits();
    const afterOctets = this.counted;
    this.mode = afterOctets ? 'octet-counting' : 'non-transparent';
    this.lineFrame = afterOctets;
    this.sink.fallback?.({
      reason: 'lf_fallback',
      offset: this.frameOffset,
      at: this.base + at,
      mode: this.mode,
      message: `${why}; the frame is read as a line (LF framing)${afterOctets ? '' : ', and so is the rest of the connection'}`,
    });
    // The line starts with the digits: those of this chunk are read again, those of earlier chunks
    // (all digits, so rebuilt from the count) start the line's parts.
    const start = this.frameOffset - this.base;
    this.endFrame();
    if (start >= 0) return start;
    const before = Buffer.from(digits.slice(0, -start), 'latin1');
    this.parts = [before];
    this.partsLen = before.length;
    return 0;
  }

  private endFrame(): void {
    this.state = LEN;
    this.len = 0;
    this.lenDigits = 0;
    this.remaining = 0;
  }

  /** An octet-counted frame: one trailing LF, CR LF or NUL inside the count is removed too. */
  private deliver(buf: Buffer, start: number, end: number): void {
    if (end > start) {
      const last = buf[end - 1]!;
      if (last === NUL) end--;
      else if (last === LF) {
        end--;
        if (end > start && buf[end - 1] === CR) end--;
      }
    }
    if (end - start > this.maxBytes) this.sink.tooLong(this.frameOffset, end - start);
    else if (end > start) this.sink.frame(buf, start, end);
    else this.sink.empty?.();
  }

  /**
   * Lines from `i`; returns where to go on: the chunk's length, or, for a frame of an
   * octet-counting connection read as a line, the byte after its trailer.
   */
  private lines(chunk: Buffer, i: number): number {
    const len = chunk.length;
    const max = this.maxBytes;
    // Next LF and next NUL at or after i; -1 when none (searched once per chunk, not per line).
    let lf = chunk.indexOf(LF, i);
    let nul = chunk.indexOf(NUL, i);
    while (i < len) {
      if (lf !== -1 && lf < i) lf = chunk.indexOf(LF, i);
      if (nul !== -1 && nul < i) nul = chunk.indexOf(NUL, i);
      const stop = lf === -1 ? nul : nul === -1 ? lf : Math.min(lf, nul);
      if (this.lineFrame) {
        // An octet-counted stream has no trailers to end the line: after a wrong count, the next
        // frame that starts like one (`LEN SP <PRI>`) ends it, so that one bad count costs a frame.
        const sync = nextFrameStart(chunk, this.partsLen > 0 ? i : i + 1, stop === -1 ? len : stop);
        if (sync !== -1) return this.endLineFrame(chunk, i, sync);
      }
      if (stop === -1) {
        // No trailer in the rest of the chunk: an unfinished line.
        const avail = len - i;
        if (this.skipping) this.skipped += avail;
        else if (this.partsLen + avail > max + 1) {
          // (+1: the line may still end with CR LF, and the CR does not count.)
          this.skipping = true;
          this.skipped = this.partsLen + avail;
          this.frameOffset = this.partsLen > 0 ? this.frameOffset : this.base + i;
          this.parts = [];
          this.partsLen = 0;
        } else {
          if (this.partsLen === 0) this.frameOffset = this.base + i;
          this.parts.push(chunk.subarray(i));
          this.partsLen += avail;
        }
        return len;
      }
      if (this.skipping) {
        this.skipping = false;
        this.sink.tooLong(this.frameOffset, this.skipped + (stop - i));
      } else if (this.partsLen > 0) {
        const total = this.partsLen + (stop - i);
        let end = total;
        this.parts.push(chunk.subarray(i, stop));
        const joined = Buffer.concat(this.parts, total);
        this.parts = [];
        this.partsLen = 0;
        if (end > 0 && joined[end - 1] === CR) end--;
        if (end > max) this.sink.tooLong(this.frameOffset, end);
        else if (end > 0) this.sink.frame(joined, 0, end);
      } else {
        let end = stop;
        if (end > i && chunk[end - 1] === CR) end--;
        if (end - i > max) this.sink.tooLong(this.base + i, end - i);
        else if (end > i) this.sink.frame(chunk, i, end);
      }
      i = stop + 1;
      if (this.lineFrame) {
        this.lineFrame = false;
        return i;
      }
    }
    return len;
  }

  /** Ends the line an octet-counting connection fell back to at `end`, where a frame starts; returns `end`. */
  private endLineFrame(chunk: Buffer, i: number, end: number): number {
    if (this.skipping) {
      this.skipping = false;
      this.sink.tooLong(this.frameOffset, this.skipped + (end - i));
    } else {
      const joined = this.partsLen > 0 ? Buffer.concat([...this.parts, chunk.subarray(i, end)]) : chunk.subarray(i, end);
      if (this.partsLen === 0) this.frameOffset = this.base + i;
      this.parts = [];
      this.partsLen = 0;
      if (joined.length > this.maxBytes) this.sink.tooLong(this.frameOffset, joined.length);
      else if (joined.length > 0) this.sink.frame(joined, 0, joined.length);
    }
    this.lineFrame = false;
    return end;
  }
}

/**
 * Where in chunk[from, end) the next octet-counted frame starts, or -1: a count (1 to 9 digits, no
 * leading 0), a space and a PRI (`<` 1 to 3 digits `>`), whose frame is followed, inside the chunk,
 * by another such start (a trailer between them allowed). The count's digits may follow digits
 * of the junk before it ("... port 22" then "46 <13>..."): each split is tried, and only the one
 * the next frame confirms is taken. A start the chunk cannot confirm (split between chunks, or the
 * chunk's last frame) is passed over: the next one is found.
 */
function nextFrameStart(chunk: Buffer, from: number, end: number): number {
  for (let lt = chunk.indexOf(LT, from + 2); lt !== -1 && lt < end + MAX_LEN_DIGITS + 2; lt = chunk.indexOf(LT, lt + 1)) {
    if (chunk[lt - 1] !== SP || !isPri(chunk, lt)) continue;
    let count = 0;
    let scale = 1;
    for (let d = lt - 2; d >= from && d > lt - 2 - MAX_LEN_DIGITS && isDigit(chunk[d]!); d--) {
      count += (chunk[d]! - ZERO) * scale;
      scale *= 10;
      if (chunk[d] === ZERO || d >= end) continue;
      if (frameStartsAt(chunk, lt + count) || (isTrailer(chunk[lt + count] ?? -1) && frameStartsAt(chunk, lt + count + 1))) return d;
    }
  }
  return -1;
}

/**
 * Whether the end of a frame at `p` can be a frame boundary: trailers and then a count and a
 * space (`LEN SP`: no PRI is asked for, so that a count is doubted only when what follows it is
 * plainly no frame), or the chunk ends before that is known.
 */
function mayStartFrame(chunk: Buffer, p: number): boolean {
  const len = chunk.length;
  for (let k = 0; k < 2 && p < len && isTrailer(chunk[p]!); k++) p++;
  if (p >= len) return true;
  if (chunk[p] === ZERO || !isDigit(chunk[p]!)) return false;
  let q = p + 1;
  while (q < len && q - p < MAX_LEN_DIGITS && isDigit(chunk[q]!)) q++;
  return q >= len || chunk[q] === SP;
}

/** Whether a frame (`LEN SP <PRI>`) starts exactly at `p`, all of it inside the chunk. */
function frameStartsAt(chunk: Buffer, p: number): boolean {
  if (p >= chunk.length || chunk[p] === ZERO) return false;
  let q = p;
  while (q < chunk.length && q - p < MAX_LEN_DIGITS && isDigit(chunk[q]!)) q++;
  return q > p && chunk[q] === SP && chunk[q + 1] === LT && isPri(chunk, q + 1);
}

/** Whether a PRI (`<` 1 to 3 digits `>`) starts at `lt`, inside the chunk. */
function isPri(chunk: Buffer, lt: number): boolean {
  let p = lt + 1;
  while (p < chunk.length && p <= lt + 3 && isDigit(chunk[p]!)) p++;
  return p > lt + 1 && chunk[p] === GT;
}

function isDigit(b: number): boolean {
  return b >= ZERO && b <= NINE;
}
