import { type CustomGrouping, groupingKey, keyGroupOf, taskForKeyGroup } from '@qitian/api';
import type { ExecutionPlan, GroupingType } from '@qitian/topology';
import { SourceStream } from './tuple-impl.js';

/** One consuming component of a stream, as seen by one sending task. */
export interface EdgeRoute {
  readonly to: string;
  readonly type: GroupingType;
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
}

/** Everything one task's emits on one stream go to. */
export interface StreamRoute {
  readonly stream: string;
  /** Shared by every tuple this task emits on this stream. */
  readonly src: SourceStream;
  readonly fields: readonly string[];
  readonly edges: EdgeRoute[];
  /** Consumers that accept emitDirect on this stream. */
  readonly direct: ReadonlySet<number>;
}

export function buildRoutes(
  plan: ExecutionPlan,
  taskId: number,
  worker: number,
  customs: Map<string, CustomGrouping>,
): Map<string, StreamRoute> {
  const placement = plan.tasks[taskId]!;
  const node = plan.spec.components.find((c) => c.id === placement.componentId)!;
  const routes = new Map<string, StreamRoute>();
  for (const [stream, fields] of Object.entries(node.outputs)) {
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
      edges.push({
        to: s.to,
        type: s.grouping.type,
        targets,
        local,
        fieldIdx,
        targetSet: new Set(targets),
        custom: customs.get(`${s.from}->${s.to}:${stream}`),
        // Start each sender at a different offset so that senders do not march in step.
        next: (placement.taskIndex * 7919) % Math.max(1, targets.length),
      });
    }
    routes.set(stream, { stream, src: new SourceStream(node.id, taskId, stream, fields), fields, edges, direct });
  }
  return routes;
}

/**
 * Writes the target tasks of one tuple on one edge into `out` from position `at`; returns the
 * new end position. No allocation except for custom groupings, which return their own arrays.
 */
export function chooseTasks(edge: EdgeRoute, values: readonly unknown[], maxParallelism: number, out: number[], at: number): number {
  const targets = edge.targets;
  switch (edge.type) {
    case 'shuffle': {
      out[at] = targets[edge.next]!;
      edge.next = edge.next + 1 === targets.length ? 0 : edge.next + 1;
      return at + 1;
    }
    case 'local-or-shuffle': {
      const pool = edge.local.length > 0 ? edge.local : targets;
      if (edge.next >= pool.length) edge.next = 0;
      out[at] = pool[edge.next]!;
      edge.next = edge.next + 1 === pool.length ? 0 : edge.next + 1;
      return at + 1;
    }
    case 'fields': {
      const kg = keyGroupOf(groupingKey(values, edge.fieldIdx), maxParallelism);
      out[at] = targets[taskForKeyGroup(kg, targets.length, maxParallelism)]!;
      return at + 1;
    }
    case 'global':
      out[at] = targets[0]!;
      return at + 1;
    case 'all':
      for (let i = 0; i < targets.length; i++) out[at + i] = targets[i]!;
      return at + targets.length;
    case 'custom': {
      const chosen = edge.custom!.chooseTasks(values);
      let n = at;
      // A custom grouping may only name the consumer's tasks; anything else is dropped (counted by the caller).
      for (let i = 0; i < chosen.length; i++) if (edge.targetSet.has(chosen[i]!)) out[n++] = chosen[i]!;
      return n;
    }
    case 'direct':
      return at;
  }
}
