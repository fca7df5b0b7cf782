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
 * Taken first in the transaction that checks and creates the tables, so that tasks starting
 * together do not race on CREATE ... IF NOT EXISTS.
 */
export function lockStatement(schema: string, table: string): string {
  return `SELECT pg_advisory_xact_lock(hashtext(${quoteLiteral(`qitian:${schema}.${table}`)}))`;
}

/** Statements that create what is missing of a layout, to run in one transaction after lockStatement. */
export function createStatements(schema: string, table: string, layout: Layout): string[] {
  const out: string[] = [];
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

/** A relation of a layout's name found in the schema, as RELATIONS_SQL returns it. */
export interface Relation {
  readonly name: string;
  /** pg_class.relkind: r table, p partitioned table, v view... */
  readonly kind: string;
  /** Schema and name of the table it is a partition of; null when it is not a partition. */
  readonly parentSchema: string | null;
  readonly parent: string | null;
}

/** The relations named `$2` (text[]) in schema `$1`, with the table each is a partition of. */
export const RELATIONS_SQL = `SELECT c.relname AS name, c.relkind AS kind, pn.nspname AS "parentSchema", p.relname AS parent
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_inherits i ON c.relispartition AND i.inhrelid = c.oid
LEFT JOIN pg_class p ON p.oid = i.inhparent
LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE n.nspname = $1 AND c.relname = ANY($2::text[])`;

/** The names a layout uses: `<table>` (the parent of layout partitioned), then `<table>_emerg` ... `<table>_debug`. */
export function layoutNames(table: string): string[] {
  return [table, ...SEVERITY_NAMES.map((_, s) => severityTable(table, s))];
}

const KINDS: Readonly<Record<string, string>> = {
  r: 'plain table',
  p: 'partitioned table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
  S: 'sequence',
  i: 'index',
  I: 'partitioned index',
  c: 'composite type',
};

/**
 * What in the relations found does not fit the layout, as a sentence; undefined when they fit.
 * CREATE ... IF NOT EXISTS skips a table of the name whatever it is, so without this check the
 * other layout's tables would be written to and every batch fail (no partition for the row).
 * Layout partitioned: `<table>` is partitioned and each severity table a partition of it.
 * Layout tables: each severity table is a table of its own (`<table>` is not used).
 */
export function layoutMismatch(found: readonly Relation[], schema: string, table: string, layout: Layout): string | undefined {
  const q = (name: string, inSchema = schema) => `"${inSchema}.${name}"`;
  const byName = new Map(found.map((r) => [r.name, r]));
  const problems: string[] = [];
  for (const name of layoutNames(table)) {
    const r = byName.get(name);
    if (r === undefined) continue;
    const kind = KINDS[r.kind] ?? `relation of kind ${r.kind}`;
    const partOf = r.parent === null ? undefined : q(r.parent, r.parentSchema ?? schema);
    if (layout === 'partitioned') {
      if (name === table) {
        if (r.kind !== 'p') problems.push(`${q(name)} is a ${kind}, not partitioned`);
      } else if (r.parent !== table || r.parentSchema !== schema) {
        problems.push(`${q(name)} is a ${partOf ? `partition of ${partOf}` : kind}, not a partition of ${q(table)}`);
      }
    } else if (name !== table && (partOf !== undefined || (r.kind !== 'r' && r.kind !== 'p'))) {
      problems.push(`${q(name)} is a ${partOf ? `partition of ${partOf}` : kind}, not a table of its own`);
    }
  }
  if (problems.length === 0) return undefined;
  return problems.length === 1 ? problems[0] : `${problems[0]} (and ${problems.length - 1} more do not fit)`;
}

/** The columns each of `tables` (in `$1`, the schema) has: to check tables made by someone else. */
export const COLUMNS_SQL = `SELECT table_name AS "table", column_name AS "column" FROM information_schema.columns WHERE table_schema = $1 AND table_name = ANY($2::text[])`;

/** What tables already there lack of the columns the sink writes, said for a message; undefined when nothing. */
export function missingColumns(found: readonly { table: string; column: string }[], tables: readonly string[], schema: string): string | undefined {
  const problems: string[] = [];
  for (const table of tables) {
    const has = new Set(found.filter((r) => r.table === table).map((r) => r.column));
    const lacks = COLUMNS.map((c) => c.name).filter((c) => !has.has(c));
    if (lacks.length > 0) problems.push(`"${schema}.${table}" has no column ${lacks.join(', ')}`);
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}
