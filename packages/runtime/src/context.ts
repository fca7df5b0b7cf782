import { type KeyedState, type KeyGroupSnapshot, KeyGroupedState, type Logger, type SpoutContext, type TopologyContext } from '@qitian/api';
import type { ComponentNode, ExecutionPlan } from '@qitian/topology';
import { customKey, type ExecutorStats } from './stats.js';

/** The context one task sees. Keyed states are kept so that the runtime can snapshot them. */
export class TaskContext implements TopologyContext, SpoutContext {
  readonly states = new Map<string, KeyGroupedState<unknown>>();
  readonly topologyName: string;
  readonly componentId: string;
  readonly parallelism: number;
  readonly config: Record<string, unknown>;
  restoredCheckpoint: unknown = undefined;
  /** Started from a state file an earlier run saved (set by the worker). */
  resumed = false;
  attempt = 0;
  runStartedAt = 0;
  /** Keyed state outlives the run (--state-dir; set by the worker). */
  stateKept = false;
  /** Keyed state as last copied to the main thread (a replacement thread's), by state name. */
  restoredStates: Record<string, KeyGroupSnapshot<unknown>> | undefined = undefined;
  /** Set by the executor. */
  wake: () => void = () => {};
  saveCheckpoint: (position: unknown) => void = () => {};

  constructor(
    private readonly plan: ExecutionPlan,
    private readonly node: ComponentNode,
    readonly taskId: number,
    readonly taskIndex: number,
    readonly logger: Logger,
    private readonly stats: ExecutorStats,
    readonly reliable: boolean,
  ) {
    this.topologyName = plan.spec.name;
    this.componentId = node.id;
    this.parallelism = node.parallelism;
    this.config = node.config;
  }

  componentTasks(componentId: string): readonly number[] {
    const t = this.plan.componentTasks[componentId];
    if (!t) throw new RangeError(`no component "${componentId}" in topology "${this.topologyName}"`);
    return t;
  }

  outputFields(stream = 'default'): readonly string[] {
    const f = this.node.outputs[stream];
    if (!f) throw new RangeError(`component "${this.componentId}" declares no stream "${stream}"`);
    return f;
  }

  keyedState<V>(name: string): KeyedState<V> {
    let s = this.states.get(name);
    if (!s) {
      this.states.set(name, (s = new KeyGroupedState<unknown>(this.plan.spec.config.maxParallelism)));
      const restored = this.restoredStates?.[name];
      if (restored) s.restore(restored);
    }
    return s as KeyedState<V>;
  }

  count(name: string, delta: number, reason?: string): void {
    // A Prometheus counter only goes up: a negative or NaN delta would break rate() for good.
    if (!(delta >= 0 && delta < Number.POSITIVE_INFINITY)) {
      throw new RangeError(`count("${name}", ${delta}): a counter only goes up; the delta must be a finite number, 0 or more`);
    }
    const key = customKey(name, reason);
    this.stats.custom[key] = (this.stats.custom[key] ?? 0) + delta;
  }
}
