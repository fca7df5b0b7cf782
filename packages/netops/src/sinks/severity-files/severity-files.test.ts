import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '@qitian/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FileAccessError } from '../../errors.js';
import { EVENT, EVENT_FIELDS, SEVERITY_NAMES } from '../../syslog/event.js';
import { prepareBolt, TestTuple } from '../../testkit.js';
import { type SeverityFilesSink, severityFilesSink } from './index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'qitian-severity-files-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const read = (name: string) => readFileSync(join(dir, name), 'utf8');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A parsed event; `n` makes it unique (and its line length grow slowly). */
function event(severity: unknown, n = 0): TestTuple {
  const values: unknown[] = EVENT_FIELDS.map(() => null);
  values[EVENT.time] = 1_700_000_000_000 + n;
  values[EVENT.host] = 'r1';
  values[EVENT.facility] = 23;
  values[EVENT.severity] = severity;
  values[EVENT.message] = `event ${n}`;
  values[EVENT.structured] = { meta: { n: String(n) } };
  values[EVENT.parsed] = true;
  return new TestTuple(EVENT_FIELDS, values, 'default', 'parse');
}

/** The JSON line the sink writes for an event. */
const lineOf = (t: TestTuple) => `${JSON.stringify(Object.fromEntries(t.fields.map((f, i) => [f, t.values[i]])))}\n`;

describe('severity-files sink', () => {
  it('is a sink that acks by itself, once lines are written', () => {
    expect(severityFilesSink.kind).toBe('sink');
    expect(severityFilesSink.autoAck).toBe(false);
  });

  it('writes each severity to <prefix><name>.jsonl, as JSON objects keyed by field name, and acks once written', async () => {
    const h = await prepareBolt(severityFilesSink, { dir });
    const batch = [0, 1, 2, 3, 4, 5, 6, 7, 3, 6].map((s, n) => event(s, n));
    await h.bolt.executeBatch!(batch);
    expect(h.collector.acked).toEqual([]); // buffered
    await h.bolt.finish!();
    expect(new Set(h.collector.acked)).toEqual(new Set(batch));
    for (let s = 0; s < 8; s++) {
      const mine = batch.filter((t) => t.values[EVENT.severity] === s);
      expect(read(`syslog-${SEVERITY_NAMES[s]}.jsonl`)).toBe(mine.map(lineOf).join(''));
    }
    expect(JSON.parse(read('syslog-err.jsonl').split('\n')[0]!)).toMatchObject({ severity: 3, host: 'r1', structured: { meta: { n: '3' } } });
    await h.bolt.cleanup!();
    expect(readdirSync(dir).sort()).toEqual(SEVERITY_NAMES.map((s) => `syslog-${s}.jsonl`).sort());
  });

  it('puts {task} of dir and prefix to use, and appends to existing files', async () => {
    mkdirSync(join(dir, 'task-0'));
    writeFileSync(join(dir, 'task-0', 'edge-0-crit.jsonl'), 'old\n');
    const h = await prepareBolt(severityFilesSink, { dir: join(dir, 'task-{task}'), prefix: 'edge-{task}-' });
    const e = event(2);
    await h.bolt.executeBatch!([e]);
    await h.bolt.cleanup!();
    expect(read('task-0/edge-0-crit.jsonl')).toBe(`old\n${lineOf(e)}`);
    expect((h.bolt as SeverityFilesSink).paths[2]).toBe(join(dir, 'task-0', 'edge-0-crit.jsonl'));
  });

  it('follows logrotate moving a file away: a new one at its path within a second, counted by severity and logged', async () => {
    const h = await prepareBolt(severityFilesSink, { dir });
    const first = event(3, 1);
    await h.bolt.executeBatch!([first]);
    await sleep(50);
    renameSync(join(dir, 'syslog-err.jsonl'), join(dir, 'syslog-err.jsonl.1'));
    await sleep(1100);
    const second = event(3, 2);
    await h.bolt.executeBatch!([second]);
    await h.bolt.finish!();
    await h.bolt.cleanup!();
    expect(read('syslog-err.jsonl.1')).toBe(lineOf(first));
    expect(read('syslog-err.jsonl')).toBe(lineOf(second));
    expect(h.context.counted('reopened', 'err')).toBe(1);
    expect(h.context.logger.records.find((r) => r.msg.includes('moved or deleted'))?.fields).toMatchObject({ path: join(dir, 'syslog-err.jsonl') });
  });

  it('rotates by size: whole lines, no file above maxBytes, numbered newest first, nothing lost', async () => {
    const maxBytes = 2000;
    const h = await prepareBolt(severityFilesSink, { dir, maxBytes, keep: 100, flushInterval: '1h' });
    const all: TestTuple[] = [];
    // Several batches and flushes, some flushes bigger than a file.
    for (let b = 0; b < 6; b++) {
      const batch: TestTuple[] = [];
      for (let i = 0; i < 25 * (b + 1); i++) batch.push(event(3, all.length + batch.length));
      all.push(...batch);
      await h.bolt.executeBatch!(batch);
      await h.bolt.finish!();
    }
    await h.bolt.cleanup!();
    const names = readdirSync(dir).filter((f) => f.startsWith('syslog-err'));
    const rotated = names.filter((f) => f !== 'syslog-err.jsonl').length;
    expect(rotated).toBeGreaterThan(10);
    expect(names.sort()).toEqual(['syslog-err.jsonl', ...Array.from({ length: rotated }, (_, i) => `syslog-err.${i + 1}.jsonl`)].sort());
    const longest = Math.max(...all.map((t) => Buffer.byteLength(lineOf(t))));
    let content = '';
    for (let i = rotated; i >= 1; i--) {
      const text = read(`syslog-err.${i}.jsonl`);
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxBytes);
      expect(Buffer.byteLength(text)).toBeGreaterThan(maxBytes - longest); // the next line did not fit
      expect(text.endsWith('\n')).toBe(true);
      content += text;
    }
    content += read('syslog-err.jsonl');
    expect(content).toBe(all.map(lineOf).join(''));
    expect(h.collector.acked).toHaveLength(all.length);
    expect(h.context.counted('rotations', 'err')).toBe(rotated);
    expect(h.context.counted('bytes', 'err')).toBe(Buffer.byteLength(content));
  });

  it('keeps only `keep` rotated files, the newest ones', async () => {
    const h = await prepareBolt(severityFilesSink, { dir, maxBytes: 1000, keep: 2 });
    const all: TestTuple[] = [];
    for (let i = 0; i < 200; i++) all.push(event(6, i));
    await h.bolt.executeBatch!(all);
    await h.bolt.cleanup!();
    expect(
      readdirSync(dir)
        .filter((f) => f.startsWith('syslog-info'))
        .sort(),
    ).toEqual(['syslog-info.1.jsonl', 'syslog-info.2.jsonl', 'syslog-info.jsonl']);
    const tail = read('syslog-info.2.jsonl') + read('syslog-info.1.jsonl') + read('syslog-info.jsonl');
    expect(all.map(lineOf).join('').endsWith(tail)).toBe(true);
    expect(h.context.counted('rotations', 'info')).toBeGreaterThan(2);
  });

  it('keep: 0 deletes a file when it rotates', async () => {
    const h = await prepareBolt(severityFilesSink, { dir, maxBytes: 1000, keep: 0 });
    const all: TestTuple[] = [];
    for (let i = 0; i < 50; i++) all.push(event(7, i));
    await h.bolt.executeBatch!(all);
    await h.bolt.cleanup!();
    expect(readdirSync(dir).filter((f) => f.startsWith('syslog-debug'))).toEqual(['syslog-debug.jsonl']);
    expect(all.map(lineOf).join('').endsWith(read('syslog-debug.jsonl'))).toBe(true);
    expect(statSync(join(dir, 'syslog-debug.jsonl')).size).toBeLessThanOrEqual(1000);
  });

  it('rotates by time at the first write after rotateEvery, and never rotates an empty file', async () => {
    const h = await prepareBolt(severityFilesSink, { dir, rotateEvery: '100ms', keep: 3 });
    const a = event(4, 1);
    await h.bolt.executeBatch!([a]);
    await h.bolt.finish!();
    await sleep(150);
    const b = event(4, 2);
    await h.bolt.executeBatch!([b]);
    await h.bolt.finish!();
    const c = event(4, 3);
    await h.bolt.executeBatch!([c]);
    await h.bolt.cleanup!();
    expect(read('syslog-warning.1.jsonl')).toBe(lineOf(a));
    expect(read('syslog-warning.jsonl')).toBe(lineOf(b) + lineOf(c));
    // The other severities were idle, empty, and stay unrotated.
    expect(existsSync(join(dir, 'syslog-err.1.jsonl'))).toBe(false);
    expect(h.context.counted('rotations')).toBe(1);
  });

  it('acks events without a valid severity without writing them, counted as no_severity', async () => {
    const h = await prepareBolt(severityFilesSink, { dir });
    const bad = [event(null), event(9), event('3')];
    const good = event(5);
    await h.bolt.executeBatch!([...bad, good]);
    await h.bolt.cleanup!();
    expect(h.collector.acked).toEqual([...bad, good]);
    expect(h.context.counted('errors', 'no_severity')).toBe(3);
    expect(read('syslog-notice.jsonl')).toBe(lineOf(good));
    for (const s of SEVERITY_NAMES) if (s !== 'notice') expect(read(`syslog-${s}.jsonl`)).toBe('');
  });

  it('fails the tuples of a failed write and of a failed rotation, and acks the others', async () => {
    const h = await prepareBolt(severityFilesSink, { dir, maxBytes: 400, keep: 1 });
    // A rotation of err would have to delete a non-empty folder.
    mkdirSync(join(dir, 'syslog-err.1.jsonl', 'x'), { recursive: true });
    // The crit file is broken under the sink.
    const files = (h.bolt as unknown as { files: { file: { handle: { close(): Promise<void> } } }[] }).files;
    await files[2]!.file.handle.close();
    const err = [event(3, 1), event(3, 2), event(3, 3), event(3, 4)];
    const crit = [event(2, 5)];
    const ok = [event(1, 6)];
    await h.bolt.executeBatch!([...err, ...crit, ...ok]);
    await h.bolt.finish!();
    expect(h.collector.acked).toEqual(ok);
    // The chunk fails whole, though its first line was written before the rotation: at least once.
    expect(new Set(h.collector.failed)).toEqual(new Set([...crit, ...err]));
    for (const e of h.collector.errors) expect(e.error).toBeInstanceOf(FileAccessError);
    expect(h.collector.errors.map((e) => (e.error as FileAccessError).operation).sort()).toEqual(['rotate', 'write']);
    expect(h.context.counted('write_failures')).toBe(2);
    await h.bolt.cleanup!();
  });

  it('refuses a second writer of the same files (another run, or a task without {task}), until the first is done', async () => {
    const first = await prepareBolt(severityFilesSink, { dir }, { componentId: 'store', taskIndex: 0 });
    const second = await prepareBolt(severityFilesSink, { dir }, { componentId: 'store', taskIndex: 1 }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(Error);
    expect((second as Error).message).toContain(`${join(dir, '.syslog-lock')} is held by store[0] of this run`);
    // Files of their own (another prefix) are no conflict.
    const other = await prepareBolt(severityFilesSink, { dir, prefix: 'edge-' }, { componentId: 'store', taskIndex: 1 });
    await other.bolt.cleanup?.();
    await first.bolt.cleanup?.();
    expect(existsSync(join(dir, '.syslog-lock'))).toBe(false);
    const third = await prepareBolt(severityFilesSink, { dir }, { componentId: 'store', taskIndex: 1 });
    await third.bolt.cleanup?.();
  });

  it('throws a FileAccessError naming the path when the folder cannot be made', async () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    const err = await prepareBolt(severityFilesSink, { dir: join(blocker, 'logs') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileAccessError);
    expect((err as Error).message).toContain(join(blocker, 'logs'));
  });

  // Node 20.20's mkdir(..., { recursive: true }) never returns for /proc/nope: the timeout turns a hang into a failure.
  it('throws a FileAccessError naming the path when the folder is under /proc, instead of hanging', async () => {
    const logs = '/proc/qitian-nope-xyz/logs';
    const err = await prepareBolt(severityFilesSink, { dir: logs }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileAccessError);
    expect((err as FileAccessError).code).toBe('ENOENT');
    expect((err as Error).message).toContain(logs);
  }, 2000);
});

describe('spec examples', () => {
  it('every example is a valid component entry', () => {
    expect(severityFilesSink.spec.examples!.length).toBeGreaterThan(0);
    for (const ex of severityFilesSink.spec.examples!) {
      const entry = parse(ex.yaml) as { type: string; config?: unknown };
      expect(entry.type).toBe('severity-files');
      expect(validateConfig(severityFilesSink.spec.fields, entry.config).issues, ex.title).toEqual([]);
    }
  });
});
