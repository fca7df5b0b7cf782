import { describe, expect, it } from 'vitest';
import { driveSpout, openSpout } from '../../testkit.js';
import { type GeneratorSpout, generatorSpout, LineMaker, WORDS_VOCABULARY } from './index.js';

const SYSLOG_RE = /^<(\d{1,3})>(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d [a-z0-9.]+ (?:[A-Za-z]+\[\d+\]|\d+|kernel): \S.*$/;

async function take(raw: Record<string, unknown>, n: number, opts: { taskIndex?: number; reliable?: boolean } = {}) {
  const h = await openSpout(generatorSpout, raw, opts);
  await driveSpout(h, { max: 1000, until: () => h.collector.emits.length >= n });
  h.spout.close?.();
  return h;
}

describe('generator spout', () => {
  it('declares one output stream with the field "line"', () => {
    expect(generatorSpout.outputs?.({ seed: 1, rate: 0, count: 0, format: 'syslog' })).toEqual({ default: ['line'] });
  });

  it('makes RFC 3164 syslog lines with varied priorities, hosts and programs', () => {
    const m = new LineMaker('syslog', 7, 0);
    const pris = new Set<number>();
    const hosts = new Set<string>();
    const programs = new Set<string>();
    let bytes = 0;
    for (let i = 0; i < 10_000; i++) {
      const line = m.line(i);
      const match = SYSLOG_RE.exec(line);
      expect(match, line).not.toBeNull();
      const pri = Number(match![1]);
      expect(pri).toBeLessThan(192);
      pris.add(pri % 8);
      const rest = line.slice(line.indexOf('>') + 17); // past '>', the 15-character timestamp and a space
      hosts.add(rest.split(' ')[0]!);
      programs.add(rest.split(' ')[1]!.replace(/\[\d+\]:$|\d+:$/, ''));
      bytes += line.length;
    }
    expect(pris.size).toBe(8); // every severity shows up
    expect(hosts.size).toBeGreaterThanOrEqual(60);
    expect(programs.size).toBeGreaterThanOrEqual(6);
    expect(bytes / 10_000).toBeGreaterThan(80);
    expect(bytes / 10_000).toBeLessThan(160);
  });

  it('is deterministic: the same seed and task give the same lines; another seed or task does not', async () => {
    const a = await take({ seed: 42 }, 500);
    const b = await take({ seed: 42 }, 500);
    const c = await take({ seed: 43 }, 500);
    const d = await take({ seed: 42 }, 500, { taskIndex: 1 });
    expect(a.collector.lines.slice(0, 500)).toEqual(b.collector.lines.slice(0, 500));
    expect(c.collector.lines.slice(0, 500)).not.toEqual(a.collector.lines.slice(0, 500));
    expect(d.collector.lines.slice(0, 500)).not.toEqual(a.collector.lines.slice(0, 500));
  });

  it('regenerates any line from its sequence number alone', () => {
    const m = new LineMaker('syslog', 5, 3);
    const forward = Array.from({ length: 3000 }, (_, i) => m.line(i));
    const other = new LineMaker('syslog', 5, 3);
    for (const i of [2999, 0, 1500, 1024, 1023, 7]) expect(other.line(i)).toBe(forward[i]);
    // Far sequence numbers work too (beyond 2^32).
    expect(other.line(2 ** 40 + 5)).toBe(m.line(2 ** 40 + 5));
    expect(other.line(2 ** 40 + 5)).not.toBe(m.line(5));
  });

  it('makes words lines from the fixed vocabulary, with a skewed frequency', () => {
    const m = new LineMaker('words', 1, 0);
    const vocab = new Set(WORDS_VOCABULARY);
    const freq = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const words = m.line(i).split(' ');
      expect(words.length).toBeGreaterThanOrEqual(2);
      expect(words.length).toBeLessThanOrEqual(12);
      for (const w of words) {
        expect(vocab.has(w), w).toBe(true);
        freq.set(w, (freq.get(w) ?? 0) + 1);
      }
    }
    const counts = [...freq.values()].sort((x, y) => y - x);
    expect(counts[0]!).toBeGreaterThan(counts[counts.length - 1]! * 10);
  });

  it('makes sequence lines that are the sequence numbers', async () => {
    const h = await take({ format: 'sequence' }, 5);
    expect(h.collector.lines.slice(0, 5)).toEqual(['0', '1', '2', '3', '4']);
  });

  it('ends after count tuples', async () => {
    const h = await openSpout(generatorSpout, { count: 250, format: 'sequence' });
    expect(h.spout.next(100)).toBe('more');
    expect(h.spout.next(100)).toBe('more');
    expect(h.spout.next(100)).toBe('end');
    expect(h.spout.next(100)).toBe('end');
    expect(h.collector.emits).toHaveLength(250);
    expect(h.collector.lines[249]).toBe('249');
  });

  it('uses sequence numbers as message ids and re-emits a failed line, regenerated, before new ones', async () => {
    const h = await openSpout(generatorSpout, { count: 10, seed: 9 }, { reliable: true });
    expect(h.spout.next(4)).toBe('more');
    expect(h.collector.emits.map((e) => e.messageId)).toEqual([0, 1, 2, 3]);
    const original = h.collector.lines.slice(0, 4);
    h.spout.ack!(0);
    h.spout.fail!(2);
    h.spout.fail!(1);
    h.spout.fail!(0); // already acked: ignored
    expect(h.spout.next(3)).toBe('more');
    expect(h.collector.emits.slice(4).map((e) => [e.values[0], e.messageId])).toEqual([
      [original[2], 2],
      [original[1], 1],
      [(h.spout as GeneratorSpout).line(4), 4],
    ]);
    expect(h.spout.next(100)).toBe('end');
    h.spout.fail!(9);
    expect(h.spout.next(100)).toBe('end');
    expect(h.collector.emits.at(-1)?.messageId).toBe(9);
  });

  it('checkpoints the lowest unacked sequence number and resumes from it', async () => {
    const h = await openSpout(generatorSpout, { format: 'sequence' }, { reliable: true });
    h.spout.next(100);
    for (let i = 0; i < 100; i++) if (i !== 40) h.spout.ack!(i);
    await new Promise((r) => setTimeout(r, 150));
    expect(h.context.lastCheckpoint).toEqual({ next: 40 });
    expect(h.context.checkpoints.length).toBe(1); // not one per ack
    h.spout.ack!(40);
    h.spout.close!();
    expect(h.context.lastCheckpoint).toEqual({ next: 100 });

    const again = await openSpout(generatorSpout, { format: 'sequence' }, { reliable: true, restoredCheckpoint: { next: 40 } });
    again.spout.next(3);
    expect(again.collector.emits.map((e) => [e.values[0], e.messageId])).toEqual([
      ['40', 40],
      ['41', 41],
      ['42', 42],
    ]);
    again.spout.close?.();
  });

  it('ignores a checkpoint it does not understand', async () => {
    const h = await openSpout(generatorSpout, { format: 'sequence' }, { restoredCheckpoint: { offset: 3 } });
    h.spout.next(1);
    expect(h.collector.lines).toEqual(['0']);
    expect(h.context.logger.records.some((r) => r.level === 'warn')).toBe(true);
  });

  it('honours rate roughly, returning idle when ahead of schedule and waking when tokens are back', async () => {
    const h = await openSpout(generatorSpout, { rate: 1000, format: 'sequence' });
    const t0 = performance.now();
    let idles = 0;
    while (performance.now() - t0 < 500) {
      const s = h.spout.next(1000);
      if (s === 'idle') {
        idles++;
        await h.context.waitForWake(100);
      } else await new Promise((r) => setImmediate(r));
    }
    const elapsed = performance.now() - t0;
    const n = h.collector.emits.length;
    expect(idles).toBeGreaterThan(0);
    expect(h.context.wakes).toBeGreaterThan(0);
    expect(n).toBeGreaterThan(elapsed * 0.7);
    expect(n).toBeLessThan(elapsed * 1.1 + 60);
    h.spout.close?.();
  });

  it('without a rate, fills every next(max) call', async () => {
    const h = await openSpout(generatorSpout, {});
    expect(h.spout.next(777)).toBe('more');
    expect(h.collector.emits).toHaveLength(777);
    expect(h.collector.emits.every((e) => e.messageId === undefined && e.stream === 'default')).toBe(true);
  });
});
