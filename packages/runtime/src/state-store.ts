import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { deserialize, serialize } from 'node:v8';
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
  let saved: unknown;
  try {
    saved = deserialize(bytes);
  } catch (err) {
    throw new StateFileError(`${file}: not a QiTian state file (${(err as Error).message}); move it away to start without saved state`);
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

/** Writes the state file whole, through a temporary file and a rename, so a crash never leaves half of one. */
export function saveState(file: string, state: SavedState): void {
  makeDir(resolve(dirname(file)));
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, serialize(state));
  renameSync(tmp, file);
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
