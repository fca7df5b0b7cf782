import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { crc32 } from 'node:zlib';
import { type KeyGroupSnapshot, keyGroupOf, taskForKeyGroup } from '@qitian/api';
import type { ExecutionPlan } from '@qitian/topology';

/**
 * What a run keeps across process restarts, in `--state-dir`: each spout task's last position
 * (a file offset with its inode, a sequence number) and each bolt's keyed state. Both are kept by
 * component and task index, not by task id, and keyed state by key, so a run with other
 * parallelism (or another maxParallelism) takes them up: key groups go to the tasks that own them
 * now, as they would when rescaling.
 */
export interface SavedState {
  readonly version: typeof VERSION;
  readonly topology: string;
  /** ms since the epoch. */
  readonly savedAt: number;
  /** Spout positions by `component/taskIndex`. */
  readonly checkpoints: Record<string, unknown>;
  /** Keyed state by component, then state name: every task's keys in one list. */
  readonly states: Record<string, Record<string, [string, unknown][]>>;
}

const VERSION = 1;

/**
 * A state file is MAGIC, the CRC-32 of the body (uint32, big-endian), then the body (v8.serialize
 * of a SavedState). The checksum catches a file damaged on disk or by hand, which would otherwise
 * restore wrong positions or counts without a word. Files written before the header (a bare body,
 * which starts with 0xff) are still read.
 */
const MAGIC = Buffer.from('QITIAN-STATE\n', 'latin1');
const HEADER_BYTES = MAGIC.length + 4;

/** A state file that cannot be used: unreadable, not one of ours, or from another topology. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

/** Per task id, as the engine holds them. */
export interface TaskStates {
  checkpoints: Record<number, unknown>;
  states: Record<number, Record<string, KeyGroupSnapshot<unknown>>>;
}

/** The state file of a topology in `dir`. */
export function stateFile(dir: string, topology: string): string {
  return join(dir, `${topology.replace(/[^A-Za-z0-9._-]/g, '_')}.state`);
}

/**
 * Makes the state folder if needed and checks that a file can be written in it, so that a folder
 * the run cannot use stops the start (StateFileError) rather than a run whose state is silently
 * never kept.
 */
export function prepareStateDir(dir: string): void {
  try {
    makeDir(resolve(dir));
    const probe = join(dir, `.qitian-probe.${process.pid}`);
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (err) {
    throw new StateFileError(`cannot keep state in "${dir}": ${(err as Error).message}`);
  }
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdir loops for ever on a path it cannot create
 * under a filesystem that answers ENOENT for it (a folder under /proc).
 */
function makeDir(dir: string): void {
  try {
    if (statSync(dir).isDirectory()) return;
    throw Object.assign(new Error(`"${dir}" is not a folder`), { code: 'ENOTDIR' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const parent = dirname(dir);
  if (parent !== dir) makeDir(parent);
  mkdirSync(dir);
}

/** Reads a state file; undefined when there is none yet. Throws StateFileError naming the file. */
export function loadState(file: string, topology: string): SavedState | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateFileError(`${file}: cannot read the state file: ${(err as Error).message}`);
  }
  if (bytes.length === 0) {
    throw new StateFileError(`${file}: the state file is empty (the process was killed while writing it?); move it away to start without saved state`);
  }
  let body = bytes;
  if (bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    body = bytes.subarray(HEADER_BYTES);
    const expected = bytes.length >= HEADER_BYTES ? bytes.readUInt32BE(MAGIC.length) : -1;
    if (crc32(body) !== expected) {
      throw new StateFileError(
        `${file}: the state file is damaged (its checksum does not match its ${bytes.length} bytes); move it away to start without saved state`,
      );
    }
  }
  let saved: unknown;
  try {
    saved = deserialize(body);
  } catch (err) {
    throw new StateFileError(
      `${file}: not a QiTian state file (no QiTian header, and not readable as one written before headers: ${(err as Error).message}); move it away to start without saved state`,
    );
  }
  const s = saved as Partial<SavedState> | null;
  if (typeof s !== 'object' || s === null || s.version !== VERSION || typeof s.checkpoints !== 'object' || typeof s.states !== 'object') {
    throw new StateFileError(`${file}: not a QiTian state file of version ${VERSION}; move it away to start without saved state`);
  }
  if (s.topology !== topology) {
    throw new StateFileError(`${file}: holds the state of topology "${s.topology}", not "${topology}"`);
  }
  return s as SavedState;
}

/**
 * Writes the state file whole, through a temporary file synced to disk and a rename, so that
 * neither a crash nor a power loss leaves half of one (or, after the rename, an empty one).
 */
export function saveState(file: string, state: SavedState): void {
  makeDir(resolve(dirname(file)));
  const tmp = `${file}.${process.pid}.tmp`;
  const body = serialize(state);
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  MAGIC.copy(header);
  header.writeUInt32BE(crc32(body), MAGIC.length);
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, header);
    writeAll(fd, body);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
}

/** The engine's per-task view as a SavedState: positions by component/index, keyed state merged per component. */
export function toSaved(plan: ExecutionPlan, held: TaskStates, savedAt: number): SavedState {
  const checkpoints: Record<string, unknown> = {};
  const states: Record<string, Record<string, [string, unknown][]>> = {};
  for (const t of plan.tasks) {
    if (t.taskId in held.checkpoints) checkpoints[`${t.componentId}/${t.taskIndex}`] = held.checkpoints[t.taskId];
    const byName = held.states[t.taskId];
    if (!byName) continue;
    const component = (states[t.componentId] ??= {});
    for (const [name, snapshot] of Object.entries(byName)) {
      const pairs = (component[name] ??= []);
      for (const group of Object.values(snapshot)) for (const pair of group) pairs.push(pair);
    }
  }
  return { version: VERSION, topology: plan.spec.name, savedAt, checkpoints, states };
}

/** A key that two tasks of one component hold in the same keyed state (task indexes). */
export interface SharedKey {
  component: string;
  name: string;
  key: string;
  tasks: [number, number];
}

/**
 * Keys that two tasks of a component hold in one keyed state, the first per state: its state is
 * not keyed by what its input is fields-grouped on. A state file keeps one value per key, so a
 * resumed run loses the others. Only key groups several tasks hold are searched, so that a check
 * on every write costs about the number of groups, not of keys.
 */
export function sharedKeys(plan: ExecutionPlan, states: TaskStates['states']): SharedKey[] {
  const out: SharedKey[] = [];
  for (const [component, tasks] of Object.entries(plan.componentTasks)) {
    if (tasks.length < 2) continue;
    const names = new Set<string>();
    for (const id of tasks) for (const name of Object.keys(states[id] ?? {})) names.add(name);
    for (const name of names) {
      const holders = new Map<string, number[]>();
      for (let i = 0; i < tasks.length; i++) {
        for (const group of Object.keys(states[tasks[i]!]?.[name] ?? {})) {
          const list = holders.get(group);
          if (list) list.push(i);
          else holders.set(group, [i]);
        }
      }
      search: for (const [group, indexes] of holders) {
        if (indexes.length < 2) continue;
        const seen = new Map<string, number>();
        for (const i of indexes) {
          for (const [key] of states[tasks[i]!]![name]![Number(group)]!) {
            const first = seen.get(key);
            if (first !== undefined && first !== i) {
              out.push({ component, name, key, tasks: [first, i] });
              break search;
            }
            seen.set(key, i);
          }
        }
      }
    }
  }
  return out;
}

/**
 * What in a saved state this plan would not restore, one line per component: positions of a
 * component that is gone (renamed?) or of spout tasks beyond its parallelism now, and keyed state
 * of a component that is gone. Empty when everything finds its place. (Keyed state is kept by key,
 * so it follows any parallelism.)
 */
export function unrestored(plan: ExecutionPlan, saved: SavedState): string[] {
  const lost = new Map<string, number[]>();
  for (const key of Object.keys(saved.checkpoints)) {
    const slash = key.lastIndexOf('/');
    const component = key.slice(0, slash);
    const index = Number(key.slice(slash + 1));
    const tasks = plan.componentTasks[component];
    if (tasks === undefined || !(index < tasks.length)) {
      const list = lost.get(component) ?? [];
      list.push(index);
      lost.set(component, list);
    }
  }
  const out: string[] = [];
  for (const [component, indexes] of lost) {
    const tasks = plan.componentTasks[component];
    const which = indexes.sort((a, b) => a - b).join(', ');
    out.push(
      tasks === undefined
        ? `positions of "${component}" (task ${which}): the topology has no component "${component}" now`
        : `positions of "${component}" task ${which}: "${component}" has ${tasks.length} task${tasks.length === 1 ? '' : 's'} now`,
    );
  }
  for (const [component, byName] of Object.entries(saved.states)) {
    if ((plan.componentTasks[component]?.length ?? 0) > 0) continue;
    const names = Object.keys(byName).map((n) => `"${n}"`);
    out.push(`keyed state ${names.join(', ')} of "${component}": the topology has no component "${component}" now`);
  }
  return out;
}

/**
 * A SavedState as the engine holds it for this plan: each spout task's position by its index,
 * each bolt task's keyed state restricted to the key groups it owns now.
 */
export function fromSaved(plan: ExecutionPlan, saved: SavedState): TaskStates {
  const maxParallelism = plan.spec.config.maxParallelism;
  const out: TaskStates = { checkpoints: {}, states: {} };
  for (const t of plan.tasks) {
    const key = `${t.componentId}/${t.taskIndex}`;
    if (key in saved.checkpoints) out.checkpoints[t.taskId] = saved.checkpoints[key];
  }
  for (const [component, byName] of Object.entries(saved.states)) {
    const tasks = plan.componentTasks[component];
    if (!tasks || tasks.length === 0) continue;
    for (const [name, pairs] of Object.entries(byName)) {
      for (const pair of pairs) {
        const group = keyGroupOf(pair[0], maxParallelism);
        // The task fields grouping sends this key to now.
        const taskId = tasks[taskForKeyGroup(group, tasks.length, maxParallelism)]!;
        const snapshot = ((out.states[taskId] ??= {})[name] ??= {});
        (snapshot[group] ??= []).push(pair);
      }
    }
  }
  return out;
}
