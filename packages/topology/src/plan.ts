import type { TopologySpec } from './types.js';

/** Root ids carry their spout's task id in the low bits, so acks route without a lookup. */
export const MAX_TASKS = 4096;

export interface TaskPlacement {
  readonly taskId: number;
  readonly componentId: string;
  readonly taskIndex: number;
  readonly worker: number;
}

/** Where every task runs. Plain data: it crosses to worker threads as is. */
export interface ExecutionPlan {
  readonly spec: TopologySpec;
  readonly workers: number;
  /** Indexed by global task id. */
  readonly tasks: readonly TaskPlacement[];
  /** Component id -> its global task ids in task-index order. */
  readonly componentTasks: Readonly<Record<string, readonly number[]>>;
}

export class PlanError extends Error {
  override readonly name = 'PlanError';
}

/**
 * Gives every component `parallelism` tasks and spreads them over the workers round-robin in
 * topological order, as Storm's even scheduler does: a pipeline with parallelism equal to the
 * worker count puts one task of each stage on every worker, so local-or-shuffle stays local.
 */
export function createPlan(spec: TopologySpec, workers: number): ExecutionPlan {
  if (!Number.isInteger(workers) || workers < 1) throw new PlanError(`workers must be a positive integer, got ${workers}`);
  const tasks: TaskPlacement[] = [];
  const componentTasks: Record<string, number[]> = {};
  // Components whose parallelism is a multiple of the worker count start at worker 0 (aligned
  // pipelines); the others rotate, so that many single-task components do not pile on worker 0.
  let rotating = 0;
  for (const c of spec.components) {
    const ids: number[] = [];
    const start = c.parallelism % workers === 0 ? 0 : rotating;
    if (start === rotating && c.parallelism % workers !== 0) rotating = (rotating + c.parallelism) % workers;
    for (let i = 0; i < c.parallelism; i++) {
      const taskId = tasks.length;
      tasks.push({ taskId, componentId: c.id, taskIndex: i, worker: (start + i) % workers });
      ids.push(taskId);
    }
    componentTasks[c.id] = ids;
  }
  if (tasks.length > MAX_TASKS) throw new PlanError(`a topology may have at most ${MAX_TASKS} tasks, this one has ${tasks.length}`);
  return { spec, workers, tasks, componentTasks };
}
