import { type CustomGrouping, groupingKey, keyGroupOf, taskForKeyGroup } from '@qitian/api';
import type { ExecutionPlan, GroupingType } from '@qitian/topology';
import { ShuffleBalance } from './balance.js';
import { SourceStream } from './tuple-impl.js';

export const SHUFFLE = 0;
export const LOCAL_OR_SHUFFLE = 1;
export const FIELDS = 2;
export const GLOBAL = 3;
export const ALL = 4;
export const CUSTOM = 5;
export const DIRECT = 6;

const CODES: Record<GroupingType, number> = {
  shuffle: SHUFFLE,
  'local-or-shuffle': LOCAL_OR_SHUFFLE,
  fields: FIELDS,
  global: GLOBAL,
  all: ALL,
  custom: CUSTOM,
  direct: DIRECT,
};

/** One consuming component of a stream, as seen by one sending task. */
export interface EdgeRoute {
  readonly to: string;
  readonly type: GroupingType;
  /** `type` as a small integer: the hot path switches on it. */
  readonly code: number;
  /** For shuffle: `local` when it has tasks (local-or-shuffle), else `targets`. */
  readonly pool: readonly number[];
  readonly maxParallelism: number;
  /** Global task ids of the consumer, in task-index order. */
  readonly targets: readonly number[];
  /** Consumer tasks in the sender's own thread (local-or-shuffle). */
  readonly local: readonly number[];
  /** Field indexes for fields grouping. */
  readonly fieldIdx: readonly number[];
  readonly custom?: CustomGrouping;
  /** Consumer task ids as a set, to check what a custom grouping returns. */
  readonly targetSet: ReadonlySet<number>;
  /** Round-robin position for shuffle. */
  next: number;
  /** The consumer's input filter, run on the sender's values before a task is chosen; null: none. */
  readonly filter: InputFilter | null;
  /**
   * Shuffle with consumer tasks both in the sender's thread and in others, `loadAware` on: picks
   * by the threads' load instead of round-robin. Null otherwise.
   */
  readonly balance: ShuffleBalance | null;
  /** Custom grouping: task ids it named that do not consume the stream (each a dropped copy). */
  rejected: number;
  /** Custom grouping: calls that threw (GROUPING_FAILED): the copy is lost, and its tree must fail. */
  failed: number;
  /** What the consumer's tuples come from: the stream's shared source, or one with only the selected fields. */
  readonly src: SourceStream;
  /** `select` of the stream: indexes of the fields the consumer gets; null for all. */
  readonly select: readonly number[] | null;
}

/** Everything one task's emits on one stream go to. */
export interface StreamRoute {
  readonly stream: string;
  /** The only edge, when there is exactly one and it picks one task per tuple: the fast path. */
  readonly single: EdgeRoute | null;
  /**
   * `single` when its consumer takes whole tuples (no `select`) and has no input filter: untracked
   * emits then need no projection, test or tuple id (Emitter.routeWhole). Null otherwise.
   */
  readonly whole: EdgeRoute | null;
  /**
   * The one task every tuple goes to, when `whole` can choose no other: local-or-shuffle with one
   * local task, fields or shuffle to a single task, global. -1 otherwise: no grouping to run.
   */
  readonly onlyTask: number;
  /** Shared by every tuple this task emits on this stream. */
  readonly src: SourceStream;
  readonly fields: readonly string[];
  readonly edges: EdgeRoute[];
  /** Consumers that accept emitDirect on this stream. */
  readonly direct: ReadonlySet<number>;
}

/** Every task a task's streams can reach: its grouped consumers and its direct-grouped ones. */
export function consumerTasks(routes: ReadonlyMap<string, StreamRoute>): number[] {
  const tasks = new Set<number>();
  for (const r of routes.values()) {
    for (const e of r.edges) for (const t of e.targets) tasks.add(t);
    for (const t of r.direct) tasks.add(t);
  }
  return [...tasks];
}

/** How custom groupings and input filters are looked up: one per stream edge. */
export function edgeKey(from: string, to: string, stream: string): string {
  return `${from}->${to}:${stream}`;
}

/** A consumer's test on the values a sender emits (BoltDefinition.inputFilter); it never throws (the worker guards it). */
export type InputFilter = (values: readonly unknown[]) => boolean;

export function buildRoutes(
  plan: ExecutionPlan,
  taskId: number,
  worker: number,
  customs: Map<string, CustomGrouping>,
  filters: ReadonlyMap<string, InputFilter> = new Map(),
): Map<string, StreamRoute> {
  const placement = plan.tasks[taskId]!;
  const node = plan.spec.components.find((c) => c.id === placement.componentId)!;
  const routes = new Map<string, StreamRoute>();
  for (const [stream, fields] of Object.entries(node.outputs)) {
    const shared = new SourceStream(node.id, taskId, stream, fields);
    const edges: EdgeRoute[] = [];
    const direct = new Set<number>();
    for (const s of plan.spec.streams) {
      if (s.from !== node.id || s.grouping.stream !== stream) continue;
      const targets = plan.componentTasks[s.to]!;
      const local = targets.filter((t) => plan.tasks[t]!.worker === worker);
      const fieldIdx = (s.grouping.fields ?? []).map((f) => fields.indexOf(f));
      if (s.grouping.type === 'direct') {
        for (const t of targets) direct.add(t);
        continue;
      }
      const pool = s.grouping.type === 'local-or-shuffle' && local.length > 0 ? local : targets;
      const offset = placement.taskIndex * 7919;
      const remote = targets.filter((t) => plan.tasks[t]!.worker !== worker);
      const balanced = s.grouping.type === 'shuffle' && plan.spec.config.loadAware && local.length > 0 && remote.length > 0;
      edges.push({
        to: s.to,
        type: s.grouping.type,
        code: CODES[s.grouping.type],
        pool,
        maxParallelism: plan.spec.config.maxParallelism,
        targets,
        local,
        fieldIdx,
        targetSet: new Set(targets),
        custom: customs.get(edgeKey(s.from, s.to, stream)),
        // Start each sender at a different offset so that senders do not march in step.
        // (The position indexes `pool`, which for local-or-shuffle may be shorter than `targets`.)
        next: offset % Math.max(1, pool.length),
        filter: filters.get(edgeKey(s.from, s.to, stream)) ?? null,
        balance: balanced
          ? new ShuffleBalance(local, remote, [...new Set(remote.map((t) => plan.tasks[t]!.worker))], offset, {
              component: node.id,
              task: String(placement.taskIndex),
              to: s.to,
            })
          : null,
        rejected: 0,
        failed: 0,
        src: s.select ? new SourceStream(node.id, taskId, stream, s.select) : shared,
        select: s.select ? s.select.map((f) => fields.indexOf(f)) : null,
      });
    }
    const single = edges.length === 1 && edges[0]!.code <= GLOBAL ? edges[0]! : null;
    const whole = single !== null && single.select === null && single.filter === null ? single : null;
    routes.set(stream, { stream, single, whole, onlyTask: whole === null ? -1 : onlyTaskOf(whole), src: shared, fields, edges, direct });
  }
  return routes;
}

function onlyTaskOf(edge: EdgeRoute): number {
  if (edge.code === GLOBAL) return edge.targets[0]!;
  if (edge.code === SHUFFLE || edge.code === LOCAL_OR_SHUFFLE) return edge.pool.length === 1 ? edge.pool[0]! : -1;
  if (edge.code === FIELDS) return edge.targets.length === 1 ? edge.targets[0]! : -1;
  return -1;
}

/** The one target task of a tuple on a single-target edge (every grouping but all, custom, direct). */
/**
 * What a custom grouping's wrapper returns when the grouping threw (the error already reported):
 * unlike an empty choice, which sends the tuple nowhere on purpose, the copy is lost, so the
 * emitter fails its tuple tree and a reliable spout replays it.
 */
export const GROUPING_FAILED: readonly number[] = Object.freeze([]);

export function chooseTask(edge: EdgeRoute, values: readonly unknown[]): number {
  switch (edge.code) {
    case SHUFFLE:
    case LOCAL_OR_SHUFFLE: {
      if (edge.balance !== null) return edge.balance.pick();
      const pool = edge.pool;
      const i = edge.next;
      edge.next = i + 1 >= pool.length ? 0 : i + 1;
      return pool[i]!;
    }
    case FIELDS:
      // One consumer task owns every key group: no key to hash.
      if (edge.targets.length === 1) return edge.targets[0]!;
      // Hashing the key in JS (a few ns a character) beats a memo Map: with many distinct keys,
      // a memo's lookups miss the cache and cost more than the hash they save (measured).
      return fieldsTask(edge, groupingKey(values, edge.fieldIdx));
    default:
      return edge.targets[0]!;
  }
}

function fieldsTask(edge: EdgeRoute, key: string): number {
  const kg = keyGroupOf(key, edge.maxParallelism);
  return edge.targets[taskForKeyGroup(kg, edge.targets.length, edge.maxParallelism)]!;
}

/**
 * Writes the target tasks of one tuple on one edge into `out` from position `at`; returns the
 * new end position.
 */
export function chooseTasks(edge: EdgeRoute, values: readonly unknown[], out: number[], at: number): number {
  switch (edge.code) {
    case ALL: {
      const targets = edge.targets;
      for (let i = 0; i < targets.length; i++) out[at + i] = targets[i]!;
      return at + targets.length;
    }
    case CUSTOM: {
      const chosen = edge.custom!.chooseTasks(values);
      if (chosen === GROUPING_FAILED) {
        edge.failed++;
        return at;
      }
      let n = at;
      // A custom grouping may only name the consumer's tasks; anything else is dropped (counted by the caller).
      for (let i = 0; i < chosen.length; i++) {
        if (edge.targetSet.has(chosen[i]!)) out[n++] = chosen[i]!;
        else edge.rejected++;
      }
      return n;
    }
    case DIRECT:
      return at;
    default:
      out[at] = chooseTask(edge, values);
      return at + 1;
  }
}

/** The values a consumer with `select` gets: the selected fields, in its order. */
export function project(values: readonly unknown[], select: readonly number[]): unknown[] {
  const out = new Array<unknown>(select.length);
  for (let i = 0; i < select.length; i++) out[i] = values[select[i]!];
  return out;
}
