import type { StreamDeclarations } from '@qitian/api';

export type ComponentKind = 'spout' | 'bolt' | 'sink';

export const GROUPING_TYPES = ['shuffle', 'fields', 'all', 'global', 'direct', 'local-or-shuffle', 'custom'] as const;
export type GroupingType = (typeof GROUPING_TYPES)[number];

/** Where a worker thread finds a component's (or custom grouping's) definition: module URL + export name. */
export interface ModuleRef {
  readonly url: string;
  readonly export: string;
}

export interface Grouping {
  readonly type: GroupingType;
  /** The upstream stream this edge consumes. */
  readonly stream: string;
  /** For fields grouping: field names of the upstream stream. */
  readonly fields?: readonly string[];
  /** For custom grouping: the factory and its arguments. */
  readonly custom?: { readonly ref: ModuleRef; readonly args: Record<string, unknown> };
}

/** A source position in a topology file, 1-based. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface ComponentNode {
  readonly id: string;
  readonly kind: ComponentKind;
  /** Built-in type name, or undefined for user modules. */
  readonly type?: string;
  /** The module path as written, for user modules. */
  readonly module?: string;
  readonly ref: ModuleRef;
  readonly parallelism: number;
  /** Validated config with defaults; durations in ms. Structured-cloneable. */
  readonly config: Record<string, unknown>;
  readonly outputs: StreamDeclarations;
  /** Tick interval in ms, or undefined for no ticks. */
  readonly tickMs?: number;
  /** Bolts only. */
  readonly autoAck: boolean;
  readonly location?: SourceLocation;
}

export interface StreamEdge {
  readonly from: string;
  readonly to: string;
  readonly grouping: Grouping;
  /** The fields of the upstream stream the consumer receives, in this order; all when absent. */
  readonly select?: readonly string[];
  readonly location?: SourceLocation;
}

export interface TopologyConfig {
  /** Number of key groups; fixed for the life of the topology. */
  readonly maxParallelism: number;
  /** Worker threads; undefined means one per core. */
  readonly workers?: number;
  /** At-least-once tracking with the XOR acker (true) or at-most-once (false). */
  readonly acking: boolean;
  readonly messageTimeoutMs: number;
  /** Max un-acked tuple trees per spout task. */
  readonly maxSpoutPending: number;
  /** Failures of one message id after which the engine gives up on it (acks it to its spout); -1: never. */
  readonly maxRetries: number;
  /** Tuples per transfer batch. */
  readonly batchSize: number;
  /**
   * A batch leaves once its values reach about this many bytes (strings by length, bytes by size),
   * so that in-flight memory (credits x batch per edge) stays bounded for large tuples too.
   */
  readonly batchBytes: number;
  /** A partly filled batch leaves after at most this long. */
  readonly batchLingerMs: number;
  /** Batches in flight per edge (sending thread -> receiving task) before the sender waits. */
  readonly credits: number;
  /**
   * Shuffle groupings weigh the sender's thread against the others by how busy each thread is
   * (Storm's load-aware messaging); false: plain round-robin.
   */
  readonly loadAware: boolean;
  /** How long a graceful stop waits for in-flight tuples. */
  readonly drainTimeoutMs: number;
  /** Bolts time the execute of 1 in this many tuples for latency histograms and capacity; 0: none. */
  readonly latencySampling: number;
  /** How often bolts' keyed state is copied to the main thread, to restore after a thread restart; 0: never. */
  readonly stateSnapshotIntervalMs: number;
  /**
   * `immediate`: a bolt acks as soon as it executed a tuple. `after-copy`: a bolt with keyed state
   * sends the acks of what it executed only after its next state copy, so that a thread restart
   * never loses an update for an acked tuple (the tuples after the copy are replayed).
   */
  readonly stateAcks: 'immediate' | 'after-copy';
}

export const DEFAULT_TOPOLOGY_CONFIG: TopologyConfig = {
  maxParallelism: 1024,
  acking: true,
  messageTimeoutMs: 30_000,
  maxSpoutPending: 5000,
  maxRetries: -1,
  batchSize: 500,
  batchBytes: 1_048_576,
  batchLingerMs: 5,
  credits: 32,
  loadAware: true,
  drainTimeoutMs: 30_000,
  latencySampling: 100,
  stateSnapshotIntervalMs: 10_000,
  stateAcks: 'immediate',
};

/** A validated topology: what a plan is made from. Plain data, structured-cloneable. */
export interface TopologySpec {
  readonly name: string;
  readonly file: string;
  readonly config: TopologyConfig;
  /** In topological order: every component after all of its upstreams. */
  readonly components: readonly ComponentNode[];
  readonly streams: readonly StreamEdge[];
}
