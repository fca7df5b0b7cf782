/**
 * Per-severity counts of the pipeline against an independent count of its input: lines made by
 * the device-syslog model directly (no engine; the demo's network and faults, so that every
 * severity from emerg to info occurs) plus hand-written lines for every facility and severity
 * (the model never sends debug), counted here by the PRI at the start of each line; written to a
 * file and run through file spout -> syslog-parse -> priority-route. The router's eight severity
 * streams each feed a file sink of their own, and its group `all` a severity-files sink: each
 * severity's lines must be exactly the input lines of that severity, in both.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeviceSyslogModel, type DeviceSyslogOptions, SEVERITY_NAMES } from '@qitian/netops';
import { afterAll, describe, expect, test } from 'vitest';
import { jsonLines, load, problems, severityOfLine, start, TOPOLOGIES, tempDir, writeTopology } from './syslog-kit.js';

const MODEL_LINES = 60_000;
const dir = tempDir();

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The input: model lines, then every facility x severity as RFC 3164 and RFC 5424. */
async function input(): Promise<string[]> {
  const demo = await load(join(TOPOLOGIES, 'syslog-fault-localization.yaml'));
  const spout = demo.components.find((c) => c.id === 'devices')!;
  const config = spout.config as unknown as DeviceSyslogOptions & { rate: number; speedup: number };
  const model = new DeviceSyslogModel({ ...config, rate: 0, baseRate: config.rate / config.speedup });
  const lines = model.lines(MODEL_LINES);
  for (let pri = 0; pri < 24 * 8; pri++) {
    lines.push(`<${pri}>Nov 22 08:00:00 host-${pri % 7} app${pri}[${pri}]: hand-written ${pri}`);
    lines.push(`<${pri}>1 2026-11-22T08:00:00.000Z host-${pri % 5} app${pri} ${pri} ID${pri} - hand-written 5424 ${pri}`);
  }
  return lines;
}

describe('file -> syslog-parse -> priority-route: per-severity counts equal an independent count of the input', () => {
  test(`${MODEL_LINES} simulated lines and 384 hand-written ones`, async () => {
    const lines = await input();
    const want: string[][] = SEVERITY_NAMES.map(() => []);
    for (const l of lines) {
      const s = severityOfLine(l);
      if (s < 0) throw new Error(`input line without a PRI: ${l}`);
      want[s]!.push(l);
    }
    // Every severity occurs, so that a misrouted one cannot hide.
    expect(want.map((w) => w.length > 0)).toEqual(SEVERITY_NAMES.map(() => true));
    const path = join(dir, 'input.log');
    writeFileSync(path, `${lines.join('\n')}\n`);

    const streams = join(dir, 'streams');
    const files = join(dir, 'by-severity');
    const file = await writeTopology(dir, 'count.yaml', {
      name: 'syslog-e2e-count',
      spouts: [{ id: 'lines', type: 'file', config: { path } }],
      bolts: [
        { id: 'parse', type: 'syslog-parse', parallelism: 2 },
        { id: 'route', type: 'priority-route', config: { groups: { all: [...SEVERITY_NAMES] } } },
      ],
      sinks: [
        ...SEVERITY_NAMES.map((s) => ({ id: `out-${s}`, type: 'file', config: { path: join(streams, `${s}.jsonl`), fields: ['severity', 'raw'] } })),
        { id: 'files', type: 'severity-files', config: { dir: files } },
      ],
      streams: [
        { from: 'lines', to: 'parse', grouping: { type: 'shuffle' } },
        { from: 'parse', to: 'route', grouping: { type: 'shuffle' } },
        ...SEVERITY_NAMES.map((s) => ({ from: 'route', to: `out-${s}`, grouping: { type: 'shuffle', stream: s } })),
        { from: 'route', to: 'files', grouping: { type: 'shuffle', stream: 'all' } },
      ],
    });
    const { engine, logs } = await start(await load(file));
    const summary = await engine.finished;
    expect(summary.reason, `${summary.error?.message}\n${problems(logs)}`).toBe('completed');

    const sorted = (xs: string[]) => [...xs].sort();
    const counts = (get: (s: number) => unknown[]) => Object.fromEntries(SEVERITY_NAMES.map((name, s) => [name, get(s).length]));
    const byStream = SEVERITY_NAMES.map((s) => jsonLines<{ severity: number; raw: string }>(join(streams, `${s}.jsonl`)));
    const byFile = SEVERITY_NAMES.map((s) => jsonLines<{ severity: number; raw: string }>(join(files, `syslog-${s}.jsonl`)));
    expect(
      counts((s) => byStream[s]!),
      'lines per severity stream',
    ).toEqual(counts((s) => want[s]!));
    expect(
      counts((s) => byFile[s]!),
      'lines per severity file',
    ).toEqual(counts((s) => want[s]!));
    for (let s = 0; s < 8; s++) {
      expect(new Set(byStream[s]!.map((e) => e.severity)), `severities on stream ${SEVERITY_NAMES[s]}`).toEqual(new Set([s]));
      expect(sorted(byStream[s]!.map((e) => e.raw)), `raw lines on stream ${SEVERITY_NAMES[s]}`).toEqual(sorted(want[s]!));
      expect(sorted(byFile[s]!.map((e) => e.raw)), `raw lines in syslog-${SEVERITY_NAMES[s]}.jsonl`).toEqual(sorted(want[s]!));
    }
  });
});
