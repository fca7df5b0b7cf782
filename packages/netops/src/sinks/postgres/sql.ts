/**
 * The SQL of the postgres sink: the columns events are stored in, the tables of each layout,
 * and the one statement that writes a batch.
 */
import { SEVERITY_NAMES } from '../../syslog/event.js';

/** A stored column: its name, SQL type, the event field it comes from, and how the batch array is typed. */
export interface Column {
  readonly name: string;
  readonly sqlType: string;
  readonly field: string;
  /** Element type of the unnest() array parameter. */
  readonly arrayType: string;
  /** How the row value is made from the unnested element `u.<name>`. */
  readonly select: string;
  readonly notNull?: boolean;
}

const col = (name: string, sqlType: string, field: string, extra: Partial<Column> = {}): Column => ({
  name,
  sqlType,
  field,
  arrayType: sqlType,
  select: `u.${name}`,
  ...extra,
});

/** The columns, in order. Time travels as ms since the epoch (float8), converted on the server. */
export const COLUMNS: readonly Column[] = [
  col('time', 'timestamptz', 'time', { arrayType: 'float8', select: 'coalesce(to_timestamp(u.time / 1000.0), now())', notNull: true }),
  col('host', 'text', 'host'),
  col('facility', 'smallint', 'facility'),
  col('severity', 'smallint', 'severity', { notNull: true }),
  col('app', 'text', 'app'),
  col('procid', 'text', 'procid'),
  col('msgid', 'text', 'msgid'),
  col('event_type', 'text', 'eventType'),
  col('src_ip', 'inet', 'srcIp'),
  col('dst_ip', 'inet', 'dstIp'),
  col('src_port', 'integer', 'srcPort'),
  col('dst_port', 'integer', 'dstPort'),
  col('message', 'text', 'message'),
  col('structured', 'jsonb', 'structured'),
  col('vendor', 'text', 'vendor'),
  col('format', 'text', 'format'),
  col('parsed', 'boolean', 'parsed'),
  col('raw', 'text', 'raw'),
  col('peer', 'text', 'peer'),
];

/** Longest base table name: `<table>_warning_time` must fit PostgreSQL's 63-byte identifiers. */
export const MAX_TABLE_BYTES = 48;

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** `"schema"."name"` */
export function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** The table (or partition) a severity is stored in: `<table>_<name>`. */
export function severityTable(table: string, severity: number): string {
  return `${table}_${SEVERITY_NAMES[severity]}`;
}

export type Layout = 'tables' | 'partitioned';

function columnsDdl(): string {
  return COLUMNS.map((c) => `  ${quoteIdent(c.name)} ${c.sqlType}${c.notNull ? ' NOT NULL' : ''}`).join(',\n');
}

/**
 * Statements that create what is missing of a layout, to run in one transaction. The first
 * takes an advisory lock so that tasks starting together do not race on CREATE ... IF NOT EXISTS.
 */
export function createStatements(schema: string, table: string, layout: Layout): string[] {
  const out = [`SELECT pg_advisory_xact_lock(hashtext(${quoteLiteral(`qitian:${schema}.${table}`)}))`];
  if (schema !== 'public') out.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  if (layout === 'partitioned') {
    out.push(`CREATE TABLE IF NOT EXISTS ${qualified(schema, table)} (\n${columnsDdl()}\n) PARTITION BY LIST (severity)`);
    for (let s = 0; s < 8; s++) {
      out.push(`CREATE TABLE IF NOT EXISTS ${qualified(schema, severityTable(table, s))} PARTITION OF ${qualified(schema, table)} FOR VALUES IN (${s})`);
    }
    out.push(`CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_time`)} ON ${qualified(schema, table)} USING brin (time)`);
  } else {
    for (let s = 0; s < 8; s++) {
      const name = severityTable(table, s);
      out.push(`CREATE TABLE IF NOT EXISTS ${qualified(schema, name)} (\n${columnsDdl()}\n)`);
      out.push(`CREATE INDEX IF NOT EXISTS ${quoteIdent(`${name}_time`)} ON ${qualified(schema, name)} USING brin (time)`);
    }
  }
  return out;
}

/**
 * One statement that writes a batch, its columns passed as one array parameter each
 * ($1 = times, $2 = hosts, ...), whatever the batch size. Layout `partitioned` inserts into the
 * parent (PostgreSQL routes rows to partitions); layout `tables` inserts into every severity's
 * table from one unnested set, in data-modifying CTEs, so that the batch commits or fails whole.
 */
export function insertStatement(schema: string, table: string, layout: Layout): string {
  const names = COLUMNS.map((c) => quoteIdent(c.name)).join(', ');
  const unnest = `unnest(${COLUMNS.map((c, i) => `$${i + 1}::${c.arrayType}[]`).join(', ')}) AS u(${COLUMNS.map((c) => c.name).join(', ')})`;
  const select = COLUMNS.map((c) => c.select).join(', ');
  if (layout === 'partitioned') return `INSERT INTO ${qualified(schema, table)} (${names}) SELECT ${select} FROM ${unnest}`;
  const parts = [`WITH rows AS (SELECT ${select} FROM ${unnest})`];
  for (let s = 0; s < 8; s++) {
    parts.push(`, s${s} AS (INSERT INTO ${qualified(schema, severityTable(table, s))} (${names}) SELECT * FROM rows WHERE severity = ${s})`);
  }
  parts.push(' SELECT 1');
  return parts.join('\n');
}
