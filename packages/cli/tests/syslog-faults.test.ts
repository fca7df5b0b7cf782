/**
 * The main job's fault scenarios, end to end: topologies/syslog-fault-localization.yaml as
 * `npm start` runs it, except that the simulated devices emit as fast as the pipeline takes them
 * (`rate: 0` with `baseRate` = the demo's `rate / speedup`, so the simulated clock, the lines and
 * the faults are the demo's, in a few seconds instead of 30) and the console report is replaced by
 * a file sink that captures the alerts and the Top-N rankings. Each injected fault must raise its
 * alert within one window of its start and show in that window's Top-N; no alert may fire that
 * no fault explains (the 2x and 5x load steps included).
 *
 * What to expect is derived from the device-syslog model (DeviceSyslogModel, built from the demo's
 * spout config): the flapping device, the scanning source, the attackers, the failing device and
 * the event types their lines have.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DeviceSyslogModel, type DeviceSyslogOptions, type Fault } from '@qitian/netops';
import { beforeAll, describe, expect, test } from 'vitest';
import { jsonLines, lineCount, load, problems, start, TOPOLOGIES, tempDir, writeTopology } from './syslog-kit.js';

const DEMO = join(TOPOLOGIES, 'syslog-fault-localization.yaml');

interface Alert {
  time: number;
  strategy: string;
  severity: string;
  key: string;
  summary: string;
}

interface Ranking {
  dimension: string;
  windowStart: number;
  windowEnd: number;
  ranking: { key: string; count: number; error: number }[];
  total: number;
  late: number;
  exact: boolean;
}

// The demo as its file configures it (variables at their defaults).
const demo = await load(DEMO);
const spout = demo.components.find((c) => c.id === 'devices');
if (spout?.type !== 'device-syslog') throw new Error(`${DEMO}: expected a device-syslog spout with id "devices"`);
const demoConfig = spout.config as Record<string, unknown> & { rate: number; speedup: number; count: number };
const config = { ...demoConfig, rate: 0, baseRate: demoConfig.rate / demoConfig.speedup };
const model = new DeviceSyslogModel(config as DeviceSyslogOptions);
/** The Top-N and alert window (5m in the demo): the topn bolt's window, already in ms. */
const WINDOW: number = (() => {
  const window = (demo.components.find((c) => c.id === 'topn')?.config as { window?: unknown } | undefined)?.window;
  if (typeof window !== 'number') throw new Error(`${DEMO}: expected a topn bolt with id "topn" and a window`);
  return window;
})();

const iso = (ms: number) => new Date(ms).toISOString();
const startOf = (f: Fault) => model.startMs + f.at;
const endOf = (f: Fault) => model.startMs + f.at + f.duration;
const windowOf = (ms: number) => Math.floor(ms / WINDOW) * WINDOW;

/** The alert keys a fault may be named by: its device, its sources, its device and event types. */
function keysOf(f: Fault): Set<string> {
  return new Set([f.device.name, ...f.sources, ...f.eventTypes.map((t) => `${f.device.name}|${t}`)]);
}

/** The alert fires within one window of the fault's start (at or after it). */
function withinOneWindow(f: Fault, a: Alert): boolean {
  return a.time >= startOf(f) && a.time < startOf(f) + WINDOW;
}

let alerts: Alert[] = [];
let rankings: Ranking[] = [];
let storedLines = 0;

function describeAlerts(list: readonly Alert[] = alerts): string {
  return list.map((a) => `${iso(a.time)} ${a.strategy} ${a.key}: ${a.summary}`).join('\n') || '(no alerts)';
}

function rankingOf(dimension: string, windowStart: number): Ranking {
  const r = rankings.find((x) => x.dimension === dimension && x.windowStart === windowStart);
  if (!r)
    throw new Error(
      `no ${dimension} ranking for the window from ${iso(windowStart)}; windows: ${[...new Set(rankings.map((x) => iso(x.windowStart)))].join(', ')}`,
    );
  return r;
}

const showRanking = (r: Ranking) => r.ranking.map((e) => `${e.key} (${e.count})`).join(', ');

function faultOf(kind: Fault['kind']): Fault {
  const f = model.faults.find((x) => x.kind === kind);
  if (!f) throw new Error(`${DEMO} injects no ${kind} fault; faults: ${model.faults.map((x) => x.kind).join(', ')}`);
  return f;
}

beforeAll(async () => {
  const dir = tempDir();
  const out = join(dir, 'report.jsonl');
  const stored = join(dir, 'stored.jsonl');
  const file = await writeTopology(dir, 'faults.yaml', {
    name: 'syslog-e2e-faults',
    includes: [DEMO],
    spouts: [{ id: 'devices', type: 'device-syslog', parallelism: spout.parallelism, config }],
    sinks: [
      // Alerts and rankings, each a JSON object keyed by its stream's fields.
      { id: 'console', type: 'file', config: { path: out, flushInterval: '100ms' } },
      // The severity only: the demo's per-severity store would write 330 MB.
      { id: 'store', type: 'file', config: { path: stored, fields: ['severity'] } },
    ],
  });
  try {
    const { engine, logs } = await start(await load(file));
    const summary = await engine.finished;
    if (summary.reason !== 'completed') throw new Error(`the demo run ended ${summary.reason}: ${summary.error?.message}\n${problems(logs)}`);
    storedLines = lineCount(stored);
    const report = jsonLines(out);
    alerts = report.filter((x) => 'strategy' in x) as unknown as Alert[];
    rankings = report.filter((x) => 'dimension' in x) as unknown as Ranking[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

describe(`the main job's faults (${DEMO}), simulated as fast as the pipeline goes`, () => {
  test('the model injects the four faults the demo describes, and every line was stored', () => {
    expect(model.faults.map((f) => f.kind).sort()).toEqual(['auth-storm', 'link-flap', 'new-event', 'port-scan']);
    expect(storedLines).toBe(config.count);
  });

  test('every window is ranked exactly, with nothing dropped as late (so the rankings below are deterministic)', () => {
    const bad = rankings.filter((r) => !r.exact || r.late !== 0).map((r) => `${r.dimension} from ${iso(r.windowStart)}: exact ${r.exact}, late ${r.late}`);
    expect(bad).toEqual([]);
    expect(new Set(rankings.map((r) => r.dimension))).toEqual(new Set(['severity', 'event', 'source', 'destination', 'port']));
  });

  test('link-flap: a link-flap alert keyed by the flapping device within one window of the start', () => {
    const f = faultOf('link-flap');
    const hit = alerts.filter((a) => a.strategy === 'link-flap' && a.key === f.device.name && withinOneWindow(f, a));
    expect(hit, `expected link-flap ${f.device.name} from ${iso(startOf(f))}; alerts:\n${describeAlerts()}`).toHaveLength(1);
  });

  // Link events carry no address: the `event` dimension [host, srcIp, dstIp, eventType] counts
  // them with '-' for the missing parts.
  test("link-flap: the flapping device's link events are in the window's `event` Top-N", () => {
    const f = faultOf('link-flap');
    const r = rankingOf('event', windowOf(startOf(f)));
    const linked = r.ranking.filter((e) => e.key.startsWith(`${f.device.name} |`) && f.eventTypes.some((t) => e.key.endsWith(`| ${t}`)));
    expect(linked.length, `event Top-N from ${iso(r.windowStart)}: ${showRanking(r)}`).toBeGreaterThan(0);
  });

  test('port-scan: a port-scan alert keyed by the scanner, which leads the window’s source and event Top-N', () => {
    const f = faultOf('port-scan');
    const scanner = f.sources[0]!;
    const hit = alerts.filter((a) => a.strategy === 'port-scan' && a.key === scanner && withinOneWindow(f, a));
    expect(hit, `expected port-scan ${scanner} from ${iso(startOf(f))}; alerts:\n${describeAlerts()}`).toHaveLength(1);
    const source = rankingOf('source', windowOf(startOf(f)));
    expect(source.ranking[0]?.key, `source Top-N from ${iso(source.windowStart)}: ${showRanking(source)}`).toBe(scanner);
    // The event ranking leads with (firewall, scanner, a scanned host, the deny event).
    const event = rankingOf('event', windowOf(startOf(f)));
    const [device, src, dst, type] = (event.ranking[0]?.key ?? '').split(' | ');
    expect({ device, src, type }, `event Top-N from ${iso(event.windowStart)}: ${showRanking(event)}`).toEqual({
      device: f.device.name,
      src: scanner,
      type: f.eventTypes[0],
    });
    expect(f.targets).toContain(dst);
  });

  test('auth-storm: an auth alert per attacker (or for the device) within one window, and the attackers lead the source Top-N', () => {
    const f = faultOf('auth-storm');
    const auth = alerts.filter((a) => /auth-storm/.test(a.strategy) && withinOneWindow(f, a));
    const keys = new Set(auth.map((a) => a.key));
    const explained = keys.has(f.device.name) || f.sources.every((s) => keys.has(s));
    expect(
      explained,
      `expected an auth alert for ${f.device.name} or each of ${f.sources.join(', ')} from ${iso(startOf(f))}; alerts:\n${describeAlerts()}`,
    ).toBe(true);
    const source = rankingOf('source', windowOf(startOf(f)));
    const top = source.ranking.slice(0, f.sources.length).map((e) => e.key);
    expect(new Set(top), `source Top-N from ${iso(source.windowStart)}: ${showRanking(source)}`).toEqual(new Set(f.sources));
  });

  test('new-event: critical-burst names the new event type on its device (or new-behaviour names the device) within one window', () => {
    const f = faultOf('new-event');
    const critical = alerts.filter(
      (a) => a.strategy === 'critical-burst' && f.eventTypes.some((t) => a.key === `${f.device.name}|${t}`) && withinOneWindow(f, a),
    );
    const behaviour = alerts.filter(
      (a) => a.strategy === 'new-behaviour' && a.key === f.device.name && a.time >= startOf(f) && a.time <= windowOf(startOf(f)) + 2 * WINDOW,
    );
    expect(
      critical.length + behaviour.length,
      `expected critical-burst ${f.device.name}|${f.eventTypes.join('/')} from ${iso(startOf(f))}; alerts:\n${describeAlerts()}`,
    ).toBeGreaterThan(0);
    expect(f.eventTypes).toContain('PLATFORM-PS_FAIL');
  });

  test('no false alarms: every alert is explained by a fault, in time (from its start to a window after its end) and key', () => {
    const unexplained = alerts.filter((a) => !model.faults.some((f) => a.time >= startOf(f) && a.time <= endOf(f) + WINDOW && keysOf(f).has(a.key)));
    expect(describeAlerts(unexplained)).toBe('(no alerts)');
    // The run covered the load steps after the last fault: windows were ranked until the end.
    const lastFaultEnd = Math.max(...model.faults.map(endOf));
    expect(Math.max(...rankings.map((r) => r.windowEnd))).toBeGreaterThan(lastFaultEnd + WINDOW);
  });
});
