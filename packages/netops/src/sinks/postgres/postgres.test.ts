/**
 * The postgres sink against the real server at 127.0.0.1:5432 (database `test`, trust auth),
 * in a schema of its own per run, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { validateConfig } from '@qitian/api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EVENT, EVENT_FIELDS, SEVERITY_NAMES } from '../../syslog/event.js';
import { configFor, FakeTopologyContext, prepareBolt, RecordingOutputCollector, TestTuple, until } from '../../testkit.js';
import { describeTarget, PostgresSink, PostgresSinkConfigError, PostgresSinkError, postgresSink } from './index.js';

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const schema = `qitian_test_${randomBytes(4).toString('hex')}`;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ ...PG, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`these tests need PostgreSQL at ${PG.host}:${PG.port}, database ${PG.database}, user ${PG.user} (trust auth): ${(err as Error).message}`, {
      cause: err,
    });
  }
  await admin.query(`CREATE SCHEMA ${schema}`);
});

afterAll(async () => {
  await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await admin?.end();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function event(severity: unknown, n = 0, over: Partial<Record<(typeof EVENT_FIELDS)[number], unknown>> = {}): TestTuple {
  const values: unknown[] = EVENT_FIELDS.map(() => null);
  values[EVENT.time] = 1_700_000_000_000 + n;
  values[EVENT.host] = `r${n % 5}`;
  values[EVENT.facility] = 23;
  values[EVENT.severity] = severity;
  values[EVENT.message] = `event ${n}`;
  values[EVENT.format] = 'rfc3164';
  values[EVENT.parsed] = true;
  values[EVENT.raw] = `<${184 + Number(severity)}>event ${n}`;
  for (const [k, v] of Object.entries(over)) values[EVENT[k as keyof typeof EVENT]] = v;
  return new TestTuple(EVENT_FIELDS, values, 'default', 'parse');
}

/** n events, severity i of them repeating a skewed pattern; returns them and the count per severity. */
function events(n: number): { batch: TestTuple[]; expected: number[] } {
  const pattern = [6, 6, 6, 5, 6, 4, 3, 6, 7, 6, 2, 5, 1, 6, 0, 6, 3];
  const expected = new Array<number>(8).fill(0);
  const batch: TestTuple[] = [];
  for (let i = 0; i < n; i++) {
    const s = pattern[i % pattern.length]!;
    expected[s]!++;
    batch.push(event(s, i));
  }
  return { batch, expected };
}

async function countsOf(table: string): Promise<number[]> {
  const out: number[] = [];
  for (let s = 0; s < 8; s++) {
    const r = await admin.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE severity <> $1)::int AS wrong FROM ${schema}.${table}_${SEVERITY_NAMES[s]}`,
      [s],
    );
    expect(r.rows[0].wrong).toBe(0);
    out.push(r.rows[0].n);
  }
  return out;
}

/** Feeds tuples in executor-sized batches, awaiting held writes as an executor would. */
async function feed(bolt: { executeBatch?(t: readonly TestTuple[]): void | Promise<void> }, all: TestTuple[], per = 300): Promise<void> {
  for (let i = 0; i < all.length; i += per) await bolt.executeBatch!(all.slice(i, i + per));
}

describe('postgres sink', () => {
  it('is a sink that acks by itself, once a batch has committed', () => {
    expect(postgresSink.kind).toBe('sink');
    expect(postgresSink.autoAck).toBe(false);
  });

  it('layout tables: creates a table per severity and stores each event in its severity table, exactly', async () => {
    const h = await prepareBolt(postgresSink, { ...PG, schema, table: 'by_table', batchSize: 128 });
    const { batch, expected } = events(2000);
    await feed(h.bolt, batch);
    await h.bolt.finish!();
    expect(h.collector.acked).toHaveLength(batch.length);
    expect(h.collector.failed).toEqual([]);
    expect(await countsOf('by_table')).toEqual(expected);
    for (let s = 0; s < 8; s++) expect(h.context.counted('stored', SEVERITY_NAMES[s])).toBe(expected[s]);
    await h.bolt.cleanup!();
    // A second start finds the tables there, and adds to them.
    const again = await prepareBolt(postgresSink, { ...PG, schema, table: 'by_table' });
    await again.bolt.executeBatch!([event(0, 1)]);
    await again.bolt.cleanup!();
    expect((await countsOf('by_table'))[0]).toBe(expected[0]! + 1);
  });

  it('layout partitioned: one table LIST-partitioned by severity, each row in its partition', async () => {
    const h = await prepareBolt(postgresSink, {
      url: `postgres://postgres@127.0.0.1:5432/test`,
      schema,
      table: 'by_part',
      layout: 'partitioned',
      batchSize: 500,
    });
    const { batch, expected } = events(3000);
    await feed(h.bolt, batch, 700);
    await h.bolt.cleanup!();
    expect(h.collector.acked).toHaveLength(batch.length);
    const kind = await admin.query(
      `SELECT c.relkind, pg_get_partkeydef(c.oid) AS key FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'by_part'`,
      [schema],
    );
    expect(kind.rows).toEqual([{ relkind: 'p', key: 'LIST (severity)' }]);
    const parts = await admin.query(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '${schema}.by_part'::regclass ORDER BY 1`,
    );
    expect(parts.rows).toEqual(
      SEVERITY_NAMES.map((name, s) => ({ name: `by_part_${name}`, bound: `FOR VALUES IN ('${s}')` })).sort((a, b) => a.name.localeCompare(b.name)),
    );
    const routed = await admin.query(`SELECT tableoid::regclass::text AS part, severity, count(*)::int AS n FROM ${schema}.by_part GROUP BY 1, 2 ORDER BY 2`);
    expect(routed.rows).toEqual(SEVERITY_NAMES.map((name, s) => ({ part: `${schema}.by_part_${name}`, severity: s, n: expected[s] })).filter((r) => r.n > 0));
    expect(await countsOf('by_part')).toEqual(expected);
  });

  it('stores every field in a column of a fitting type; what a column cannot hold becomes null', async () => {
    const h = await prepareBolt(postgresSink, { ...PG, schema, table: 'typed' });
    await h.bolt.executeBatch!([
      event(3, 1, {
        time: 1_700_000_000_123,
        app: 'sshd',
        procid: '42',
        eventType: 'LINK-UPDOWN',
        srcIp: '10.1.2.3',
        dstIp: '2001:db8::1',
        srcPort: 51234,
        dstPort: 22,
        structured: { origin: { ip: '10.0.0.1', nul: 'a\u0000b' } },
        vendor: 'cisco',
        peer: '10.0.0.9:514',
        message: 'with a \u0000 inside',
      }),
      event(3, 2, { srcIp: 'not-an-ip', dstIp: '10.0.0.256', srcPort: 70000, dstPort: -1, facility: 'x', parsed: 'yes', time: 'soon', structured: 'text' }),
      event(3, 3, { time: 1e300, structured: { bad: 'lone \ud800 surrogate' } }),
    ]);
    await h.bolt.cleanup!();
    const r = await admin.query(
      `SELECT extract(epoch FROM time) * 1000 AS ms, host, facility, severity, app, procid, event_type, host(src_ip) AS src, host(dst_ip) AS dst,
              src_port, dst_port, message, structured, structured->'origin'->>'ip' AS origin, vendor, format, parsed, raw, peer,
              pg_typeof(time)::text AS t_time, pg_typeof(src_ip)::text AS t_ip, pg_typeof(structured)::text AS t_sd, pg_typeof(facility)::text AS t_fac
       FROM ${schema}.typed_err ORDER BY message`,
    );
    expect(r.rows[0]).toMatchObject({
      message: 'event 2',
      src: null,
      dst: null,
      src_port: null,
      dst_port: null,
      facility: null,
      parsed: null,
      structured: 'text',
    });
    expect(Math.abs(Date.now() - Number(r.rows[0].ms))).toBeLessThan(60_000); // no usable time: now
    expect(r.rows[1]).toMatchObject({ message: 'event 3', structured: { bad: 'lone \uFFFD surrogate' } });
    expect(Math.abs(Date.now() - Number(r.rows[1].ms))).toBeLessThan(60_000);
    r.rows.splice(1, 1);
    expect(r.rows[1]).toEqual({
      ms: '1700000000123.000000',
      host: 'r1',
      facility: 23,
      severity: 3,
      app: 'sshd',
      procid: '42',
      event_type: 'LINK-UPDOWN',
      src: '10.1.2.3',
      dst: '2001:db8::1',
      src_port: 51234,
      dst_port: 22,
      message: 'with a \uFFFD inside',
      structured: { origin: { ip: '10.0.0.1', nul: 'a\uFFFDb' } },
      origin: '10.0.0.1',
      vendor: 'cisco',
      format: 'rfc3164',
      parsed: true,
      raw: '<187>event 1',
      peer: '10.0.0.9:514',
      t_time: 'timestamp with time zone',
      t_ip: 'inet',
      t_sd: 'jsonb',
      t_fac: 'smallint',
    });
    expect(h.context.counted('errors', 'nul_replaced')).toBe(2);
  });

  it('keeps the milliseconds of time, and microseconds of a fraction of a ms (as an RFC 5424 .123456 would need)', async () => {
    const h = await prepareBolt(postgresSink, { ...PG, schema, table: 'times' });
    const T = Date.UTC(2026, 11, 3, 10, 0, 0);
    const times = [T + 123, T + 999, T + 1, T + 123.456, -1];
    await h.bolt.executeBatch!(times.map((time, i) => event(6, i, { time })));
    await h.bolt.cleanup!();
    const r = await admin.query(`SELECT to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS t FROM ${schema}.times_info ORDER BY message`);
    expect(r.rows.map((row) => row.t)).toEqual([
      '2026-12-03T10:00:00.123000',
      '2026-12-03T10:00:00.999000',
      '2026-12-03T10:00:00.001000',
      '2026-12-03T10:00:00.123456',
      '1969-12-31T23:59:59.999000',
    ]);
  });

  it('writes a partial batch after linger, and acks events without a severity unstored', async () => {
    const h = await prepareBolt(postgresSink, { ...PG, schema, table: 'linger', linger: '30ms' });
    const good = [event(1, 1), event(1, 2)];
    const bad = [event(null, 3), event(8, 4)];
    await h.bolt.executeBatch!([...good, ...bad]);
    expect(h.collector.acked).toEqual(bad);
    expect(h.context.counted('errors', 'no_severity')).toBe(2);
    await until('the lingering batch', () => h.collector.acked.length === 4);
    expect((await countsOf('linger'))[1]).toBe(2);
    await h.bolt.cleanup!();
  });

  it('told that the run is draining, writes held rows at once, and later ones without waiting for linger', async () => {
    const h = await prepareBolt(postgresSink, { ...PG, schema, table: 'draining', linger: '1h' });
    const held = [event(1, 1), event(2, 2)];
    await h.bolt.executeBatch!(held);
    await sleep(50);
    expect(h.collector.acked).toEqual([]);
    h.bolt.drain!();
    await until('the held rows', () => h.collector.acked.length === 2, 5000);
    // In flight when the drain began: not held for the hour either.
    await h.bolt.executeBatch!([event(3, 3)]);
    await until('the later row', () => h.collector.acked.length === 3, 5000);
    const counts = await countsOf('draining');
    expect([counts[1], counts[2], counts[3]]).toEqual([1, 1, 1]);
    await h.bolt.cleanup!();
  });

  it('by default writes a partial batch as soon as no INSERT runs, and what comes meanwhile in the next', async () => {
    const h = await prepareBolt(postgresSink, { ...PG, schema, table: 'groupcommit' });
    const first = [event(1, 1), event(2, 2)];
    await h.bolt.executeBatch!(first);
    // No timer: the rows and their acks go after this turn (a spout at maxSpoutPending waits for them).
    await until('the first rows', () => h.collector.acked.length === 2, 2000);
    const second = Array.from({ length: 5 }, (_, i) => event(3, 10 + i));
    await h.bolt.executeBatch!(second);
    await until('the next rows', () => h.collector.acked.length === 7, 2000);
    const counts = await countsOf('groupcommit');
    expect([counts[1], counts[2], counts[3]]).toEqual([1, 1, 5]);
    await h.bolt.cleanup!();
  });

  it('with createTables, makes a table dropped under it again and writes the batch; the rows are all there', async () => {
    const h = await prepareBolt(postgresSink, { ...PG, schema, table: 'redone', batchSize: 10 });
    await h.bolt.executeBatch!(Array.from({ length: 10 }, (_, i) => event(i % 8, i)));
    await admin.query(`DROP TABLE ${schema}.redone_info`);
    const second = Array.from({ length: 10 }, (_, i) => event(6, 100 + i));
    await h.bolt.executeBatch!(second);
    expect(h.collector.failed).toEqual([]);
    expect(h.collector.acked).toHaveLength(20);
    expect(h.context.counted('tables_recreated')).toBe(1);
    expect(h.context.logger.records.some((r) => r.level === 'warn' && /was missing .*created it again/.test(r.msg))).toBe(true);
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${schema}.redone_info`)).rows[0].n).toBe(10);
    await h.bolt.cleanup!();
  });

  it('without createTables, fails the tuples of a batch that does not commit (its table was dropped), acks none of them, and waits before the next', async () => {
    const made = await prepareBolt(postgresSink, { ...PG, schema, table: 'dropped', batchSize: 10 });
    await made.bolt.cleanup!();
    const h = await prepareBolt(postgresSink, { ...PG, schema, table: 'dropped', batchSize: 10, createTables: false });
    const first = Array.from({ length: 10 }, (_, i) => event(i % 8, i));
    await h.bolt.executeBatch!(first);
    expect(h.collector.acked).toHaveLength(10);
    await admin.query(`DROP TABLE ${schema}.dropped_info`);
    const second = Array.from({ length: 10 }, (_, i) => event(i % 8, 100 + i));
    await h.bolt.executeBatch!(second);
    expect(h.collector.acked).toEqual(first);
    expect(h.collector.failed).toEqual(second);
    const err = h.collector.errors[0]!.error as PostgresSinkError;
    expect(err).toBeInstanceOf(PostgresSinkError);
    expect(err.code).toBe('42P01');
    expect(err.message).toMatch(/writing 10 rows to "dropped" in 127\.0\.0\.1:5432\/test failed: relation .*dropped_info" does not exist \(SQLSTATE 42P01\)/);
    expect(h.context.counted('failed_batches', 'insert')).toBe(1);
    // Atomic: the other severities of the failed batch were not stored either.
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${schema}.dropped_emerg`)).rows[0].n).toBe(2);
    // The replayed rows would fail the same way at once: the next write waits, longer each time.
    const t0 = performance.now();
    await h.bolt.executeBatch!(Array.from({ length: 10 }, (_, i) => event(i % 8, 200 + i)));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
    expect(h.context.counted('failed_batches', 'insert')).toBe(2);
    await h.bolt.cleanup!();
  });

  it('will not start over a table that lacks columns it writes, and names them', async () => {
    await admin.query(`CREATE TABLE ${schema}.thin_info (time timestamptz NOT NULL, severity smallint, message text)`);
    const err = await prepareBolt(postgresSink, { ...PG, schema, table: 'thin' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresSinkError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `the tables of "${schema}\\.thin" in 127\\.0\\.0\\.1:5432/test lack columns the sink writes: "${schema}\\.thin_info" has no column host, facility,`,
      ),
    );
    // Nothing was created beside it.
    expect((await admin.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'thin_%'`, [schema])).rows[0].n).toBe(1);
  });

  it('an insert-only user starts over tables already there (nothing to create), and is told what to do when they are not', async () => {
    const role = `qitian_ins_${randomBytes(3).toString('hex')}`;
    await admin.query(`CREATE ROLE ${role} LOGIN`);
    try {
      await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
      const made = await prepareBolt(postgresSink, { ...PG, schema, table: 'granted', layout: 'partitioned' });
      await made.bolt.cleanup!();
      await admin.query(`GRANT INSERT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
      const h = await prepareBolt(postgresSink, { ...PG, user: role, schema, table: 'granted', layout: 'partitioned', batchSize: 3 });
      await h.bolt.executeBatch!([event(3, 1), event(6, 2), event(0, 3)]);
      expect(h.collector.acked).toHaveLength(3);
      await h.bolt.cleanup!();
      const refused = await prepareBolt(postgresSink, { ...PG, user: role, schema, table: 'notyet' }).catch((e: unknown) => e);
      expect((refused as Error).message).toMatch(
        /permission denied for (schema|database) .*; a user that may only insert needs the tables made beforehand .* or createTables: false/,
      );
    } finally {
      await admin.query(`DROP OWNED BY ${role}`).catch(() => undefined);
      await admin.query(`DROP ROLE ${role}`).catch(() => undefined);
    }
  });

  it('a row the server refuses (a constraint) is isolated: the rest of its batch is stored, it is counted and not replayed', async () => {
    const h = await prepareBolt(postgresSink, { ...PG, schema, table: 'poison', layout: 'partitioned', batchSize: 20 });
    await admin.query(`ALTER TABLE ${schema}.poison ADD CONSTRAINT no_seven CHECK (message <> 'event 7')`);
    const batch = Array.from({ length: 20 }, (_, i) => event(6, i));
    await h.bolt.executeBatch!(batch);
    expect(h.collector.acked).toHaveLength(20);
    expect(h.collector.failed).toEqual([]);
    const rows = await admin.query(`SELECT message FROM ${schema}.poison ORDER BY time`);
    expect(rows.rows.map((r) => r.message)).toEqual(Array.from({ length: 20 }, (_, i) => `event ${i}`).filter((m) => m !== 'event 7'));
    expect(h.context.counted('errors', 'rejected')).toBe(1);
    expect(h.context.counted('stored', 'info')).toBe(19);
    expect(h.context.logger.records.filter((r) => r.msg.includes('the server refused a row of "poison"'))).toHaveLength(1);
    expect(h.context.logger.records.find((r) => r.msg.includes('refused'))!.msg).toContain('no_seven');
    await h.bolt.cleanup!();
  });

  it('an INSERT blocked longer than writeTimeout (a locked table) is cancelled by the server: its batch fails, nothing of it commits later', async () => {
    const h = await prepareBolt(postgresSink, { ...PG, schema, table: 'locked', layout: 'partitioned', batchSize: 10, writeTimeout: '300ms' });
    const locker = new pg.Client(PG);
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${schema}.locked IN ACCESS EXCLUSIVE MODE`);
      const t0 = performance.now();
      const batch = Array.from({ length: 10 }, (_, i) => event(6, i));
      await h.bolt.executeBatch!(batch);
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(h.collector.failed).toEqual(batch);
      expect((h.collector.errors[0]!.error as Error).message).toContain('statement timeout');
      await locker.query('COMMIT');
    } finally {
      await locker.end();
    }
    await sleep(200);
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${schema}.locked`)).rows[0].n).toBe(0);
    await h.bolt.cleanup!();
  });

  it('reconnects after the server ended its connection, without losing a batch', async () => {
    const h = await prepareBolt(postgresSink, { ...PG, schema, table: 'terminated' });
    await h.bolt.executeBatch!([event(2, 1)]);
    await h.bolt.finish!();
    const app = `qitian test/under-test[0]`;
    const killed = await admin.query('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1', [app]);
    expect(killed.rows).toEqual([{ ok: true }]);
    await until('the sink to notice', () => h.context.logger.records.some((r) => r.msg.includes('connection lost')));
    await h.bolt.executeBatch!([event(2, 2)]);
    await h.bolt.finish!();
    expect(h.collector.acked).toHaveLength(2);
    expect((await countsOf('terminated'))[2]).toBe(2);
    await h.bolt.cleanup!();
  });

  it('fails the batch in flight when the connection breaks, waits with backoff while the server is away, then writes', async () => {
    const proxy = await TcpProxy.start(PG.port);
    try {
      const h = await prepareBolt(postgresSink, { ...PG, port: proxy.port, schema, table: 'proxied', batchSize: 5, maxBackoff: '200ms' });
      // In flight: the proxy holds the INSERT, then the connection breaks.
      proxy.hold = true;
      const inFlight = Array.from({ length: 5 }, (_, i) => event(5, i));
      const written = h.bolt.executeBatch!(inFlight);
      await until('the INSERT to reach the proxy', () => proxy.held > 0);
      proxy.breakAll();
      await written;
      expect(h.collector.failed).toEqual(inFlight);
      expect(h.context.counted('failed_batches', 'connection')).toBe(1);
      expect((h.collector.errors[0]!.error as Error).message).toContain('the connection was lost');
      // The server is away: the next batch waits, retrying.
      proxy.hold = false;
      await proxy.stop();
      const later = Array.from({ length: 5 }, (_, i) => event(5, 10 + i));
      let done = false;
      const waiting = Promise.resolve(h.bolt.executeBatch!(later)).then(() => {
        done = true;
      });
      await until('failed reconnection attempts', () => h.context.counted('errors', 'connect') >= 2);
      expect(done).toBe(false);
      await proxy.listen();
      await waiting;
      expect(h.collector.acked).toEqual(later);
      expect((await countsOf('proxied'))[5]).toBe(5);
      await h.bolt.cleanup!();
    } finally {
      await proxy.stop();
    }
  });

  it('cleanup does not wait for a server that is away: held tuples fail', async () => {
    const proxy = await TcpProxy.start(PG.port);
    try {
      const h = await prepareBolt(postgresSink, { ...PG, port: proxy.port, schema, table: 'closing', linger: '1h' });
      await proxy.stop();
      await until('the sink to notice', () => h.context.logger.records.some((r) => r.msg.includes('connection lost')));
      const held = [event(0, 1)];
      await h.bolt.executeBatch!(held);
      await h.bolt.cleanup!();
      expect(h.collector.failed).toEqual(held);
      // Nothing replays them now: counted as lost, so that the run does not end as complete.
      expect(h.context.counted('output_lost')).toBe(1);
      expect(h.context.logger.records.some((r) => r.level === 'error' && /1 rows were not written to "closing" .* at the end of the run/.test(r.msg))).toBe(
        true,
      );
    } finally {
      await proxy.stop();
    }
  });

  it('cannot start without the server, and says which one', async () => {
    const err = await prepareBolt(postgresSink, { ...PG, port: 1, table: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresSinkError);
    expect((err as PostgresSinkError).message).toMatch(/^postgres sink: cannot connect to 127\.0\.0\.1:1\/test: .*ECONNREFUSED/);
    expect((err as PostgresSinkError).operation).toBe('connect');
    const missing = await prepareBolt(postgresSink, { ...PG, database: 'no_such_db_qitian', table: 'x' }).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/cannot connect to 127\.0\.0\.1:5432\/no_such_db_qitian: database "no_such_db_qitian" does not exist/);
    // A server that accepts and never answers: the timeout is said as one.
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as { port: number }).port;
      const slow = await prepareBolt(postgresSink, { ...PG, port, table: 'x', connectTimeout: '300ms' }).catch((e: unknown) => e);
      expect((slow as Error).message).toBe(`postgres sink: cannot connect to 127.0.0.1:${port}/test: no answer within 300ms (connectTimeout)`);
    } finally {
      silent.close();
    }
  });

  it('says clearly when the tables cannot be made, e.g. a plain table where a partitioned one is asked for', async () => {
    await admin.query(`CREATE TABLE ${schema}.plain (x int)`);
    const err = await prepareBolt(postgresSink, { ...PG, schema, table: 'plain', layout: 'partitioned' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresSinkError);
    expect((err as Error).message).toMatch(
      /^postgres sink: the tables of "qitian_test_\w+\.plain" in 127\.0\.0\.1:5432\/test do not fit layout partitioned: "qitian_test_\w+\.plain" is a plain table, not partitioned;/,
    );
  });

  /** Names of the relations of `table` (its own and its severities') in the test schema, with their kind. */
  async function relations(table: string): Promise<string[]> {
    const r = await admin.query(
      `SELECT c.relname || ':' || c.relkind::text AS r FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = ANY($2) ORDER BY 1`,
      [schema, [table, ...SEVERITY_NAMES.map((name) => `${table}_${name}`)]],
    );
    return r.rows.map((row: { r: string }) => row.r);
  }

  it('will not start layout partitioned over the tables of layout tables, says what to do, and creates nothing', async () => {
    const first = await prepareBolt(postgresSink, { ...PG, schema, table: 'nu_syslog' });
    await first.bolt.cleanup!();
    const before = await relations('nu_syslog');
    for (const createTables of [true, false]) {
      const err = await prepareBolt(postgresSink, { ...PG, schema, table: 'nu_syslog', layout: 'partitioned', createTables }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PostgresSinkError);
      expect((err as PostgresSinkError).operation).toBe('layout');
      expect((err as Error).message).toBe(
        `postgres sink: the tables of "${schema}.nu_syslog" in 127.0.0.1:5432/test do not fit layout partitioned: "${schema}.nu_syslog_emerg" ` +
          `is a plain table, not a partition of "${schema}.nu_syslog" (and 7 more do not fit); drop or rename the existing tables, ` +
          'or use layout: tables',
      );
    }
    // The partitioned parent was not left behind.
    expect(await relations('nu_syslog')).toEqual(before);
  });

  it('will not start layout tables over the partitions of layout partitioned', async () => {
    const first = await prepareBolt(postgresSink, { ...PG, schema, table: 'was_part', layout: 'partitioned' });
    await first.bolt.cleanup!();
    const err = await prepareBolt(postgresSink, { ...PG, schema, table: 'was_part' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresSinkError);
    expect((err as PostgresSinkError).operation).toBe('layout');
    expect((err as Error).message).toBe(
      `postgres sink: the tables of "${schema}.was_part" in 127.0.0.1:5432/test do not fit layout tables: "${schema}.was_part_emerg" ` +
        `is a partition of "${schema}.was_part", not a table of its own (and 7 more do not fit); drop or rename the existing tables, ` +
        'or use layout: partitioned',
    );
  });

  it('starts layout partitioned over some of its partitions, and creates the missing ones', async () => {
    const first = await prepareBolt(postgresSink, { ...PG, schema, table: 'part_again', layout: 'partitioned' });
    await first.bolt.cleanup!();
    await admin.query(`DROP TABLE ${schema}.part_again_debug`);
    const again = await prepareBolt(postgresSink, { ...PG, schema, table: 'part_again', layout: 'partitioned' });
    await again.bolt.executeBatch!([event(7, 1), event(0, 2)]);
    await again.bolt.cleanup!();
    expect(again.collector.acked).toHaveLength(2);
    expect(await countsOf('part_again')).toEqual([1, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('rejects table names PostgreSQL would truncate, and never shows a password', () => {
    // Validation says so first (below); the sink checks again for code that builds its config directly.
    expect(() => new PostgresSink({ ...configFor(postgresSink, { table: 't' }), table: 'x'.repeat(49) })).toThrow(PostgresSinkConfigError);
    expect(describeTarget(configFor(postgresSink, { url: 'postgres://u:secret@db.example.net:6432/netops', table: 't' }))).toBe('db.example.net:6432/netops');
    expect(describeTarget(configFor(postgresSink, { table: 't' }))).toBe('127.0.0.1:5432/postgres');
  });

  it('parallel tasks starting together create the tables once, without racing', async () => {
    const config = configFor(postgresSink, { ...PG, schema, table: 'raced', layout: 'partitioned' });
    const sinks = Array.from({ length: 4 }, () => new PostgresSink(config));
    await Promise.all(sinks.map((s, i) => s.prepare(new FakeTopologyContext({ config, taskIndex: i, parallelism: 4 }), new RecordingOutputCollector())));
    await Promise.all(sinks.map((s) => s.cleanup()));
    expect(await countsOf('raced')).toEqual(new Array(8).fill(0));
  });
});

/** A TCP proxy to the server that a test can stop, restart on the same port, hold or break. */
class TcpProxy {
  hold = false;
  held = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  private constructor(private readonly target: number) {}

  static async start(target: number): Promise<TcpProxy> {
    const p = new TcpProxy(target);
    await p.listen();
    return p;
  }

  listen(): Promise<void> {
    const server = createServer((client) => {
      const server = connect(this.target, '127.0.0.1');
      this.track(client);
      this.track(server);
      client.on('data', (d: Buffer) => {
        if (this.hold) this.held += d.length;
        else server.write(d);
      });
      server.on('data', (d: Buffer) => client.write(d));
      client.on('close', () => server.destroy());
      server.on('close', () => client.destroy());
      client.on('error', () => undefined);
      server.on('error', () => undefined);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  breakAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.breakAll();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

describe('postgres spec examples', () => {
  it('every example is a valid component entry', () => {
    expect(postgresSink.spec.examples!.length).toBeGreaterThan(0);
    for (const ex of postgresSink.spec.examples!) {
      const entry = parse(ex.yaml) as { type: string; config?: unknown };
      expect(entry.type).toBe('postgres');
      expect(validateConfig(postgresSink.spec.fields, entry.config).issues, ex.title).toEqual([]);
    }
  });
  it('validation rejects a table name longer than 48 bytes in UTF-8 (not only characters)', () => {
    const issues = (table: string) => validateConfig(postgresSink.spec.fields, { table }).issues.map((i) => i.message);
    expect(issues('t'.repeat(48))).toEqual([]);
    expect(issues('t'.repeat(49))).toEqual(['table: must be at most 48 bytes in UTF-8, got 49']);
    // 25 characters, 50 bytes.
    expect(issues('é'.repeat(25))).toEqual(['table: must be at most 48 bytes in UTF-8, got 50']);
  });
});
