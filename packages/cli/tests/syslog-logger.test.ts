/**
 * Real syslog clients into the storage half of the pipeline: util-linux `logger` sends RFC 3164
 * over UDP and RFC 5424 with octet counting over TCP, every severity several times, to two
 * `syslog` spouts -> syslog-parse -> priority-route -> a `postgres` sink (the test server, a
 * schema of its own per run, dropped after) and a `severity-files` sink. Both must hold exactly
 * the messages sent, by severity, with the host, app, procid and facility the clients set.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FACILITY_NAMES, SEVERITY_NAMES } from '@qitian/netops';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { connectPostgres, jsonLines, lineCount, load, logger, PG, problems, requireLogger, start, tempDir, waitFor, writeTopology } from './syslog-kit.js';

/** Messages per severity and protocol. */
const PER_SEVERITY = 5;
const RUN = randomBytes(4).toString('hex');
const SCHEMA = `qitian_e2e_${RUN}`;
const TABLE = 'syslog';

/** One facility per severity, different for each protocol, so that facility and severity are not confused. */
const FACILITIES = ['local7', 'user', 'mail', 'daemon', 'auth', 'local0', 'local3', 'cron'] as const;

interface Client {
  protocol: 'udp' | 'tcp';
  app: string;
  procid: string;
  /** The HOSTNAME logger writes: the short host name in RFC 3164, gethostname() in RFC 5424. */
  host: string;
  format: 'rfc3164' | 'rfc5424';
  msgid: string | null;
  facility: (severity: number) => (typeof FACILITIES)[number];
  args: (port: number, severity: number) => string[];
}

const CLIENTS: readonly Client[] = [
  {
    protocol: 'udp',
    app: 'qitian-e2e-udp',
    procid: '4242',
    host: hostname().split('.')[0]!,
    format: 'rfc3164',
    msgid: null,
    facility: (s) => FACILITIES[s]!,
    args(port, s) {
      return [
        '--udp',
        '--rfc3164',
        '-n',
        '127.0.0.1',
        '-P',
        String(port),
        '-p',
        `${this.facility(s)}.${SEVERITY_NAMES[s]}`,
        '-t',
        this.app,
        `--id=${this.procid}`,
      ];
    },
  },
  {
    protocol: 'tcp',
    app: 'qitian-e2e-tcp',
    procid: '4343',
    host: hostname(),
    format: 'rfc5424',
    msgid: 'E2E',
    facility: (s) => FACILITIES[(s + 3) % 8]!,
    args(port, s) {
      return [
        '--tcp',
        '--octet-count',
        '--rfc5424',
        '-n',
        '127.0.0.1',
        '-P',
        String(port),
        '-p',
        `${this.facility(s)}.${SEVERITY_NAMES[s]}`,
        '-t',
        this.app,
        `--id=${this.procid}`,
        '--msgid',
        this.msgid!,
      ];
    },
  },
];

/** The bodies a client sends at a severity: unique per run, with a space and punctuation in them. */
function bodies(c: Client, severity: number): string[] {
  return Array.from({ length: PER_SEVERITY }, (_, i) => `e2e ${RUN} ${c.protocol} ${SEVERITY_NAMES[severity]} #${i}: link Gi1/0/${i} state=up`);
}

/** What a row or stored line of an event holds, as compared here. */
interface Stored {
  host: string;
  facility: number;
  severity: number;
  app: string;
  procid: string;
  msgid: string | null;
  message: string;
  format: string;
  peer: string;
}

function expected(severity: number): Stored[] {
  return CLIENTS.flatMap((c) =>
    bodies(c, severity).map((message) => ({
      host: c.host,
      facility: FACILITY_NAMES.indexOf(c.facility(severity)),
      severity,
      app: c.app,
      procid: c.procid,
      msgid: c.msgid,
      message,
      format: c.format,
      peer: '127.0.0.1',
    })),
  );
}

const byMessage = (a: Stored, b: Stored) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);
const TOTAL = CLIENTS.length * SEVERITY_NAMES.length * PER_SEVERITY;

let admin: pg.Client;

beforeAll(async () => {
  requireLogger();
  admin = await connectPostgres();
});

afterAll(async () => {
  await admin?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
  await admin?.end();
});

/** Rows per severity table; 0 for a table not created yet. */
async function rowCounts(): Promise<number[]> {
  const counts: number[] = [];
  for (const name of SEVERITY_NAMES) {
    const n = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.${TABLE}_${name}`).then(
      (r) => Number(r.rows[0]!.n),
      () => 0,
    );
    counts.push(n);
  }
  return counts;
}

describe('logger (util-linux) -> syslog spouts -> parse -> priority-route -> postgres + severity-files', () => {
  test(`${TOTAL} messages over UDP (RFC 3164) and TCP (RFC 5424, octet counting) are stored exactly, by severity`, async () => {
    const dir = tempDir();
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const files = join(dir, 'by-severity');
    const file = await writeTopology(dir, 'logger.yaml', {
      name: 'syslog-e2e-logger',
      spouts: [
        { id: 'udp', type: 'syslog', config: { protocol: 'udp', host: '127.0.0.1', port: 0 } },
        { id: 'tcp', type: 'syslog', config: { protocol: 'tcp', host: '127.0.0.1', port: 0 } },
      ],
      bolts: [
        { id: 'parse', type: 'syslog-parse' },
        // The eight severity streams feed the database; the group `all` the files.
        { id: 'route', type: 'priority-route', config: { groups: { all: [...SEVERITY_NAMES] } } },
      ],
      sinks: [
        { id: 'db', type: 'postgres', config: { ...PG, schema: SCHEMA, table: TABLE, linger: '50ms' } },
        { id: 'files', type: 'severity-files', config: { dir: files, flushInterval: '50ms' } },
      ],
      streams: [
        { from: 'udp', to: 'parse', grouping: { type: 'shuffle' } },
        { from: 'tcp', to: 'parse', grouping: { type: 'shuffle' } },
        { from: 'parse', to: 'route', grouping: { type: 'shuffle' } },
        ...SEVERITY_NAMES.map((s) => ({ from: 'route', to: 'db', grouping: { type: 'shuffle', stream: s } })),
        { from: 'route', to: 'files', grouping: { type: 'shuffle', stream: 'all' } },
      ],
    });
    const { engine, logs } = await start(await load(file));
    let stopped = false;
    try {
      // Port 0: each spout logs the port it bound.
      const portOf = (protocol: string) => logs.find((l) => l.msg.startsWith(`syslog spout: listening on ${protocol} `))?.fields?.port as number | undefined;
      await waitFor(
        'both syslog spouts to listen',
        () => portOf('udp') !== undefined && portOf('tcp') !== undefined,
        20_000,
        () => problems(logs),
      );

      // One logger per protocol and severity; each line of its stdin is a message.
      for (const c of CLIENTS) for (let s = 0; s < 8; s++) await logger(c.args(portOf(c.protocol)!, s), bodies(c, s));

      const fileTotal = () => SEVERITY_NAMES.reduce((n, s) => n + lineCount(join(files, `syslog-${s}.jsonl`)), 0);
      await waitFor(
        `${TOTAL} rows in ${SCHEMA}.${TABLE}_* and ${TOTAL} lines in ${files}`,
        async () => (await rowCounts()).reduce((a, b) => a + b, 0) >= TOTAL && fileTotal() >= TOTAL,
        20_000,
        async () => `rows per severity ${JSON.stringify(await rowCounts())}, file lines ${fileTotal()}\n${problems(logs)}`,
      );
      const summary = await engine.stop();
      stopped = true;
      expect(summary.reason, summary.error?.message).toBe('stopped');
    } finally {
      if (!stopped) await engine.stop();
    }

    expect(await rowCounts()).toEqual(SEVERITY_NAMES.map(() => 2 * PER_SEVERITY));
    for (let s = 0; s < 8; s++) {
      const want = expected(s).sort(byMessage);
      const { rows } = await admin.query<Stored>(
        `SELECT host, facility, severity, app, procid, msgid, message, format, split_part(peer, ':', 1) AS peer FROM ${SCHEMA}.${TABLE}_${SEVERITY_NAMES[s]}`,
      );
      expect(rows.sort(byMessage), `table ${TABLE}_${SEVERITY_NAMES[s]}`).toEqual(want);

      const lines = jsonLines<Stored>(join(files, `syslog-${SEVERITY_NAMES[s]}.jsonl`));
      const got = lines.map((l) => ({
        host: l.host,
        facility: l.facility,
        severity: l.severity,
        app: l.app,
        procid: l.procid,
        msgid: l.msgid,
        message: l.message,
        format: l.format,
        peer: l.peer.split(':')[0]!,
      }));
      expect(got.sort(byMessage), `file syslog-${SEVERITY_NAMES[s]}.jsonl`).toEqual(want);
    }

    // RFC 5424 carries logger's timeQuality structured data and a full timestamp.
    const { rows } = await admin.query<{ structured: Record<string, unknown> | null; time: Date }>(
      `SELECT structured, time FROM ${SCHEMA}.${TABLE}_err WHERE format = 'rfc5424'`,
    );
    expect(rows).toHaveLength(PER_SEVERITY);
    for (const r of rows) {
      expect(r.structured).toHaveProperty('timeQuality');
      expect(Math.abs(r.time.getTime() - Date.now())).toBeLessThan(120_000);
    }
  });
});
