import { isIP } from 'node:net';
import { type Bolt, formatDuration, isTick, OUTPUT_LOST, type OutputCollector, type TopologyContext, type Tuple } from '@qitian/api';
import pg from 'pg';
import { LineFormatter } from '../../internal/format.js';
import { GroupCommit } from '../../internal/group-commit.js';
import { SeverityReader } from '../../internal/severity.js';
import { SEVERITY_NAMES } from '../../syslog/event.js';
import { PostgresSinkConfigError, PostgresSinkError } from './errors.js';
import type { PostgresSinkConfig } from './spec.js';
import {
  COLUMNS,
  COLUMNS_SQL,
  createStatements,
  insertStatement,
  type Layout,
  layoutMismatch,
  layoutNames,
  lockStatement,
  MAX_TABLE_BYTES,
  missingColumns,
  RELATIONS_SQL,
  type Relation,
} from './sql.js';

const { Client, DatabaseError } = pg;
type PgClient = InstanceType<typeof Client>;

const FIRST_BACKOFF_MS = 100;
const NCOL = COLUMNS.length;
const C_TIME = 0;
const C_FACILITY = 2;
const C_SEVERITY = 3;
const C_SRC_IP = 8;
const C_DST_IP = 9;
const C_SRC_PORT = 10;
const C_DST_PORT = 11;
const C_STRUCTURED = 13;
const C_PARSED = 16;
const MAX_TIME_MS = 8.64e15;
const LONE_SURROGATE_ESCAPE = /\\ud[89a-f][0-9a-f]{2}/g;

/** `host:port/database` of a config, for messages; never the password. */
export function describeTarget(config: PostgresSinkConfig): string {
  if (config.url !== undefined) {
    try {
      const u = new URL(config.url);
      const host = u.hostname || u.searchParams.get('host') || 'localhost';
      return `${host}:${u.port || '5432'}/${decodeURIComponent(u.pathname.slice(1)) || (u.username ? decodeURIComponent(u.username) : '')}`;
    } catch {
      return 'the server of url (not a valid URL)';
    }
  }
  return `${config.host}:${config.port}/${config.database}`;
}

/** Where the columns of one input stream are: the tuple index of each column's field, -1 when absent. */
interface InputPlan {
  fields: readonly string[];
  indexes: number[];
}

/** A batch: its tuples, and how many of each severity (to count once committed). */
interface Batch {
  readonly tuples: Tuple[];
  readonly bySeverity: number[];
}

/** A row the server refused, and why. */
interface Rejected {
  readonly tuple: Tuple;
  readonly error: InstanceType<typeof DatabaseError>;
}

/**
 * Writes events to PostgreSQL in batches, one INSERT per batch, over one connection per task.
 * Acks a batch's tuples once it has committed; fails them when it did not. Batches are written
 * one at a time, in order: `executeBatch` returns the write's promise when a batch is full, so
 * a slow or absent server holds the topology back through credits.
 */
export class PostgresSink implements Bolt<PostgresSinkConfig> {
  private context!: TopologyContext<PostgresSinkConfig>;
  private collector!: OutputCollector;
  private readonly target: string;
  private readonly layout: Layout;
  private readonly insertSql: string;
  /** SQLSTATEs of refused rows already logged. */
  private readonly rejectedCodes = new Set<string>();
  private readonly severity = new SeverityReader();
  private readonly formatter = new LineFormatter(undefined);
  private plan: InputPlan | undefined;

  private client: PgClient | undefined;
  private connecting: Promise<PgClient | undefined> | undefined;
  private closing = false;
  private wakeBackoff: (() => void) | undefined;
  /** The wait after the last failed insert (0 after a success): doubles up to maxBackoff. */
  private insertDelay = 0;

  private held: Tuple[] = [];
  private heldBySeverity = new Array<number>(8).fill(0);
  private chain: Promise<void> = Promise.resolve();
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;
  private nulReplaced = 0;
  /** Batches go as soon as no INSERT runs: with linger 0, and with any once the run is draining. */
  private readonly commits: GroupCommit;
  /** No spout emits anything new (drain): linger no longer holds rows, or the run would wait for it. */
  private draining = false;
  /** finish() or cleanup() began: a failed batch is no longer replayed, its rows are lost. */
  private ending = false;
  /** Rows not written once ending (counted as OUTPUT_LOST). */
  private unwritten = 0;
  private readonly onLinger = (): void => {
    this.lingerTimer = undefined;
    void this.flush();
  };

  constructor(private readonly config: PostgresSinkConfig) {
    if (Buffer.byteLength(config.table) > MAX_TABLE_BYTES) {
      throw new PostgresSinkConfigError(
        `postgres sink: table "${config.table}" is too long: at most ${MAX_TABLE_BYTES} bytes, so that "<table>_warning_time" fits PostgreSQL's 63-byte names`,
      );
    }
    this.target = describeTarget(config);
    this.layout = config.layout;
    this.insertSql = insertStatement(config.schema, config.table, config.layout);
    this.commits = new GroupCommit(() => void this.flush());
  }

  async prepare(context: TopologyContext<PostgresSinkConfig>, collector: OutputCollector): Promise<void> {
    this.context = context;
    this.collector = collector;
    let client: PgClient;
    const t0 = performance.now();
    try {
      client = await this.connect();
    } catch (err) {
      // pg says "Connection terminated unexpectedly" when it gave up after connectTimeout: say that.
      const timedOut = performance.now() - t0 >= this.config.connectTimeout;
      const why = timedOut ? `no answer within ${formatDuration(this.config.connectTimeout)} (connectTimeout)` : reason(err);
      throw new PostgresSinkError(this.target, 'connect', `postgres sink: cannot connect to ${this.target}: ${why}`, { cause: err });
    }
    const { schema, table, createTables } = this.config;
    let mismatch: string | undefined;
    let lacking: string | undefined;
    try {
      await client.query('BEGIN');
      if (createTables) await client.query(lockStatement(schema, table));
      // Checked before creating: tables of the other layout would be skipped by IF NOT EXISTS, and
      // every batch would then fail. A mismatch rolls back, so nothing is left half made.
      const found = await client.query<Relation>(RELATIONS_SQL, [schema, layoutNames(table)]);
      mismatch = layoutMismatch(found.rows, schema, table, this.layout);
      // Tables made by someone else must have the columns the sink writes, or every batch fails.
      const present = found.rows.map((r) => r.name);
      if (mismatch === undefined && present.length > 0) {
        const columns = await client.query<{ table: string; column: string }>(COLUMNS_SQL, [schema, present]);
        lacking = missingColumns(columns.rows, present, schema);
      }
      // All there: nothing to create, so an insert-only user needs no CREATE right.
      const needed = this.layout === 'partitioned' ? layoutNames(table) : layoutNames(table).slice(1);
      const complete = needed.every((n) => present.includes(n));
      const fits = mismatch === undefined && lacking === undefined;
      if (fits && createTables && !complete) for (const sql of createStatements(schema, table, this.layout)) await client.query(sql);
      await client.query(fits ? 'COMMIT' : 'ROLLBACK');
    } catch (err) {
      await this.abandon(client);
      throw new PostgresSinkError(
        this.target,
        createTables ? 'create' : 'layout',
        `postgres sink: ${createTables ? 'creating' : 'checking'} the ${this.layout} of "${schema}.${table}" in ${this.target} failed: ${reason(err)}` +
          (createTables && err instanceof DatabaseError && err.code === INSUFFICIENT_PRIVILEGE
            ? '; a user that may only insert needs the tables made beforehand (by another user, or a first run as one that may create them), or createTables: false'
            : ''),
        { cause: err },
      );
    }
    if (lacking !== undefined && mismatch === undefined) {
      await this.abandon(client);
      throw new PostgresSinkError(
        this.target,
        'layout',
        `postgres sink: the tables of "${schema}.${table}" in ${this.target} lack columns the sink writes: ${lacking}; add them, or drop the tables so that they are made again`,
      );
    }
    if (mismatch !== undefined) {
      await this.abandon(client);
      const other = this.layout === 'partitioned' ? 'tables' : 'partitioned';
      throw new PostgresSinkError(
        this.target,
        'layout',
        `postgres sink: the tables of "${schema}.${table}" in ${this.target} do not fit layout ${this.layout}: ${mismatch}; ` +
          `drop or rename the existing tables, or use layout: ${other}`,
      );
    }
  }

  /** Closes the connection prepare opened, when the sink cannot start (not a connection loss to report). */
  private async abandon(client: PgClient): Promise<void> {
    this.client = undefined;
    await client.end().catch(() => undefined);
  }

  /** Opens a connection; it becomes the sink's client. Throws on failure. */
  private async connect(): Promise<PgClient> {
    const c = this.config;
    const ctx = this.context;
    const common = {
      connectionTimeoutMillis: c.connectTimeout,
      // The server cancels a statement that runs longer (an INSERT waiting on a locked table), so
      // that its batch fails and is replayed instead of committing after its tuples timed out.
      statement_timeout: c.writeTimeout,
      application_name: `qitian ${ctx.topologyName}/${ctx.componentId}[${ctx.taskIndex}]`.slice(0, 63),
      keepAlive: true,
    };
    const client =
      c.url !== undefined
        ? new Client({ connectionString: c.url, ...common })
        : new Client({ host: c.host, port: c.port, user: c.user, password: c.password, database: c.database, ...common });
    // Without a listener an error event (the server went away while idle) would crash the thread.
    client.on('error', (err: Error) => this.lost(client, err));
    client.on('end', () => this.lost(client, undefined));
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
    return client;
  }

  /** The connection is gone: forget it, so that the next write reconnects. */
  private lost(client: PgClient, err: Error | undefined): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (!this.closing) {
      this.context.logger.warn('postgres sink: connection lost; reconnecting when next needed', { target: this.target, error: err ? reason(err) : 'ended' });
    }
  }

  /** The connection, reconnecting with backoff when there is none; undefined once closing. */
  private connection(): Promise<PgClient | undefined> | PgClient | undefined {
    if (this.client !== undefined) return this.client;
    if (this.closing) return undefined;
    this.connecting ??= this.reconnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async reconnect(): Promise<PgClient | undefined> {
    let delay = FIRST_BACKOFF_MS;
    for (let attempt = 1; !this.closing; attempt++) {
      try {
        const client = await this.connect();
        this.context.logger.info('postgres sink: reconnected', { target: this.target, attempts: attempt });
        return client;
      } catch (err) {
        this.context.count('errors', 1, 'connect');
        if (attempt === 1 || attempt % 10 === 0) {
          this.context.logger.warn('postgres sink: cannot reconnect; retrying', { target: this.target, attempt, error: reason(err), retryInMs: delay });
        }
      }
      if (this.closing) break;
      await this.waitBackoff(delay);
      delay = Math.min(delay * 2, this.config.maxBackoff);
    }
    return undefined;
  }

  execute(tuple: Tuple): void | Promise<void> {
    return this.executeBatch([tuple]);
  }

  executeBatch(tuples: readonly Tuple[]): void | Promise<void> {
    const reader = this.severity;
    const held = this.held;
    const bySeverity = this.heldBySeverity;
    let dropped = 0;
    for (let i = 0; i < tuples.length; i++) {
      const t = tuples[i]!;
      if (isTick(t)) continue;
      const s = reader.of(t);
      if (s < 0) {
        dropped++;
        this.collector.ack(t);
        continue;
      }
      held.push(t);
      bySeverity[s]!++;
    }
    if (dropped > 0) this.context.count('errors', dropped, 'no_severity');
    if (held.length >= this.config.batchSize) return this.flush();
    if (this.groupCommits()) {
      if (held.length > 0) this.commits.held();
    } else if (held.length > 0 && this.lingerTimer === undefined) {
      this.lingerTimer = setTimeout(this.onLinger, this.config.linger);
      this.lingerTimer.unref?.();
    }
  }

  /** Whether a partly filled batch goes as soon as no INSERT runs, rather than after linger. */
  private groupCommits(): boolean {
    return this.config.linger === 0 || this.draining;
  }

  /** The run is ending: what is held goes now, and from now on rows are not held for linger. */
  drain(): void {
    this.draining = true;
    if (this.held.length > 0) void this.flush();
  }

  /** Writes what is held, in batches of batchSize; resolves once every earlier write is done. */
  flush(): Promise<void> {
    if (this.lingerTimer !== undefined) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    const held = this.held;
    if (held.length === 0) return this.chain;
    const size = this.config.batchSize;
    if (held.length <= size) {
      this.enqueue({ tuples: held, bySeverity: this.heldBySeverity });
    } else {
      for (let from = 0; from < held.length; from += size) {
        const tuples = held.slice(from, from + size);
        const bySeverity = new Array<number>(8).fill(0);
        for (const t of tuples) bySeverity[this.severity.of(t)]!++;
        this.enqueue({ tuples, bySeverity });
      }
    }
    this.held = [];
    this.heldBySeverity = new Array<number>(8).fill(0);
    return this.chain;
  }

  private enqueue(batch: Batch): void {
    this.commits.started();
    this.chain = this.chain.then(() => this.write(batch)).then(this.written);
  }

  /** A batch is written or failed: what gathered meanwhile goes next. */
  private readonly written = (): void => {
    this.commits.ended(this.held.length > 0 && this.groupCommits());
  };

  /** Writes one batch, then acks or fails its tuples. Never rejects, so the chain stays usable. */
  private async write(batch: Batch): Promise<void> {
    const client = await this.connection();
    if (client === undefined) {
      this.settleFailed(
        batch,
        new PostgresSinkError(this.target, 'insert', `postgres sink: closed before a batch could be written to ${this.target}`),
        'connection',
      );
      return;
    }
    let rejected: Rejected[];
    try {
      try {
        rejected = await this.insertIsolating(client, batch.tuples);
      } catch (err) {
        // A table dropped under a running sink (by hand, a retention job): made again, as at the start.
        if (!(err instanceof DatabaseError && err.code === UNDEFINED_TABLE && this.config.createTables)) throw err;
        await this.recreateTables(client, err);
        rejected = await this.insertIsolating(client, batch.tuples);
      }
      this.insertDelay = 0;
    } catch (err) {
      const lost = isConnectionLoss(err);
      if (lost) {
        if (this.client === client) this.client = undefined;
        client.end().catch(() => undefined);
      }
      const what = lost ? 'the connection was lost' : reason(err);
      this.settleFailed(
        batch,
        new PostgresSinkError(
          this.target,
          'insert',
          `postgres sink: writing ${batch.tuples.length} rows to "${this.config.table}" in ${this.target} failed: ${what}`,
          {
            cause: err,
          },
        ),
        lost ? 'connection' : 'insert',
      );
      // The same error would come back at once for the replayed rows: wait, longer each time, so
      // that a lasting fault (a missing table without createTables) is not a tight loop.
      if (!lost) await this.backOffInserts();
      return;
    }
    try {
      const tuples = batch.tuples;
      // Rejected rows are acked too: the server would refuse them again on every replay.
      for (let i = 0; i < tuples.length; i++) this.collector.ack(tuples[i]!);
      const by = batch.bySeverity;
      if (rejected.length > 0) this.reject(rejected, by);
      for (let s = 0; s < 8; s++) if (by[s] !== 0) this.context.count('stored', by[s]!, SEVERITY_NAMES[s]);
    } catch (err) {
      this.context.logger.error('postgres sink: acking stored tuples failed', { error: String(err) });
    }
  }

  /** Creates the tables again (createTables) after an insert found one missing; logs it. */
  private async recreateTables(client: PgClient, cause: InstanceType<typeof DatabaseError>): Promise<void> {
    const { schema, table } = this.config;
    await client.query('BEGIN');
    try {
      await client.query(lockStatement(schema, table));
      for (const sql of createStatements(schema, table, this.layout)) await client.query(sql);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    this.context.count('tables_recreated', 1);
    this.context.logger.warn(`postgres sink: a table of "${schema}.${table}" in ${this.target} was missing (${cause.message}); created it again`);
  }

  private async backOffInserts(): Promise<void> {
    this.insertDelay = this.insertDelay === 0 ? INSERT_RETRY_MS : Math.min(this.insertDelay * 2, this.config.maxBackoff);
    await this.waitBackoff(this.insertDelay);
  }

  /** Waits `ms`, or less when cleanup wakes it (wakeBackoff). */
  private async waitBackoff(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wakeBackoff = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wakeBackoff = undefined;
  }

  private settleFailed(batch: Batch, error: unknown, why: string): void {
    try {
      // The reported error is counted by the engine; this counts failed batches by cause.
      this.context.count('failed_batches', 1, why);
      this.collector.reportError(error);
      const tuples = batch.tuples;
      for (let i = 0; i < tuples.length; i++) this.collector.fail(tuples[i]!);
      // At the end no spout replays them: the run must not look complete (qitian run exits 3).
      if (this.ending) {
        this.unwritten += tuples.length;
        this.context.count(OUTPUT_LOST, tuples.length);
      }
    } catch (err) {
      this.context.logger.error('postgres sink: handling a write error failed', { error: String(err) });
    }
  }

  /**
   * Inserts `tuples` in one statement. When the server refuses their data (a constraint, a value
   * out of a column's range: SQLSTATE classes 22 and 23), the rows are written again in halves
   * until each refused row is alone, so that one bad row does not take the good ones of its batch
   * with it; the refused rows are returned. Anything else (a lost connection, a timeout) throws.
   */
  private async insertIsolating(client: PgClient, tuples: Tuple[]): Promise<Rejected[]> {
    try {
      await client.query(this.insertSql, this.columns(tuples));
      return [];
    } catch (err) {
      if (!(err instanceof DatabaseError) || !(err.code?.startsWith('22') || err.code?.startsWith('23'))) throw err;
      if (tuples.length === 1) return [{ tuple: tuples[0]!, error: err }];
      const half = tuples.length >> 1;
      const first = await this.insertIsolating(client, tuples.slice(0, half));
      const second = await this.insertIsolating(client, tuples.slice(half));
      return first.length === 0 ? second : [...first, ...second];
    }
  }

  /** Counts rows the server refused (taking them out of `bySeverity`, the stored counts) and logs the first of each kind. */
  private reject(rejected: readonly Rejected[], bySeverity: number[]): void {
    for (const { tuple, error } of rejected) {
      const s = this.severity.of(tuple);
      if (s >= 0) bySeverity[s]!--;
      const code = error.code ?? 'unknown';
      this.context.count('errors', 1, 'rejected');
      if (this.rejectedCodes.has(code)) continue;
      this.rejectedCodes.add(code);
      this.context.logger.warn(
        `postgres sink: the server refused a row of "${this.config.table}": ${reason(error)}; such rows are counted (errors{reason="rejected"}) and not replayed, the rest of their batch is stored`,
      );
    }
  }

  /** The batch as one array per column, the unnest() parameters. */
  private columns(tuples: readonly Tuple[]): unknown[][] {
    const n = tuples.length;
    const cols: unknown[][] = [];
    for (let c = 0; c < NCOL; c++) cols.push(new Array<unknown>(n));
    for (let r = 0; r < n; r++) {
      const t = tuples[r]!;
      const idx = this.planFor(t.fields).indexes;
      const values = t.values;
      for (let c = 0; c < NCOL; c++) {
        const i = idx[c]!;
        cols[c]![r] = this.cell(c, i < 0 ? null : values[i]);
      }
    }
    if (this.nulReplaced > 0) {
      this.context.count('errors', this.nulReplaced, 'nul_replaced');
      this.nulReplaced = 0;
    }
    if (this.formatter.unrepresentable > 0) {
      this.context.count('errors', this.formatter.unrepresentable, 'unserializable_value');
      this.formatter.unrepresentable = 0;
    }
    return cols;
  }

  /** One value as its column takes it; null for what the column cannot hold. */
  private cell(c: number, v: unknown): unknown {
    if (v === null || v === undefined) return null;
    switch (c) {
      case C_TIME: {
        const ms = typeof v === 'number' ? v : v instanceof Date ? v.getTime() : Number.NaN;
        // JavaScript's own date range, well inside PostgreSQL's: beyond it, the row gets now().
        return ms >= -MAX_TIME_MS && ms <= MAX_TIME_MS ? ms : null;
      }
      case C_FACILITY:
        return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 32767 ? v : null;
      case C_SEVERITY:
        return v; // checked by SeverityReader
      case C_SRC_PORT:
      case C_DST_PORT:
        return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535 ? v : null;
      case C_SRC_IP:
      case C_DST_IP:
        return typeof v === 'string' && isIP(v) !== 0 && !v.includes('%') ? v : null;
      case C_PARSED:
        return typeof v === 'boolean' ? v : null;
      case C_STRUCTURED: {
        let json = this.formatter.jsonValue(v);
        // jsonb takes neither \u0000 nor lone surrogates (which JSON.stringify writes as \udXXX escapes).
        if (json.includes('\\u0000')) {
          this.nulReplaced++;
          json = json.replaceAll('\\u0000', '\\ufffd');
        }
        if (json.includes('\\ud')) json = json.replace(LONE_SURROGATE_ESCAPE, '\\ufffd');
        return json;
      }
      default: {
        const s = typeof v === 'string' ? v : typeof v === 'object' ? this.formatter.jsonValue(v) : String(v);
        if (s.includes('\0')) {
          this.nulReplaced++;
          return s.replaceAll('\0', '\uFFFD');
        }
        return s;
      }
    }
  }

  private planFor(fields: readonly string[]): InputPlan {
    const p = this.plan;
    if (p !== undefined && p.fields === fields) return p;
    const plan = { fields, indexes: COLUMNS.map((c) => fields.indexOf(c.field)) };
    this.plan = plan;
    return plan;
  }

  async finish(): Promise<void> {
    this.ending = true;
    await this.flush();
  }

  async cleanup(): Promise<void> {
    this.ending = true;
    // What is held is still written when the server is there; no reconnection is waited for.
    const done = this.flush();
    this.closing = true;
    this.wakeBackoff?.();
    await done;
    if (this.unwritten > 0) {
      this.context.logger.error(
        `postgres sink: ${this.unwritten} rows were not written to "${this.config.table}" in ${this.target} at the end of the run (counted as ${OUTPUT_LOST}; the errors above say why)`,
      );
    }
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

/** True when an error means the connection is gone (rather than the server refusing the statement). */
function isConnectionLoss(err: unknown): boolean {
  if (!(err instanceof DatabaseError)) return true;
  const code = err.code ?? '';
  // 08: connection exception; 57P01..57P03: the server is shutting down or terminated the backend.
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';
}

/** An error in a few words: the server's message (with its SQLSTATE), or the system error. */
/** SQLSTATE undefined_table. */
const UNDEFINED_TABLE = '42P01';
const INSUFFICIENT_PRIVILEGE = '42501';
/** The first wait after a failed insert; it doubles up to maxBackoff. */
const INSERT_RETRY_MS = 100;

function reason(err: unknown): string {
  if (err instanceof DatabaseError) return `${err.message} (SQLSTATE ${err.code})`;
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(reason).join('; ');
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
