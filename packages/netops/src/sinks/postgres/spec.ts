import { type ComponentSpec, type ConfigOf, field } from '@qitian/api';
import { MAX_TABLE_BYTES } from './sql.js';

export const postgresSinkFields = {
  url: field.string({
    description:
      'Connection URL, `postgres://user:password@host:port/database`; when given it is used instead of host, port, user, ' +
      'password and database. Keep passwords out of the YAML: `${PG_URL}`.',
    example: 'postgres://qitian@db.example.net:5432/netops',
  }),
  host: field.string({ description: 'Server host name or address (when no url is given).', default: '127.0.0.1' }),
  port: field.int({ description: 'Server port (when no url is given).', default: 5432, min: 1, max: 65535 }),
  user: field.string({ description: 'User to connect as (when no url is given).', default: 'postgres' }),
  password: field.string({
    description: 'Password (when no url is given); none for trust or peer authentication. Write it as `${PGPASSWORD}`.',
  }),
  database: field.string({ description: 'Database to connect to (when no url is given).', default: 'postgres' }),
  schema: field.string({
    description: 'Schema of the tables; created when missing (unless createTables is false).',
    default: 'public',
    minLength: 1,
  }),
  table: field.string({
    description:
      'Base name of the tables: layout `tables` writes `<table>_emerg` ... `<table>_debug`; layout `partitioned` writes ' +
      '`<table>`, partitioned by severity into `<table>_emerg` ... `<table>_debug`. At most 48 bytes, so that ' +
      "`<table>_warning_time` fits PostgreSQL's 63-byte names.",
    required: true,
    minLength: 1,
    maxBytes: MAX_TABLE_BYTES,
    example: 'syslog',
  }),
  layout: field.enum({
    description:
      '`tables`: one table per severity. `partitioned`: one table with PostgreSQL LIST partitioning on `severity`, ' +
      'a partition per severity, so that each can be queried, indexed, archived or dropped apart and `<table>` queries all.',
    values: ['tables', 'partitioned'],
    default: 'tables',
  }),
  createTables: field.boolean({
    description:
      'Create the schema, tables, partitions and time indexes when they are missing (CREATE ... IF NOT EXISTS) at start, ' +
      'and again when an insert finds a table missing (dropped under the running sink; counted as `tables_recreated`, ' +
      'logged). When every table is there, nothing is created, so a user that may only insert runs over tables made ' +
      'beforehand. Either way, tables already there must fit the layout and have every column the sink writes (checked ' +
      'at start, naming what is missing). A batch that fails otherwise fails its tuples ' +
      '(replayed by a reliable spout, lost without acking) and the next write waits, 100 ms doubling up to `maxBackoff`.',
    default: true,
  }),
  batchSize: field.int({
    description: 'Rows per INSERT at most: a batch is written once this many events wait, or sooner as `linger` says.',
    default: 1000,
    min: 1,
    max: 100_000,
  }),
  linger: field.duration({
    description:
      '0 (the default): a partly filled batch is written as soon as no INSERT is running, so rows gather into batches ' +
      'of up to `batchSize` while one runs (group commit) and go at once when there are few. Above 0: a partly filled ' +
      'batch waits up to this long for more rows, and so do the acks of its tuples: keep it well under ' +
      '`messageTimeout`, and expect at most about `maxSpoutPending` tuples per interval from a spout with acking on. ' +
      'At the end of a run (a stop, or every spout at the end of its input) held rows are written at once, and rows ' +
      'from then on as with 0: the end does not wait for linger.',
    default: 0,
    min: 0,
  }),
  connectTimeout: field.duration({
    description: 'Give up a connection attempt after this long.',
    default: '5s',
    min: 1,
  }),
  writeTimeout: field.duration({
    description:
      'The server cancels a statement that runs longer (an INSERT waiting on a locked table, a slow disk): its batch fails ' +
      "and is replayed. Keep it below the topology's `messageTimeout` (30s by default): a batch still running when its tuples " +
      'time out is replayed while it may yet commit, and its rows would be stored twice.',
    default: '10s',
    min: 1,
  }),
  maxBackoff: field.duration({
    description: 'Reconnection attempts after the server went away start 100ms apart and double up to this.',
    default: '10s',
    min: 1,
  }),
} as const;

export type PostgresSinkConfig = ConfigOf<typeof postgresSinkFields>;

export const postgresSinkSpec: ComponentSpec<typeof postgresSinkFields> = {
  summary: 'Stores syslog events in PostgreSQL by severity: a table per severity, or one table LIST-partitioned by severity.',
  description:
    'Each input tuple (the parsed event fields, read by name) becomes a row of the table (layout `tables`) or partition ' +
    '(layout `partitioned`) of its severity, named `<table>_emerg` ... `<table>_debug`. Columns: `time timestamptz` ' +
    "(from the event's ms since the epoch, exact to the millisecond, and to the microsecond for a fraction of a ms; " +
    'the parse bolt gives whole ms), ' +
    '`host text`, `facility smallint`, `severity smallint`, `app`, `procid`, `msgid`, `event_type text`, `src_ip inet`, ' +
    '`dst_ip inet` (null when not a valid address), `src_port`, `dst_port integer` (null outside 0..65535), `message text`, ' +
    '`structured jsonb`, `vendor`, `format text`, `parsed boolean`, `raw`, `peer text`; a BRIN index on `time`. NUL ' +
    'characters, which PostgreSQL text cannot hold, are replaced by U+FFFD and counted. Rows are written in batches with ' +
    'one INSERT ... SELECT FROM unnest(...) statement per batch (atomic across severities); tuples are acked once their ' +
    'batch has committed, and failed (so that they are replayed) when it did not. When the server goes away the sink ' +
    'fails the batch in flight and reconnects with exponential backoff; later batches wait for the connection, which ' +
    'holds the topology back. It cannot start without a connection (the error names host:port/database), nor over ' +
    'tables of the other layout, which it would fail to write to: layout `partitioned` needs `<table>` partitioned and ' +
    'each `<table>_<severity>` already there a partition of it, layout `tables` needs each a table of its own (not a ' +
    'partition); the error names the table and says to drop or rename the tables or use the other layout. Tuples without ' +
    'a severity 0..7 are acked without being stored and counted in `errors` with reason `no_severity`. Counters: ' +
    '`stored` by severity name, `failed_batches` by reason (`insert`, `connection`; each is also reported, so in the ' +
    "task's `errors`), `errors` by reason (`connect`, `no_severity`, `nul_replaced`, `unserializable_value`, `rejected`), " +
    '`output_lost`: rows of batches that failed at the end of the run (from `finish()` on, e.g. the server away at a ' +
    'stop), which nothing replays any more: they are logged, and `qitian run` exits 3 naming the sink. ' +
    "A row the server refuses for its data (a CHECK or NOT NULL constraint, a value out of a column's range: SQLSTATE " +
    'classes 22 and 23) does not fail its batch: the batch is written again in halves until the refused row is alone; ' +
    'the others are stored, it is acked without being stored (a replay would be refused again), counted as ' +
    '`errors{reason="rejected"}` and the first of each SQLSTATE logged.',
  fields: postgresSinkFields,
  examples: [
    {
      title: 'A table per severity in the local server',
      yaml: 'id: store\ntype: postgres\nconfig:\n  database: netops\n  table: syslog',
    },
    {
      title: 'One partitioned table, connection from the environment',
      yaml:
        'id: store\ntype: postgres\nparallelism: 2\nconfig:\n  url: ${PG_URL:-postgres://127.0.0.1:5432/netops}\n  schema: netops\n  table: syslog\n  layout: partitioned\n' +
        '  batchSize: 2000\n  linger: 500ms',
    },
  ],
};
