/**
 * Bad lines in a log file, parsed strictly: each rejection on the error stream names the file,
 * line and column (file spout `position: true`), whichever parse task and thread it went
 * through, and the good lines beside it all come out as events.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { jsonLines, load, problems, start, tempDir, writeTopology } from './syslog-kit.js';

const dir = tempDir('qitian-file-errors-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('file (position) -> strict syslog-parse: errors name file:line:column', () => {
  test('2,000 lines with a bad one every 97th, on two workers', async () => {
    const lines: string[] = [];
    const bad = new Map<number, string>(); // line number -> reason
    for (let n = 1; n <= 2000; n++) {
      if (n % 97 === 0) {
        // Alternate two faults: a PRI out of range (column 4) and a version out of range (column 8).
        if (n % 2 === 0) {
          lines.push(`<192>1 2026-11-22T08:00:00Z h${n} app - - - bad pri ${n}`);
          bad.set(n, 'bad_pri:4');
        } else {
          lines.push(`<13>1000 2026-11-22T08:00:00Z h${n} app - - - bad version ${n}`);
          bad.set(n, 'bad_version:8');
        }
      } else {
        lines.push(`<13>1 2026-11-22T08:00:00Z h${n} app - - - good ${n}`);
      }
    }
    const path = join(dir, 'edge.log');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const errors = join(dir, 'errors.jsonl');
    const events = join(dir, 'events.jsonl');
    const file = await writeTopology(dir, 'errors.yaml', {
      name: 'file-errors',
      spouts: [{ id: 'lines', type: 'file', config: { path, position: true } }],
      bolts: [{ id: 'parse', type: 'syslog-parse', parallelism: 2, config: { strict: true } }],
      sinks: [
        { id: 'errors', type: 'file', config: { path: errors } },
        { id: 'events', type: 'file', config: { path: events, fields: ['host'] } },
      ],
      streams: [
        { from: 'lines', to: 'parse', grouping: { type: 'shuffle' } },
        { from: 'parse', to: 'errors', grouping: { type: 'shuffle', stream: 'error' } },
        { from: 'parse', to: 'events', grouping: { type: 'shuffle' } },
      ],
    });
    const { engine, logs } = await start(await load(file));
    const summary = await engine.finished;
    expect(summary.reason, `${summary.error?.message}\n${problems(logs)}`).toBe('completed');

    const rows = jsonLines<{ reason: string; column: number; location: string; message: string; raw: string }>(errors);
    const got = new Map(rows.map((r) => [r.location, `${r.reason}:${r.column}`]));
    const want = new Map([...bad].map(([n, why]) => [`${path}:${n}:${why.split(':')[1]}`, why]));
    expect(got).toEqual(want);
    for (const r of rows) {
      expect(r.message.startsWith(`${r.location}: `)).toBe(true);
      // The line the location names is the line that was rejected.
      const n = Number(r.location.split(':').at(-2));
      expect(r.raw).toBe(lines[n - 1]);
    }
    expect(jsonLines(events)).toHaveLength(2000 - bad.size);
  });
});
