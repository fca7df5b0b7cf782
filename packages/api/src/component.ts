import type { Logger } from './logger.js';
import type { ComponentSpec, ConfigOf, Fields } from './spec.js';
import type { KeyedState } from './state.js';
import type { Tuple } from './tuple.js';

/** Output streams a component declares: stream name -> field names. */
export type StreamDeclarations = Readonly<Record<string, readonly string[]>>;

/** What every component is told about where it runs. */
export interface TopologyContext<C = Record<string, unknown>> {
  readonly topologyName: string;
  readonly componentId: string;
  /** Index of this task within its component, 0..parallelism-1. */
  readonly taskIndex: number;
  /** Global task id, unique in the topology. */
  readonly taskId: number;
  readonly parallelism: number;
  /** This component's config, validated and with defaults filled in. */
  readonly config: C;
  readonly logger: Logger;
  /** Global task ids of a component's tasks, for `emitDirect`. */
  componentTasks(componentId: string): readonly number[];
  /** The fields a stream of this component declares. */
  outputFields(stream?: string): readonly string[];
  /**
   * Keyed state named `name`, partitioned in key groups. The runtime snapshots and restores
   * it by key group; keys should be the key the input is fields-grouped on.
   */
  keyedState<V>(name: string): KeyedState<V>;
  /** Counts something this component owns (a parser's error reasons, a spout's drops), per batch. */
  count(name: string, delta: number, reason?: string): void;
  /**
   * This run goes on from where an earlier one stopped: it started from a state file that run
   * saved (`qitian run --state-dir`). A sink that would start its output afresh should add to it.
   */
  readonly resumed: boolean;
  /**
   * How many threads ran this task before this one in this run: 0 at the start, 1 and up in a
   * thread started in place of one that died (as Flink's attempt number). What the earlier ones
   * wrote is this run's output too: a sink must add to it, not start it afresh.
   */
  readonly attempt: number;
  /**
   * When this run started (epoch milliseconds), the same for every task and attempt: a sink on a
   * later attempt can tell whether an earlier thread of this run already wrote its output.
   */
  readonly runStartedAt: number;
  /**
   * Keyed state outlives this run (`qitian run --state-dir`): what a stop leaves open in it, a
   * resumed run finds. A bolt that keeps open windows there reports them at a stop only when not.
   */
  readonly stateKept: boolean;
}

export interface SpoutContext<C = Record<string, unknown>> extends TopologyContext<C> {
  /**
   * A position the spout can resume from after its thread restarts (a file offset, a sequence
   * number): the runtime keeps the latest one outside the thread. Save only positions whose
   * tuples are all acked.
   */
  saveCheckpoint(position: unknown): void;
  /** The last saved position when this task is a restart, else undefined. */
  readonly restoredCheckpoint: unknown;
  /** Asks the executor to call `next` soon: for spouts fed by I/O that returned 'idle'. */
  wake(): void;
  /** True when tuples with a message id are tracked (at-least-once). */
  readonly reliable: boolean;
}

export interface SpoutCollector {
  /**
   * Emits a tuple. With a message id (and acking on), the tuple tree is tracked and the spout's
   * `ack` or `fail` is called with that id once; without one (undefined or null, as in Storm), it
   * is fire-and-forget.
   */
  emit(values: unknown[], messageId?: unknown, stream?: string): void;
  /** Emits to one task of a direct-grouped consumer. */
  emitDirect(taskId: number, values: unknown[], messageId?: unknown, stream?: string): void;
  reportError(error: unknown): void;
  /**
   * The spout's input cannot be read to its end (a truncated archive, a read error mid-file):
   * reported and counted as reportError does, and also counted as `input_failed`, so that a run
   * that ends after it says its input was incomplete (`qitian run` exits 4). The spout then ends
   * or goes on as it sees fit.
   */
  inputFailed(error: unknown): void;
}

/**
 * `next` reports what the spout can do: 'more' (call again), 'idle' (nothing now; call again
 * after a short wait or after `wake()`), 'end' (a finite source is exhausted; the run ends when
 * every spout has ended and every tuple has completed). A spout that ended is asked again only
 * after one of its tuples failed, so that it can replay.
 */
export type SpoutStatus = 'more' | 'idle' | 'end';

export interface Spout<C = Record<string, unknown>> {
  open?(context: SpoutContext<C>, collector: SpoutCollector): void | Promise<void>;
  /** Emit up to `max` tuples. */
  next(max: number): SpoutStatus;
  ack?(messageId: unknown): void;
  fail?(messageId: unknown): void;
  activate?(): void;
  /**
   * A drain stops the spout: `next` is not called any more. A promise keeps the spout from counting
   * as ended until it settles, so that what it emits meanwhile (what it had already received) goes
   * through the topology in the drain.
   */
  deactivate?(): void | Promise<void>;
  close?(): void | Promise<void>;
}

export type Anchors = Tuple | readonly Tuple[] | null;

export interface OutputCollector {
  /**
   * Emits a tuple anchored to `anchors`. With `anchors` undefined, an auto-acking bolt anchors
   * to the input being executed; pass null to emit unanchored.
   */
  emit(values: unknown[], anchors?: Anchors, stream?: string): void;
  emitDirect(taskId: number, values: unknown[], anchors?: Anchors, stream?: string): void;
  ack(tuple: Tuple): void;
  fail(tuple: Tuple): void;
  reportError(error: unknown, tuple?: Tuple): void;
}

/**
 * The counter (`context.count(OUTPUT_LOST, n)`) of tuples a bolt or sink took and can no longer
 * deliver, at the end of the run: a sink whose store is away at the stop, rows still held when
 * time ran out. Failing them replays nothing then (the spouts are done), so they are lost to this
 * run: count them (after failing them) and `qitian run` exits non-zero, naming the component.
 */
export const OUTPUT_LOST = 'output_lost';

export interface Bolt<C = Record<string, unknown>> {
  prepare?(context: TopologyContext<C>, collector: OutputCollector): void | Promise<void>;
  /** One input tuple. A thrown error fails the tuple (it is replayed or counted) and discards its emits. */
  execute(tuple: Tuple): void | Promise<void>;
  /** When present, called with each input batch instead of `execute`. */
  executeBatch?(tuples: readonly Tuple[]): void | Promise<void>;
  /**
   * Every upstream task has finished: emit final results. `end.stopped` tells why: false when a
   * bounded input has ended, true when the run is being stopped (a signal, `--duration`), its input
   * cut off mid-stream. A bolt that keeps open windows in keyed state may then leave them open, to
   * go on with them when a run resumes from `--state-dir`, rather than close them short.
   */
  finish?(end: FinishInfo): void | Promise<void>;
  /**
   * The run is ending: a stop's drain began, or every spout has read its input to its end (a
   * tuple that fails may still be replayed, and a spout draining in a stop may still emit what it
   * had already received). Tuples in flight still come, and the run
   * waits for their trees before `finish()`: a bolt that holds inputs unacked for a while (a sink
   * waiting to fill a batch) should from now on write and ack them without waiting. Called once
   * per task, at most; a thread started in place of one that died is told too.
   */
  drain?(): void;
  cleanup?(): void | Promise<void>;
}

interface DefinitionBase<F extends Fields> {
  readonly spec: ComponentSpec<F>;
  /** Declared output streams; may depend on config. Sinks declare none. */
  readonly outputs?: (config: ConfigOf<F>) => StreamDeclarations;
  /**
   * Checks, when the topology is validated, what the config's field types cannot say (settings
   * that only work together, a value only the component can judge), so that a run does not fail
   * to start on it: throws an Error with a `configPath` (keys and indexes inside `config`) to be
   * reported at that value, or an AggregateError of such errors.
   */
  readonly checkConfig?: (config: ConfigOf<F>) => void;
  /** Tick interval in ms, when the component wants ticks whatever its YAML says. */
  readonly tickMs?: (config: ConfigOf<F>) => number | undefined;
  /**
   * The most tasks it can run as, and why, for a component whose state spans all of its input
   * (an alert bolt's windows, a merge stage): a higher `parallelism` is a validation error.
   */
  readonly parallelismLimit?: (config: ConfigOf<F>) => { readonly max: number; readonly why: string } | undefined;
  /**
   * Checked when the topology is validated, with the streams the component consumes: config
   * that names input fields none of them declares (a misspelt field the component would
   * silently never see). Each problem is reported at its place in the YAML, `path` being the
   * key path inside `config` (e.g. ['dimensions', 0, 'fields', 1]). Spouts have no inputs.
   */
  readonly checkInputs?: (config: ConfigOf<F>, inputs: readonly InputStream[]) => readonly InputProblem[];
}

/** A problem checkInputs found: where in the component's config, and what. */
export interface InputProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** The field no input declares: the report then suggests a near one and lists what the inputs declare. */
  readonly field?: string;
}

/** Why a bolt's finish() is called. */
export interface FinishInfo {
  /** The run is stopping (a signal, `--duration`) rather than its input having ended. */
  readonly stopped: boolean;
}

export interface SpoutDefinition<F extends Fields = Fields> extends DefinitionBase<F> {
  readonly kind: 'spout';
  create(config: ConfigOf<F>): Spout<ConfigOf<F>>;
}

export interface BoltDefinition<F extends Fields = Fields> extends DefinitionBase<F> {
  readonly kind: 'bolt' | 'sink';
  /**
   * Auto-ack (Storm's basic bolt; the default): emits during `execute` are anchored to the
   * input, and the input is acked when `execute` returns. With false, the bolt acks itself.
   */
  readonly autoAck?: boolean;
  /**
   * A test the engine runs in the sending task, before a tuple for this component is copied to
   * another thread or queued: tuples it rejects never reach the component, as if it had skipped
   * them. Asked once per input stream when a sending task starts; return undefined to get every
   * tuple. For components that ignore most of their input (an alert bolt whose strategies match
   * few events), it saves the copies and the calls. The test must be pure and cheap; one that
   * throws lets the tuple through, and counts as an error of the sending task (logged).
   */
  readonly inputFilter?: (config: ConfigOf<F>, input: InputStream) => ((values: readonly unknown[]) => boolean) | undefined;
  create(config: ConfigOf<F>): Bolt<ConfigOf<F>>;
}

/** One input of a component, as `inputFilter` sees it. */
export interface InputStream {
  /** The sending component and its stream. */
  readonly from: string;
  readonly stream: string;
  /** The fields the component receives (the stream's, or those its `select` keeps), in order. */
  readonly fields: readonly string[];
  /** Where a field of `fields` is in the values the filter is given; -1 for a field it does not receive. */
  indexOf(field: string): number;
  /** How the stream is spread over the component's tasks: the grouping type and, for `fields`, its fields. */
  readonly grouping: { readonly type: string; readonly fields: readonly string[] };
  /** The component's tasks (its parallelism), over which the grouping spreads the stream. */
  readonly parallelism: number;
}

export type ComponentDefinition = SpoutDefinition<any> | BoltDefinition<any>;

export function defineSpout<const F extends Fields>(def: Omit<SpoutDefinition<F>, 'kind'>): SpoutDefinition<F> {
  return { kind: 'spout', ...def };
}

export function defineBolt<const F extends Fields>(def: Omit<BoltDefinition<F>, 'kind'>): BoltDefinition<F> {
  return { kind: 'bolt', ...def };
}

/** A bolt that ends a stream (writes to a file, a database, stdout). */
export function defineSink<const F extends Fields>(def: Omit<BoltDefinition<F>, 'kind' | 'outputs'>): BoltDefinition<F> {
  return { kind: 'sink', ...def };
}

export function isComponentDefinition(v: unknown): v is ComponentDefinition {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Record<string, unknown>;
  return (d.kind === 'spout' || d.kind === 'bolt' || d.kind === 'sink') && typeof d.create === 'function' && typeof d.spec === 'object';
}
