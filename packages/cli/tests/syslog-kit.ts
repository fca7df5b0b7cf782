/**
 * Test kit of the syslog end-to-end tests (syslog-*.test.ts): topologies written as YAML in a
 * temp folder (often including the repository's topologies/ and overriding a few components),
 * loaded with the built-in registry and run on worker threads with their log captured; the real
 * clients and servers they need (util-linux `logger`, PostgreSQL), checked up front so that a
 * missing one fails with the reason instead of a timeout.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinRegistry } from '@qitian/cli';
import { Engine, type EngineLogLevel } from '@qitian/runtime';
import { createPlan, loadTopology, type TopologySpec } from '@qitian/topology';
import pg from 'pg';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const TOPOLOGIES = join(ROOT, 'topologies');

/** The PostgreSQL server of the test machine (trust auth). */
export const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;

export function tempDir(prefix = 'qitian-syslog-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a topology document as YAML (JSON is YAML) and returns its path. */
export async function writeTopology(dir: string, name: string, doc: Record<string, unknown>): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${JSON.stringify(doc, null, 2)}\n`);
  return path;
}

/** Loads a topology file with the built-in components, as `qitian run` does. */
export function load(file: string, vars: Record<string, string> = {}): Promise<TopologySpec> {
  return loadTopology(file, { registry: builtinRegistry(), vars });
}

export interface Log {
  level: EngineLogLevel;
  msg: string;
  fields?: Record<string, unknown>;
}

export interface Started {
  engine: Engine;
  logs: Log[];
}

/** Starts a loaded topology on `workers` threads, collecting the engine's log lines. */
export async function start(spec: TopologySpec, workers = 2): Promise<Started> {
  const logs: Log[] = [];
  const engine = await Engine.start(createPlan(spec, workers), {
    logger: (level, msg, fields) => logs.push({ level, msg, ...(fields ? { fields } : {}) }),
  });
  return { engine, logs };
}

/** The warnings and errors of a run, one per line, for failure messages. */
export function problems(logs: readonly Log[]): string {
  return logs
    .filter((l) => l.level === 'warn' || l.level === 'error')
    .map((l) => `${l.level}: ${l.msg}`)
    .join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 50 ms until it holds; throws naming `what` (and what `detail` says then) after `timeoutMs`. */
export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  detail?: () => string | Promise<string>,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${await detail()}` : ''}`);
    await sleep(50);
  }
}

/** The lines of a JSON-lines file, parsed; none when it does not exist. */
export function jsonLines<T = Record<string, unknown>>(path: string): T[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
}

/** Lines in a file (0 when it does not exist), without parsing them. */
export function lineCount(path: string): number {
  if (!existsSync(path)) return 0;
  const text = readFileSync(path, 'utf8');
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** util-linux `logger`, or an error saying these tests need it. */
export function requireLogger(): void {
  const r = spawnSync('logger', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0 || !/util-linux/.test(r.stdout))
    throw new Error(
      `these tests need util-linux \`logger\` on PATH (apt-get install bsdutils): ${r.error?.message ?? `exit ${r.status}: ${r.stderr || r.stdout}`}`,
    );
}

/** Runs `logger` with `args`, each line of `lines` being one message; rejects with its stderr on failure. */
export function logger(args: readonly string[], lines: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('logger', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 && stderr === '' ? resolve() : reject(new Error(`logger ${args.join(' ')} exited ${code}: ${stderr}`))));
    child.stdin.end(`${lines.join('\n')}\n`);
  });
}

/** A connected client of the test server, or an error saying these tests need it. */
export async function connectPostgres(): Promise<pg.Client> {
  const client = new pg.Client({ ...PG, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`these tests need PostgreSQL at ${PG.host}:${PG.port}, database ${PG.database}, user ${PG.user} (trust auth): ${(err as Error).message}`, {
      cause: err,
    });
  }
  return client;
}

const PRI_RE = /^<(\d{1,3})>/;

/** The severity a syslog line's PRI gives (PRI mod 8), read without the parser; -1 without a PRI. */
export function severityOfLine(line: string): number {
  const m = PRI_RE.exec(line);
  return m ? Number(m[1]) % 8 : -1;
}
