import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { readSync } from 'node:fs';
import { lstat, open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Spout, SpoutCollector, SpoutContext, SpoutStatus } from '@qitian/api';
import { describeSystemError, FileAccessError } from '../../errors.js';
import { CheckpointThrottle } from '../../internal/checkpoint.js';
import type { FileSpoutConfig } from './spec.js';

/** What the file spout saves as its checkpoint. */
export interface FileCheckpoint {
  /** Byte offset in the file (in the decompressed data for gzip) of the first line not yet acked. */
  readonly offset: number;
  /** Inode of the file the offset belongs to; a different inode at the path means the file was replaced. */
  readonly inode: number;
  /**
   * How many of the file's first bytes `headHash` covers (up to 256), and their SHA-256 (base64url):
   * the same inode with other first bytes means the file was rewritten in place (copytruncate).
   * Absent in checkpoints of older versions: then only the inode and size are checked.
   */
  readonly headBytes?: number;
  readonly headHash?: string;
  /** Line number (1-based) at `offset`, saved with `position: true` when known. */
  readonly line?: number;
  /**
   * Without follow: the last `partialBytes` bytes before `offset` are a last line emitted without its
   * newline. A resume that finds the line continued reads it again whole, from `offset - partialBytes`.
   */
  readonly partialBytes?: number;
  /**
   * Bytes of the file known to exist when the checkpoint was saved (read, or the whole of an older
   * file), and the SHA-256 of the `tailBytes` (up to 256) just before `offset`: they tell which copy
   * beside the file holds the checkpoint's position after a copytruncate. Absent in older checkpoints.
   */
  readonly size?: number;
  readonly tailBytes?: number;
  readonly tailHash?: string;
}

/** The fields of the default stream with `position: true`. */
export const FILE_POSITION_FIELDS = ['line', 'file', 'lineNumber', 'offset'] as const;

export interface FileSpoutOptions {
  /** Read-ahead bound: reading pauses while this many lines wait to be emitted. */
  readonly maxBufferedLines?: number;
  /** Bytes per read. */
  readonly chunkBytes?: number;
}

const NEWLINE = 10;
const CR = 13;
const DEFAULT_MAX_BUFFERED = 10_000;
const DEFAULT_CHUNK = 64 * 1024;
/** Bytes of a file's beginning kept as its fingerprint: enough to tell log lines apart, one small pread to check. */
const HEAD_BYTES = 256;
/** Files of the followed file's folder looked at for the one a checkpoint names after a rotation. */
const MAX_ROTATED_SEARCH = 10_000;
/** A line number not known: reading started inside the file with nothing saying which line that was. */
const UNKNOWN_LINE = -1;

/**
 * A run of the file at one path. Message ids are `base + offset in the file`: `base` is the
 * sum of the sizes read from earlier files (after a rotation or truncation), so ids keep growing
 * and stay unique while lines of an old file are still pending. Without rotation base is 0
 * and ids are plain byte offsets.
 */
interface Generation {
  readonly base: number;
  readonly inode: number;
  /** The file's fingerprint, set once a later file is being read (the current one's still grows). */
  fingerprint?: Fingerprint;
}

/** A fingerprint of a file's first bytes, as checkpoints carry it. */
interface Fingerprint {
  readonly bytes: number;
  readonly hash: string;
}

function hashPrefix(buf: Buffer, bytes: number): string {
  return createHash('sha256').update(buf.subarray(0, bytes)).digest('base64url');
}

/**
 * Is `name` one that rotating `base` gives: `base.1`, `base.0` (newsyslog), `base-20261203`
 * (logrotate dateext), `base.1.gz`...?
 */
function isRotatedName(name: string, base: string): boolean {
  return name.length > base.length + 1 && name.startsWith(base) && '.-_'.includes(name[base.length]!);
}

/** Does the open file start with the bytes the checkpoint fingerprinted, and hold the same bytes before its offset? */
async function holdsCheckpoint(handle: FileHandle, c: FileCheckpoint): Promise<boolean> {
  const at = async (bytes: number, position: number, hash: string | undefined): Promise<boolean> => {
    if (hash === undefined) return true;
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, position).catch(() => ({ bytesRead: -1 }));
    return bytesRead === bytes && hashPrefix(buf, bytes) === hash;
  };
  return (await at(c.headBytes ?? 0, 0, c.headHash)) && (await at(c.tailBytes ?? 0, c.offset - (c.tailBytes ?? 0), c.tailHash));
}

/**
 * Where a rotated name puts its file among the others: a higher rank is newer. `app.log.1`,
 * `app.log.2.gz` count rotations (higher is older); `app.log-20261203`, `app.log-2026-12-03` are
 * dated (higher is newer). Undefined when the name says neither.
 */
function rotationRank(name: string, base: string): { dated: boolean; rank: number } | undefined {
  const suffix = name.slice(base.length).replace(/\.(gz|bz2|xz|zst|Z)$/, '');
  if (!/^[.\-_][\d.\-_]*\d$/.test(suffix)) return undefined;
  const digits = suffix.replace(/\D/g, '');
  if (suffix[0] === '.' && /^\.\d{1,5}$/.test(suffix)) return { dated: false, rank: -Number(digits) };
  return { dated: true, rank: Number(digits.slice(0, 15)) };
}

/** Is `err` "no such file or directory"? */
function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}

function isCheckpoint(v: unknown): v is FileCheckpoint {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  const head =
    (c.headBytes === undefined && c.headHash === undefined) ||
    (typeof c.headBytes === 'number' && Number.isInteger(c.headBytes) && c.headBytes >= 0 && typeof c.headHash === 'string');
  const line = c.line === undefined || (typeof c.line === 'number' && Number.isInteger(c.line) && c.line >= 1);
  const offset = typeof c.offset === 'number' && Number.isInteger(c.offset) && c.offset >= 0;
  const size = c.size === undefined || (typeof c.size === 'number' && Number.isInteger(c.size) && c.size >= 0);
  const tail =
    (c.tailBytes === undefined && c.tailHash === undefined) ||
    (typeof c.tailBytes === 'number' &&
      Number.isInteger(c.tailBytes) &&
      c.tailBytes > 0 &&
      offset &&
      c.tailBytes <= (c.offset as number) &&
      typeof c.tailHash === 'string');
  const partial =
    c.partialBytes === undefined ||
    (typeof c.partialBytes === 'number' && Number.isInteger(c.partialBytes) && c.partialBytes > 0 && offset && c.partialBytes <= (c.offset as number));
  return offset && typeof c.inode === 'number' && head && line && partial && size && tail;
}

/**
 * Lines of a file (plain or gzip), optionally followed like `tail -F`. An async reader fills a
 * bounded buffer of lines; `next` emits from it without waiting for I/O.
 */
export class FileSpout implements Spout<FileSpoutConfig> {
  private ctx!: SpoutContext<FileSpoutConfig>;
  private collector!: SpoutCollector;
  private reliable = false;
  private readonly maxBuffered: number;
  private readonly chunkBytes: number;
  private readonly enc: BufferEncoding;
  /** `position: true`: lines are numbered and emitted with their file, line number and offset. */
  private readonly withPosition: boolean;

  // The file being read.
  private handle: FileHandle | undefined;
  private gzip = false;
  private gunzip: Readable | undefined;
  private generations: Generation[] = [];
  private base = 0;
  private inode = 0;
  /** Next byte to read from the plain file, relative to the file. */
  private position = 0;
  /**
   * The file's first bytes (up to HEAD_BYTES) as read. A file truncated and written again before
   * the next poll need not look shorter than `position`, but no longer starts with them.
   */
  private readonly prefix = Buffer.alloc(HEAD_BYTES);
  private prefixLen = 0;
  private prefixPrint: Fingerprint | undefined;
  private probe: Buffer | undefined;
  /** Size, mtime and ctime at the last poll: the prefix is read again only when they change. */
  private seenSize = -1;
  private seenMtime = -1;
  private seenCtime = -1;

  // Line splitting.
  private carry: Buffer[] = [];
  private carryLen = 0;
  private carryId = 0;
  /** Inside a line longer than maxLineBytes: discard up to the next newline. */
  private skipping = false;
  private droppedLong = 0;
  private warnedLong = false;
  /** With encoding utf8: the chunk being split is not all valid UTF-8, so its lines are checked one by one. */
  private checkChunk = false;
  private invalidUtf8 = 0;
  private warnedUtf8 = false;
  /** Id just past the last complete (or dropped) line. */
  private consumed = 0;
  /** Without follow: id of the last line, emitted at the end of the file without its newline (it ends at `consumed`); else -1. */
  private partialFrom = -1;
  /** With `position`: the number of the next line of the file being read; UNKNOWN_LINE when reading started elsewhere. */
  private lineNo = 1;

  // Read-ahead buffer: parallel arrays, emitted from `head`.
  private lines: string[] = [];
  private ids: number[] = [];
  /** With `position` only: each buffered line's number and offset in its file. */
  private lineNos: number[] = [];
  private offsets: number[] = [];
  private head = 0;
  private eof = false;
  private closed = false;
  private waiting = false;
  private roomWaiter: (() => void) | undefined;
  private sleepTimer: ReturnType<typeof setTimeout> | undefined;
  private sleepDone: (() => void) | undefined;
  private pump: Promise<void> | undefined;

  // Reliability.
  /** Emitted lines not yet acked, id -> text; insertion order is id order. */
  private readonly pending = new Map<number, string>();
  /** With `position` only: line numbers of the pending lines, for replays and checkpoints. */
  private readonly pendingLineNos = new Map<number, number>();
  private replay: number[] = [];
  private replayHead = 0;
  private checkpoints: CheckpointThrottle | undefined;
  private savedOffset = -1;
  private savedInode = -1;
  private savedHash = '';
  private tailBuf: Buffer | undefined;
  /**
   * Resumed in a file beside the path (rotated, or a copy made before a truncation): without follow
   * too, the file at the path is read after it, from its start.
   */
  private chasing = false;

  constructor(
    private readonly config: FileSpoutConfig,
    options: FileSpoutOptions = {},
  ) {
    this.maxBuffered = Math.max(1, options.maxBufferedLines ?? DEFAULT_MAX_BUFFERED);
    this.chunkBytes = Math.max(16, options.chunkBytes ?? DEFAULT_CHUNK);
    this.enc = config.encoding as BufferEncoding;
    this.withPosition = config.position;
  }

  /** Lines read ahead and not yet emitted. */
  get bufferedLines(): number {
    return this.lines.length - this.head;
  }

  /** Lines emitted and not yet acked (reliable mode). */
  get pendingLines(): number {
    return this.pending.size;
  }

  async open(context: SpoutContext<FileSpoutConfig>, collector: SpoutCollector): Promise<void> {
    this.ctx = context;
    this.collector = collector;
    this.reliable = context.reliable;
    const path = this.config.path;
    this.checkpoints = new CheckpointThrottle(() => this.saveCheckpoint());

    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      // Like `tail -F`, a followed file that is not there yet is waited for; any other error fails.
      if (this.config.follow && isMissing(err)) {
        context.logger.warn('file spout: the file does not exist yet; waiting for it to appear', {
          path,
          pollInterval: this.config.pollInterval,
        });
        this.pump = this.awaitFile();
        return;
      }
      throw new FileAccessError(path, 'open', `file spout: cannot open "${path}": ${describeSystemError(err)}`, { cause: err });
    }
    let size = await this.attach(handle);
    const restored = context.restoredCheckpoint;
    // Rotated since the checkpoint (while the run was down, or with lines read but not yet acked):
    // the old file is read on from the checkpoint first, then the new one, as a rotation during the
    // run is. Truncated or rewritten since (copytruncate): the copy made of it first. Reading only
    // the file at the path lost the old file's rest.
    let resumeBeside = false;
    if (!this.gzip && isCheckpoint(restored)) {
      const rotated = restored.inode !== this.inode;
      const truncated = !rotated && restored.offset > 0 && (restored.offset > size || !this.samePrefix(restored));
      const old = rotated ? await this.rotatedFile(restored) : truncated ? await this.copiedFile(restored) : undefined;
      if (old !== undefined) {
        await handle.close().catch(() => undefined);
        this.generations = [];
        size = await this.attach(old.handle);
        resumeBeside = true;
        this.chasing = true;
        context.logger.info(
          rotated
            ? 'file spout: the file was rotated since the checkpoint; reading the rest of the old one first'
            : 'file spout: the file was truncated since the checkpoint after being copied beside it (copytruncate); reading the rest of the copy first',
          { path, old: old.path, offset: restored.offset },
        );
      }
    }

    // Where to start: a checkpoint of this same file wins over startAt.
    let start = 0;
    if (restored !== undefined && restored !== null) {
      if (!isCheckpoint(restored)) {
        context.logger.warn('file spout: ignoring a checkpoint it does not understand', { path, checkpoint: restored });
      } else if (resumeBeside) {
        start = restored.offset;
        if (start > 0) this.lineNo = restored.line ?? UNKNOWN_LINE;
        if (restored.partialBytes !== undefined && size > start) start = await this.afterPartial(restored, start);
      } else if (restored.inode !== this.inode) {
        context.logger.warn(
          'file spout: the file was replaced since the checkpoint and the old one is not beside it any more (compressed, deleted); ' +
            'reading the new one from the start: lines of the old one after the checkpoint are lost',
          { path, checkpointInode: restored.inode, inode: this.inode, offset: restored.offset },
        );
      } else if (!this.gzip && restored.offset > size) {
        this.warnLost(restored, 'the file is shorter than the checkpoint (truncated)', size);
      } else if (!this.samePrefix(restored)) {
        this.warnLost(restored, 'the file was rewritten since the checkpoint (its first bytes differ: truncated and written again)', size);
      } else {
        start = restored.offset;
        if (start > 0) this.lineNo = restored.line ?? UNKNOWN_LINE;
        if (restored.partialBytes !== undefined && !this.gzip && size > start) start = await this.afterPartial(restored, start);
      }
    } else if (this.config.startAt === 'end') {
      start = this.gzip ? Number.POSITIVE_INFINITY : size;
      if (size > 0) this.lineNo = UNKNOWN_LINE;
    }
    this.pump = this.read(start);
  }

  next(max: number): SpoutStatus {
    const collector = this.collector;
    let n = 0;
    // Replays first, in the order they failed.
    if (this.replayHead < this.replay.length) {
      while (n < max && this.replayHead < this.replay.length) {
        const id = this.replay[this.replayHead++]!;
        const line = this.pending.get(id);
        if (line === undefined) continue; // acked after it failed
        if (this.withPosition) collector.emit(this.positioned(line, this.pendingLineNos.get(id)!, id - this.baseOf(id)), id);
        else collector.emit([line], id);
        n++;
      }
      if (this.replayHead === this.replay.length) {
        this.replay = [];
        this.replayHead = 0;
      }
    }
    const lines = this.lines;
    const ids = this.ids;
    let head = this.head;
    const end = Math.min(lines.length, head + (max - n));
    if (this.withPosition) {
      head = this.emitPositioned(head, end);
    } else if (this.reliable) {
      const pending = this.pending;
      for (; head < end; head++) {
        const line = lines[head]!;
        const id = ids[head]!;
        pending.set(id, line);
        collector.emit([line], id);
      }
    } else {
      for (; head < end; head++) collector.emit([lines[head]!]);
    }
    // Without acking, an emitted line is done: the committed position moves with emission.
    if (!this.reliable && end > this.head) this.checkpoints?.touch();
    n += end - this.head;
    this.head = head;
    const buffered = lines.length - head;
    if (buffered === 0) {
      if (head > 0) {
        this.lines = [];
        this.ids = [];
        if (this.withPosition) {
          this.lineNos = [];
          this.offsets = [];
        }
        this.head = 0;
      }
    } else if (head >= 4096 && head * 2 >= lines.length) {
      lines.splice(0, head);
      ids.splice(0, head);
      if (this.withPosition) {
        this.lineNos.splice(0, head);
        this.offsets.splice(0, head);
      }
      this.head = 0;
    }
    if (this.roomWaiter !== undefined && buffered <= this.maxBuffered >>> 1) {
      const resume = this.roomWaiter;
      this.roomWaiter = undefined;
      resume();
    }
    if (buffered > 0 || this.replayHead < this.replay.length) return 'more';
    if (this.eof) return 'end';
    this.waiting = true;
    return 'idle';
  }

  ack(messageId: unknown): void {
    if (this.pending.delete(messageId as number)) {
      if (this.withPosition) this.pendingLineNos.delete(messageId as number);
      this.checkpoints?.touch();
    }
  }

  fail(messageId: unknown): void {
    const id = messageId as number;
    if (!this.pending.has(id)) return;
    this.replay.push(id);
    this.notify();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.roomWaiter?.();
    this.roomWaiter = undefined;
    if (this.sleepTimer !== undefined) clearTimeout(this.sleepTimer);
    this.sleepDone?.();
    this.gunzip?.destroy();
    await this.pump;
    this.checkpoints?.close();
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }

  /**
   * Takes `handle` as the file being read: checks it is a regular file and reads its inode and
   * first bytes (gzip magic, fingerprint). Closes it and throws a FileAccessError when it cannot.
   * Returns the file's size.
   */
  private async attach(handle: FileHandle): Promise<number> {
    const path = this.config.path;
    let size: number;
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: st.isDirectory() ? 'EISDIR' : 'EINVAL' });
      this.inode = st.ino;
      size = st.size;
      this.seen(st);
      const { bytesRead } = await handle.read(this.prefix, 0, HEAD_BYTES, 0);
      this.prefixLen = bytesRead;
      this.gzip = bytesRead >= 2 && this.prefix[0] === 0x1f && this.prefix[1] === 0x8b;
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw new FileAccessError(path, 'open', `file spout: cannot read "${path}": ${describeSystemError(err)}`, { cause: err });
    }
    this.handle = handle;
    this.generations.push({ base: 0, inode: this.inode });
    return size;
  }

  /**
   * The file a checkpoint names, found by its inode in the path's folder (where rotation moves it:
   * `app.log.1`, `app.log-20261203`), open, when it still holds the checkpoint's position and starts
   * with the bytes it fingerprinted; else undefined.
   */
  private async rotatedFile(c: FileCheckpoint): Promise<{ handle: FileHandle; path: string } | undefined> {
    const folder = dirname(this.config.path);
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      return undefined;
    }
    for (const name of names.slice(0, MAX_ROTATED_SEARCH)) {
      const p = join(folder, name);
      const st = await lstat(p).catch(() => undefined);
      if (st === undefined || !st.isFile() || st.ino !== c.inode || st.size < c.offset) continue;
      const handle = await open(p, 'r').catch(() => undefined);
      if (handle === undefined) return undefined;
      if (await holdsCheckpoint(handle, c)) return { handle, path: p };
      await handle.close().catch(() => undefined);
      return undefined;
    }
    return undefined;
  }

  /**
   * After a truncation since the checkpoint: the copy of the file that logrotate's copytruncate (or
   * newsyslog) left beside it (`app.log.1`, `app.log-20261203`, `app.log.0`), open. It is a file of
   * another inode, at least as long as what the checkpoint saw of the file, with the same first bytes
   * and (when the checkpoint has them) the same bytes before its offset; of several, the one written
   * last. Undefined when there is none, or the checkpoint has no fingerprint to tell it by.
   */
  private async copiedFile(c: FileCheckpoint): Promise<{ handle: FileHandle; path: string } | undefined> {
    if (c.headHash === undefined) return undefined;
    let best: { handle: FileHandle; path: string; mtime: number } | undefined;
    for (const { path: p, st } of await this.rotatedBeside()) {
      if (st.ino === this.inode || st.size < Math.max(c.offset, c.size ?? 0)) continue;
      const handle = await open(p, 'r').catch(() => undefined);
      if (handle === undefined) continue;
      if ((await holdsCheckpoint(handle, c)) && (best === undefined || st.mtimeMs > best.mtime)) {
        await best?.handle.close().catch(() => undefined);
        best = { handle, path: p, mtime: st.mtimeMs };
      } else {
        await handle.close().catch(() => undefined);
      }
    }
    return best === undefined ? undefined : { handle: best.handle, path: best.path };
  }

  /** The regular files beside the path whose names rotating it gives (`app.log.1`, `app.log-20261203`...). */
  private async rotatedBeside(): Promise<{ path: string; name: string; st: Stats }[]> {
    const folder = dirname(this.config.path);
    const base = basename(this.config.path);
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      return [];
    }
    const out: { path: string; name: string; st: Stats }[] = [];
    for (const name of names.slice(0, MAX_ROTATED_SEARCH)) {
      if (!isRotatedName(name, base)) continue;
      const p = join(folder, name);
      const st = await lstat(p).catch(() => undefined);
      if (st?.isFile()) out.push({ path: p, name, st });
    }
    return out;
  }

  /** A checkpoint's file was truncated or rewritten and no copy of it holds the rest: read from the start, and say what may be lost. */
  private warnLost(c: FileCheckpoint, what: string, size: number): void {
    // What was read past the offset before the stop is known; what was written after it is not.
    const read = c.size === undefined ? undefined : c.size - c.offset;
    const lost =
      read === undefined || read <= 0
        ? 'whatever the old file held after it (its size before the truncation is not known)'
        : `at least the ${read} bytes read past it before the stop, and whatever was written after`;
    this.ctx.logger.warn(
      `file spout: ${what}, and no copy of it holding the checkpoint's position was found beside it (as ${this.config.path}.1 or -YYYYMMDD); ` +
        `reading it from the start: lines after byte ${c.offset} of the old file may be lost: ${lost}`,
      { path: this.config.path, offset: c.offset, size, ...(read !== undefined && read > 0 ? { lostBytesAtLeast: read } : {}) },
    );
  }

  /**
   * A checkpoint after a last line emitted without its newline, of a file that has grown since: if
   * the newline came first, the line was whole and reading goes on after it; else the writer was
   * mid-line, and the line is read again whole (emitted twice: in part, then whole) rather than its
   * rest coming as a line of its own.
   */
  private async afterPartial(c: FileCheckpoint, offset: number): Promise<number> {
    const next = Buffer.alloc(2);
    const { bytesRead } = await this.handle!.read(next, 0, 2, offset);
    if (bytesRead >= 1 && next[0] === NEWLINE) return offset + 1;
    if (bytesRead === 2 && next[0] === CR && next[1] === NEWLINE) return offset + 2;
    const from = offset - c.partialBytes!;
    this.ctx.logger.info('file spout: the last line read without its newline was continued since the checkpoint; reading it again whole', {
      path: this.config.path,
      offset: from,
    });
    if (this.lineNo !== UNKNOWN_LINE) this.lineNo--;
    return from;
  }

  /** Reads the attached file from `start` (a byte offset; for gzip, decompressed bytes to skip). */
  private read(start: number): Promise<void> {
    if (this.gzip) {
      if (this.config.follow) this.ctx.logger.info('file spout: a gzip file is read once, not followed', { path: this.config.path });
      this.consumed = Number.isFinite(start) ? start : 0;
      return this.readGzip(start);
    }
    this.position = start;
    this.consumed = start;
    return this.readPlain();
  }

  /**
   * Follow mode, the file missing at open: polls every pollInterval until it exists, then reads it
   * from its start. It was created after the task started, so all of it is new (startAt: end does
   * not apply), and a restored checkpoint belongs to a file that is gone (the path was missing).
   */
  private async awaitFile(): Promise<void> {
    const path = this.config.path;
    let handle: FileHandle | undefined;
    for (;;) {
      await this.sleep(this.config.pollInterval);
      if (this.closed) return;
      try {
        handle = await open(path, 'r');
        break;
      } catch (err) {
        if (isMissing(err)) continue;
        if (this.closed) return;
        this.openFailed(new FileAccessError(path, 'open', `file spout: cannot open "${path}": ${describeSystemError(err)}`, { cause: err }));
        return;
      }
    }
    if (this.closed) {
      await handle.close().catch(() => undefined);
      return;
    }
    try {
      await this.attach(handle);
    } catch (err) {
      this.openFailed(err);
      return;
    }
    if (this.closed) return; // close() closes the handle
    const restored = this.ctx.restoredCheckpoint;
    if (restored !== undefined && restored !== null) {
      if (!isCheckpoint(restored)) {
        this.ctx.logger.warn('file spout: ignoring a checkpoint it does not understand', { path, checkpoint: restored });
      } else {
        this.ctx.logger.warn('file spout: the file was replaced since the checkpoint (it was missing at start); reading it from the start', {
          path,
          checkpointInode: restored.inode,
          inode: this.inode,
        });
      }
    }
    this.ctx.logger.info('file spout: the file appeared; reading it from its start', { path, inode: this.inode });
    await this.read(0);
  }

  /** The file appeared but cannot be read (not a regular file, permissions): the task's input ends there. */
  private openFailed(error: unknown): void {
    if (this.closed) return;
    this.collector.inputFailed(error);
    this.eof = true;
    this.notify();
  }

  /** Emits buffered lines [head, end) with their positions; returns end. */
  private emitPositioned(head: number, end: number): number {
    const collector = this.collector;
    const { lines, ids, lineNos, offsets } = this;
    for (; head < end; head++) {
      const id = ids[head]!;
      const line = lines[head]!;
      if (this.reliable) {
        this.pending.set(id, line);
        this.pendingLineNos.set(id, lineNos[head]!);
        collector.emit(this.positioned(line, lineNos[head]!, offsets[head]!), id);
      } else {
        collector.emit(this.positioned(line, lineNos[head]!, offsets[head]!));
      }
    }
    return end;
  }

  /** The values of a line with `position: true` (FILE_POSITION_FIELDS). */
  private positioned(line: string, lineNo: number, offset: number): unknown[] {
    return [line, this.config.path, lineNo === UNKNOWN_LINE ? null : lineNo, offset];
  }

  /** The base id of the file (generation) that id `id` belongs to. */
  private baseOf(id: number): number {
    const gens = this.generations;
    let g = gens.length - 1;
    while (g > 0 && gens[g]!.base > id) g--;
    return gens[g]!.base;
  }

  // --- checkpoint ----------------------------------------------------------------------------

  /** The id before which every line has been acked (or dropped). */
  private committedId(): number {
    if (this.reliable) for (const id of this.pending.keys()) return id;
    if (this.head < this.lines.length) return this.ids[this.head]!;
    return this.consumed;
  }

  private saveCheckpoint(): void {
    // No file yet (follow mode, waiting for it to appear): nothing read, nothing to save.
    if (this.generations.length === 0) return;
    const id = this.committedId();
    const gens = this.generations;
    let g = gens.length - 1;
    while (g > 0 && gens[g]!.base > id) g--;
    if (g > 0) this.generations = gens.slice(g); // older files have nothing pending any more
    const gen = gens[g]!;
    const offset = id - gen.base;
    const print = gen.fingerprint ?? this.currentFingerprint();
    if (offset === this.savedOffset && gen.inode === this.savedInode && print.hash === this.savedHash) return;
    this.savedOffset = offset;
    this.savedInode = gen.inode;
    this.savedHash = print.hash;
    const checkpoint: FileCheckpoint = { offset, inode: gen.inode, headBytes: print.bytes, headHash: print.hash, ...this.extent(gens, g, offset) };
    const line = this.withPosition ? this.committedLine(id) : UNKNOWN_LINE;
    // Everything emitted is done, the last line without its newline: a resume must not split it.
    const partial = this.partialFrom >= 0 && id === this.consumed ? id - this.partialFrom : 0;
    this.ctx.saveCheckpoint({ ...checkpoint, ...(line === UNKNOWN_LINE ? {} : { line }), ...(partial > 0 ? { partialBytes: partial } : {}) });
  }

  /**
   * What a checkpoint at `offset` of generation `gens[g]` says of the file's extent: the bytes known to be
   * in it and, for the file being read, a hash of those just before the offset (a small pread, done
   * only when the offset moved), by which a copy of the file is recognised after a copytruncate.
   */
  private extent(gens: readonly Generation[], g: number, offset: number): { size?: number; tailBytes?: number; tailHash?: string } {
    if (this.gzip) return {};
    if (g < gens.length - 1) return { size: gens[g + 1]!.base - gens[g]!.base };
    const size = Math.max(this.position, offset);
    const n = Math.min(HEAD_BYTES, offset);
    if (n === 0 || this.handle === undefined) return { size };
    try {
      this.tailBuf ??= Buffer.allocUnsafe(HEAD_BYTES);
      if (readSync(this.handle.fd, this.tailBuf, 0, n, offset - n) !== n) return { size };
    } catch {
      return { size }; // closed while switching files: the next save has it
    }
    return { size, tailBytes: n, tailHash: hashPrefix(this.tailBuf, n) };
  }

  /** The number of the line with id `id` (the committed one), or UNKNOWN_LINE. */
  private committedLine(id: number): number {
    const pendingLine = this.pendingLineNos.get(id);
    if (pendingLine !== undefined) return pendingLine;
    if (this.head < this.lines.length && this.ids[this.head] === id) return this.lineNos[this.head]!;
    return id === this.consumed ? this.lineNo : UNKNOWN_LINE;
  }

  /** The fingerprint of the file being read, hashed again only when it has grown. */
  private currentFingerprint(): Fingerprint {
    const p = this.prefixPrint;
    if (p !== undefined && p.bytes === this.prefixLen) return p;
    const print = { bytes: this.prefixLen, hash: hashPrefix(this.prefix, this.prefixLen) };
    this.prefixPrint = print;
    return print;
  }

  /** Does the file opened still start with the bytes a checkpoint fingerprinted? (True for a checkpoint without one.) */
  private samePrefix(c: FileCheckpoint): boolean {
    if (c.headBytes === undefined || c.headHash === undefined) return true;
    // The file now holds fewer bytes than were read of it: it was truncated, whatever came after.
    if (c.headBytes > this.prefixLen) return false;
    return hashPrefix(this.prefix, c.headBytes) === c.headHash;
  }

  // --- reading -------------------------------------------------------------------------------

  /** Tells the executor that `next` has something to do, when it was told there was nothing. */
  private notify(): void {
    if (this.waiting) {
      this.waiting = false;
      this.ctx.wake();
    }
  }

  private waitForRoom(): Promise<void> {
    return new Promise((resolve) => {
      this.roomWaiter = resolve;
    });
  }

  private sleep(ms: number): Promise<void> {
    // Closed while the caller awaited something else: close() has no timer to cancel any more.
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.sleepDone = resolve;
      this.sleepTimer = setTimeout(() => {
        this.sleepTimer = undefined;
        this.sleepDone = undefined;
        resolve();
      }, ms);
    });
  }

  private readFailed(err: unknown): void {
    if (this.closed) return;
    const path = this.config.path;
    const error = new FileAccessError(path, 'read', `file spout: reading "${path}" failed: ${describeSystemError(err)}`, { cause: err });
    // Counted and logged by the engine (rate-limited), which also marks the run's input as
    // incomplete: counting or logging it here too would say it twice.
    this.collector.inputFailed(error);
    this.eof = true;
    this.notify();
  }

  private async readPlain(): Promise<void> {
    const buf = Buffer.allocUnsafe(this.chunkBytes);
    try {
      while (!this.closed) {
        if (this.lines.length - this.head >= this.maxBuffered) {
          await this.waitForRoom();
          continue;
        }
        const handle = this.handle!;
        const { bytesRead } = await handle.read(buf, 0, buf.length, this.position);
        if (this.closed) return;
        if (bytesRead > 0) {
          if (this.prefixLen < HEAD_BYTES) this.growPrefix(buf, bytesRead);
          const chunkId = this.base + this.position;
          this.position += bytesRead;
          this.consume(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead), chunkId);
          this.notify();
          continue;
        }
        if (!this.config.follow) {
          // Read on in the file that came after this one, as a followed file would.
          if (this.chasing && (await this.nextFile())) continue;
          const partial = this.carryLen > 0 && !this.skipping ? this.carryId : -1;
          this.flushCarry(this.base + this.position);
          this.partialFrom = partial;
          this.eof = true;
          this.notify();
          return;
        }
        // Read on only once a poll has looked at the file: reading first could take bytes a rewritten
        // file holds past the old end for new lines (copytruncate, then appends).
        do await this.sleep(this.config.pollInterval);
        while (!this.closed && !(await this.checkFile()));
      }
    } catch (err) {
      if (!this.closed) this.dropCarry();
      this.readFailed(err);
    }
  }

  /**
   * Without follow, at the end of a file beside the path that a resume started in: switches to the
   * file now at the path (rotation, as checkFile does it). False when there is none to switch to.
   */
  private async nextFile(): Promise<boolean> {
    const st = await stat(this.config.path).catch(() => undefined);
    if (st !== undefined && st.ino !== this.inode && !this.closed) {
      const inode = this.inode;
      await this.checkFile();
      if (this.inode !== inode) return true;
    }
    this.chasing = false;
    return false;
  }

  /** Keeps the bytes just read at `position` that extend the prefix, while it is shorter than HEAD_BYTES. */
  private growPrefix(buf: Buffer, bytesRead: number): void {
    const pos = this.position;
    const len = this.prefixLen;
    if (pos > len || pos + bytesRead <= len) return;
    this.prefixLen += buf.copy(this.prefix, len, len - pos, Math.min(bytesRead, HEAD_BYTES - pos));
  }

  /** Remembers a stat of the file; true when size, mtime or ctime differ from the last one. */
  private seen(st: Stats): boolean {
    const changed = st.size !== this.seenSize || st.mtimeMs !== this.seenMtime || st.ctimeMs !== this.seenCtime;
    this.seenSize = st.size;
    this.seenMtime = st.mtimeMs;
    this.seenCtime = st.ctimeMs;
    return changed;
  }

  /** Does the file still start with the prefix read? Only the bytes the prefix holds are compared. */
  private async prefixUnchanged(): Promise<boolean> {
    const n = this.prefixLen;
    if (n === 0) return true;
    this.probe ??= Buffer.allocUnsafe(HEAD_BYTES);
    const { bytesRead } = await this.handle!.read(this.probe, 0, n, 0);
    return bytesRead === n && this.probe.compare(this.prefix, 0, n, 0, n) === 0;
  }

  /**
   * At the end of a followed file: has the file at the path been truncated, rewritten in place
   * or replaced? If so, switch to it (the old file has been read to its end). Returns false when
   * the file has not changed since the last poll: nothing to read yet.
   */
  private async checkFile(): Promise<boolean> {
    const path = this.config.path;
    let st: Stats;
    try {
      st = await stat(path);
    } catch {
      return true; // moved away and not yet recreated: keep reading the old file
    }
    if (this.closed) return false;
    if (st.ino === this.inode) {
      if (!this.seen(st)) return false;
      const shorter = st.size < this.position;
      // Not shorter, yet truncated if it no longer starts as it did (copytruncate, then appends before this poll).
      if (!shorter && (await this.prefixUnchanged())) return true;
      if (this.closed) return false;
      if (shorter) {
        this.ctx.logger.info('file spout: file truncated; reading it again from its start', { path, size: st.size, position: this.position });
      } else {
        this.ctx.logger.info('file spout: file truncated and written again past the read position (its first bytes changed); reading it again from its start', {
          path,
          size: st.size,
          position: this.position,
        });
      }
      this.ctx.count('reopened', 1, 'truncated');
      this.newGeneration(this.inode);
      return true;
    }
    // Rotated. Read what was appended to the old file since we hit its end, then switch.
    let next: FileHandle;
    try {
      next = await open(path, 'r');
    } catch {
      return true;
    }
    const nst = await next.stat();
    if (this.closed) {
      await next.close();
      return false;
    }
    this.seen(nst);
    const old = this.handle!;
    const oldStat = await old.stat().catch(() => undefined);
    const buf = Buffer.allocUnsafe(this.chunkBytes);
    for (;;) {
      const { bytesRead } = await old.read(buf, 0, buf.length, this.position);
      if (bytesRead === 0) break;
      const chunkId = this.base + this.position;
      this.position += bytesRead;
      this.consume(buf.subarray(0, bytesRead), chunkId);
    }
    await old.close().catch(() => undefined);
    // Rotated more than once since this file was (the task lagged, or resumed in an old file): the
    // files in between are read first, oldest first, each as a rotation of the one before.
    const between = await this.rotatedBetween(this.inode, oldStat?.mtimeMs ?? 0, nst.ino);
    if (this.closed) {
      await next.close().catch(() => undefined);
      await between?.handle.close().catch(() => undefined);
      return false;
    }
    if (between !== undefined) {
      await next.close().catch(() => undefined);
      this.handle = between.handle;
      this.ctx.logger.info('file spout: file rotated more than once since it was read; reading a rotated file in between first', {
        path,
        oldInode: this.inode,
        between: between.path,
        inode: between.ino,
      });
      this.ctx.count('reopened', 1, 'rotated');
      this.newGeneration(between.ino);
      this.notify();
      return true;
    }
    this.handle = next;
    this.ctx.logger.info('file spout: file rotated; reading the new file from its start', { path, oldInode: this.inode, inode: nst.ino });
    this.ctx.count('reopened', 1, 'rotated');
    this.newGeneration(nst.ino);
    this.notify();
    return true;
  }

  /**
   * After the file of inode `oldInode` was rotated: the oldest file beside the path rotated after it
   * and not yet read (not `newInode`, now at the path), open; undefined when there is none. "After"
   * is by rotation name (`app.log.1` after `app.log.2`, `app.log-20261204` after `app.log-20261203`)
   * when the old file is still there under one, else by modification time. One already compressed is
   * not read: it is named in a warning with its size, as lines lost.
   */
  private async rotatedBetween(oldInode: number, oldMtime: number, newInode: number): Promise<{ handle: FileHandle; path: string; ino: number } | undefined> {
    const base = basename(this.config.path);
    const rotated = await this.rotatedBeside();
    const oldEntry = rotated.find((f) => f.st.ino === oldInode);
    const oldRank = oldEntry === undefined ? undefined : rotationRank(oldEntry.name, base);
    const order = (f: { name: string; st: Stats }): number | undefined => {
      if (oldRank === undefined) return f.st.mtimeMs > oldMtime ? f.st.mtimeMs : undefined;
      const r = rotationRank(f.name, base);
      return r !== undefined && r.dated === oldRank.dated && r.rank > oldRank.rank ? r.rank : undefined;
    };
    const later = rotated.filter((f) => f.st.ino !== oldInode && f.st.ino !== newInode && order(f) !== undefined).sort((a, b) => order(a)! - order(b)!);
    const compressed: { path: string; bytes: number }[] = [];
    let found: { handle: FileHandle; path: string; ino: number } | undefined;
    for (const f of later) {
      const handle = await open(f.path, 'r').catch(() => undefined);
      if (handle === undefined) continue;
      const magic = Buffer.alloc(2);
      const { bytesRead } = await handle.read(magic, 0, 2, 0).catch(() => ({ bytesRead: 0 }));
      if (bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b) {
        compressed.push({ path: f.path, bytes: f.st.size });
        await handle.close().catch(() => undefined);
        continue;
      }
      found = { handle, path: f.path, ino: f.st.ino };
      break;
    }
    if (compressed.length > 0) {
      this.ctx.logger.warn(
        `file spout: the file was rotated more than once since it was read, and ${compressed.length} rotated file(s) in between are ` +
          `already compressed: not read, their lines are lost (${compressed.reduce((n, c) => n + c.bytes, 0)} compressed bytes)`,
        { path: this.config.path, skipped: compressed.map((c) => c.path), skippedBytes: compressed.reduce((n, c) => n + c.bytes, 0) },
      );
    }
    return found;
  }

  private newGeneration(inode: number): void {
    this.flushCarry(this.base + this.position);
    // The old file's checkpoints (while its lines are unacked) keep the fingerprint it had.
    this.generations[this.generations.length - 1]!.fingerprint = this.currentFingerprint();
    this.prefixLen = 0;
    this.prefixPrint = undefined;
    this.base += this.position;
    this.position = 0;
    this.inode = inode;
    this.consumed = this.base;
    this.partialFrom = -1;
    this.lineNo = 1;
    this.generations.push({ base: this.base, inode });
  }

  private async readGzip(skipBytes: number): Promise<void> {
    const source = this.handle!.createReadStream({ start: 0, autoClose: false, highWaterMark: this.chunkBytes });
    const gunzip = createGunzip({ chunkSize: this.chunkBytes });
    this.gunzip = gunzip;
    source.on('error', (err) => gunzip.destroy(err));
    source.pipe(gunzip);
    let skip = skipBytes;
    let offset = 0;
    try {
      for await (const data of gunzip) {
        if (this.closed) break;
        let chunk = data as Buffer;
        if (skip > 0) {
          if (chunk.length <= skip) {
            skip -= chunk.length;
            offset += chunk.length;
            continue;
          }
          chunk = chunk.subarray(skip);
          offset += skip;
          skip = 0;
        }
        this.consume(chunk, offset);
        offset += chunk.length;
        this.notify();
        if (this.lines.length - this.head >= this.maxBuffered) await this.waitForRoom();
      }
      if (this.closed) return;
      if (skip > 0 && Number.isFinite(skip)) {
        this.ctx.logger.warn('file spout: the gzip file is shorter than the checkpoint; nothing left to read', {
          path: this.config.path,
          offset: skipBytes,
        });
      }
      this.flushCarry(offset);
      this.eof = true;
      this.notify();
    } catch (err) {
      // A damaged or truncated archive: keep the complete lines decoded so far, then report.
      if (!this.closed) this.dropCarry();
      this.readFailed(err);
    } finally {
      source.destroy();
    }
  }

  // --- line splitting ------------------------------------------------------------------------

  /** Splits `chunk` (whose first byte has id `chunkId`) into lines; keeps the unfinished tail. */
  private consume(chunk: Buffer, chunkId: number): void {
    const len = chunk.length;
    // Bytes read (after gunzip), per chunk: qitian_component_bytes_total.
    this.ctx.count('bytes', len);
    // One fast check per chunk; lines are checked one by one only in a chunk that fails it
    // (which includes a chunk that merely starts or ends inside a character).
    this.checkChunk = this.enc === 'utf8' && !isUtf8(chunk);
    const maxLine = this.config.maxLineBytes;
    let i = 0;
    while (i < len) {
      const nl = chunk.indexOf(NEWLINE, i);
      if (nl === -1) {
        this.keepPartial(chunk, i, chunkId + i);
        break;
      }
      if (this.skipping) {
        this.skipping = false;
        this.dropLong(this.carryId);
      } else if (this.carryLen > 0) {
        const total = this.carryLen + (nl - i);
        if (total > maxLine) this.dropLong(this.carryId);
        else {
          this.carry.push(chunk.subarray(i, nl));
          this.pushLine(Buffer.concat(this.carry, total), 0, total, this.carryId, this.enc === 'utf8');
        }
        this.carry = [];
        this.carryLen = 0;
      } else if (nl - i > maxLine) {
        this.dropLong(chunkId + i);
      } else {
        this.pushLine(chunk, i, nl, chunkId + i, this.checkChunk);
      }
      i = nl + 1;
      this.consumed = chunkId + i;
    }
    this.countDropped();
  }

  private keepPartial(chunk: Buffer, from: number, id: number): void {
    if (this.skipping) return;
    if (this.carryLen === 0) this.carryId = id;
    const total = this.carryLen + (chunk.length - from);
    if (total > this.config.maxLineBytes) {
      this.carry = [];
      this.carryLen = 0;
      this.skipping = true;
      return;
    }
    // Copy: the read buffer is reused.
    this.carry.push(Buffer.from(chunk.subarray(from)));
    this.carryLen = total;
  }

  /** At the end of a file (whose end has id `endId`): its last line may have no newline. */
  private flushCarry(endId: number): void {
    if (this.skipping) {
      this.skipping = false;
      this.dropLong(this.carryId);
    } else if (this.carryLen > 0) {
      const total = this.carryLen;
      this.pushLine(Buffer.concat(this.carry, total), 0, total, this.carryId, this.enc === 'utf8');
    }
    this.carry = [];
    this.carryLen = 0;
    this.consumed = endId;
    this.countDropped();
  }

  /**
   * After a failed read: the unfinished last line was cut off, not ended, so it is dropped and
   * counted rather than emitted. The committed position stays at its start: a resumed run reads
   * it again, whole if the file has been repaired.
   */
  private dropCarry(): void {
    if (this.skipping || this.carryLen > 0) this.ctx.count('dropped', 1, 'truncated_input');
    this.skipping = false;
    this.carry = [];
    this.carryLen = 0;
  }

  private pushLine(buf: Buffer, start: number, end: number, id: number, checkUtf8: boolean): void {
    if (end > start && buf[end - 1] === CR) end--;
    // A UTF-8 byte order mark opens some files written on Windows: it is not part of the first line.
    if (id === this.base && this.enc === 'utf8' && end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
    if (checkUtf8 && !isUtf8(buf.subarray(start, end))) this.invalidLine(id);
    this.lines.push(buf.toString(this.enc, start, end));
    this.ids.push(id);
    if (this.withPosition) {
      this.lineNos.push(this.lineNo);
      this.offsets.push(id - this.base);
      if (this.lineNo !== UNKNOWN_LINE) this.lineNo++;
    }
  }

  /** A line that is not valid UTF-8: emitted with U+FFFD in place of the bad bytes, counted, and logged once. */
  private invalidLine(id: number): void {
    this.invalidUtf8++;
    if (!this.warnedUtf8) {
      this.warnedUtf8 = true;
      this.ctx.logger.warn(
        'file spout: a line is not valid UTF-8; its bad bytes become U+FFFD (counted as invalid_utf8; set encoding: latin1 for a Latin-1 file)',
        { path: this.config.path, ...this.where(id) },
      );
    }
  }

  private dropLong(id: number): void {
    this.droppedLong++;
    if (!this.warnedLong) {
      this.warnedLong = true;
      this.ctx.logger.warn('file spout: skipping a line longer than maxLineBytes (counted as dropped, reason line_too_long)', {
        path: this.config.path,
        ...this.where(id),
        maxLineBytes: this.config.maxLineBytes,
      });
    }
    // A dropped line is still a line of the file: the next one keeps its number.
    if (this.withPosition && this.lineNo !== UNKNOWN_LINE) this.lineNo++;
  }

  /** Where the line with id `id` of the file being read is, for a log entry. */
  private where(id: number): { offset: number; line?: number } {
    const offset = id - this.base;
    return this.withPosition && this.lineNo !== UNKNOWN_LINE ? { offset, line: this.lineNo } : { offset };
  }

  private countDropped(): void {
    if (this.invalidUtf8 > 0) {
      this.ctx.count('invalid_utf8', this.invalidUtf8);
      this.invalidUtf8 = 0;
    }
    if (this.droppedLong > 0) {
      this.ctx.count('dropped', this.droppedLong, 'line_too_long');
      this.droppedLong = 0;
    }
  }
}
