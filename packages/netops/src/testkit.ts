/**
 * A test kit for driving components directly, without the engine: fake contexts and
 * collectors that record what a component does, and a plain Tuple. For tests only; not
 * exported from the package's index.
 */
import {
  type Anchors,
  type BoltDefinition,
  type ConfigOf,
  DEFAULT_STREAM,
  type Fields,
  type KeyedState,
  KeyGroupedState,
  type KeyGroupSnapshot,
  type Logger,
  type OutputCollector,
  type Spout,
  type SpoutCollector,
  type SpoutContext,
  type SpoutDefinition,
  type SpoutStatus,
  type TopologyContext,
  type Tuple,
  validateConfig,
} from '@qitian/api';

export interface LogRecord {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields?: Record<string, unknown>;
}

export class RecordingLogger implements Logger {
  readonly records: LogRecord[] = [];
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.records.push({ level: 'debug', msg, fields });
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.records.push({ level: 'info', msg, fields });
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.records.push({ level: 'warn', msg, fields });
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.records.push({ level: 'error', msg, fields });
  }
}

export interface FakeContextOptions<C> {
  readonly config: C;
  readonly componentId?: string;
  readonly taskIndex?: number;
  readonly parallelism?: number;
  readonly outputs?: Readonly<Record<string, readonly string[]>>;
  /** What componentTasks() answers, by component id (none: no tasks). */
  readonly componentTasks?: Readonly<Record<string, readonly number[]>>;
  /** Keyed state to start from, as snapshotStates() of another context gave it (a restart). */
  readonly restoredStates?: Readonly<Record<string, KeyGroupSnapshot<unknown>>>;
  /** The run goes on from an earlier one's state file (--state-dir). */
  readonly resumed?: boolean;
  /** What attempt says (default 0: the first thread of the task). */
  readonly attempt?: number;
  /** What runStartedAt says (default: when the context was made). */
  readonly runStartedAt?: number;
  /** Keyed state outlives the run (--state-dir). Default false, as without a state dir. */
  readonly stateKept?: boolean;
}

export class FakeTopologyContext<C = Record<string, unknown>> implements TopologyContext<C> {
  readonly topologyName = 'test';
  readonly componentId: string;
  readonly taskIndex: number;
  readonly taskId: number;
  readonly parallelism: number;
  readonly config: C;
  readonly logger = new RecordingLogger();
  readonly resumed: boolean;
  readonly attempt: number;
  readonly runStartedAt: number;
  readonly stateKept: boolean;
  /** Every count() call, in order. */
  readonly countCalls: { name: string; delta: number; reason: string | undefined }[] = [];
  private readonly outputs: Readonly<Record<string, readonly string[]>>;
  private readonly states = new Map<string, KeyGroupedState<unknown>>();
  private readonly tasks: Readonly<Record<string, readonly number[]>>;
  private readonly restored: Readonly<Record<string, KeyGroupSnapshot<unknown>>>;

  constructor(opts: FakeContextOptions<C>) {
    this.tasks = opts.componentTasks ?? {};
    // Copied as the runtime copies it between threads: nothing is shared with the old bolt.
    this.restored = structuredClone(opts.restoredStates ?? {});
    this.config = opts.config;
    this.componentId = opts.componentId ?? 'under-test';
    this.taskIndex = opts.taskIndex ?? 0;
    this.taskId = this.taskIndex + 1;
    this.parallelism = opts.parallelism ?? 1;
    this.outputs = opts.outputs ?? {};
    this.resumed = opts.resumed ?? false;
    this.attempt = opts.attempt ?? 0;
    this.runStartedAt = opts.runStartedAt ?? Date.now();
    this.stateKept = opts.stateKept ?? false;
  }

  componentTasks(componentId: string): readonly number[] {
    return this.tasks[componentId] ?? [];
  }
  outputFields(stream: string = DEFAULT_STREAM): readonly string[] {
    return this.outputs[stream] ?? [];
  }
  keyedState<V>(name: string): KeyedState<V> {
    let s = this.states.get(name);
    if (!s) {
      s = new KeyGroupedState<unknown>(128);
      const restored = this.restored[name];
      if (restored) s.restore(restored);
      this.states.set(name, s);
    }
    return s as KeyedState<V>;
  }
  /** Every keyed state as the runtime would copy it. */
  snapshotStates(): Record<string, KeyGroupSnapshot<unknown>> {
    const out: Record<string, KeyGroupSnapshot<unknown>> = {};
    for (const [name, s] of this.states) out[name] = s.snapshot();
    return out;
  }
  count(name: string, delta: number, reason?: string): void {
    // As the engine's context does: a component counting down is a bug to see in its tests.
    if (!(delta >= 0 && delta < Number.POSITIVE_INFINITY)) throw new RangeError(`count("${name}", ${delta}): a counter only goes up`);
    this.countCalls.push({ name, delta, reason });
  }
  /** Sum of the deltas counted under `name` (and `reason`, when given). */
  counted(name: string, reason?: string): number {
    let sum = 0;
    for (const c of this.countCalls) if (c.name === name && (reason === undefined || c.reason === reason)) sum += c.delta;
    return sum;
  }
}

export interface FakeSpoutContextOptions<C> extends FakeContextOptions<C> {
  readonly reliable?: boolean;
  readonly restoredCheckpoint?: unknown;
}

export class FakeSpoutContext<C = Record<string, unknown>> extends FakeTopologyContext<C> implements SpoutContext<C> {
  readonly reliable: boolean;
  readonly restoredCheckpoint: unknown;
  readonly checkpoints: unknown[] = [];
  wakes = 0;
  private wakeWaiters: (() => void)[] = [];

  constructor(opts: FakeSpoutContextOptions<C>) {
    super(opts);
    this.reliable = opts.reliable ?? false;
    this.restoredCheckpoint = opts.restoredCheckpoint;
  }

  saveCheckpoint(position: unknown): void {
    this.checkpoints.push(structuredClone(position));
  }
  get lastCheckpoint(): unknown {
    return this.checkpoints[this.checkpoints.length - 1];
  }
  wake(): void {
    this.wakes++;
    const w = this.wakeWaiters;
    this.wakeWaiters = [];
    for (const f of w) f();
  }
  /** Resolves at the next wake() or after `ms`, whichever comes first. */
  waitForWake(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wakeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

export interface SpoutEmit {
  readonly values: unknown[];
  readonly messageId: unknown;
  readonly stream: string;
  readonly taskId?: number;
}

export class RecordingSpoutCollector implements SpoutCollector {
  readonly emits: SpoutEmit[] = [];
  readonly errors: unknown[] = [];
  emit(values: unknown[], messageId?: unknown, stream: string = DEFAULT_STREAM): void {
    this.emits.push({ values, messageId, stream });
  }
  emitDirect(taskId: number, values: unknown[], messageId?: unknown, stream: string = DEFAULT_STREAM): void {
    this.emits.push({ values, messageId, stream, taskId });
  }
  /** Errors given to inputFailed (they are in `errors` too). */
  readonly inputFailures: unknown[] = [];
  reportError(error: unknown): void {
    this.errors.push(error);
  }
  inputFailed(error: unknown): void {
    this.errors.push(error);
    this.inputFailures.push(error);
  }
  /** Field 0 of every emit: the lines of a line spout. */
  get lines(): string[] {
    return this.emits.map((e) => e.values[0] as string);
  }
}

/** Validates `raw` against a definition's spec, as the topology loader does; throws on issues. */
export function configFor<F extends Fields>(def: SpoutDefinition<F> | BoltDefinition<F>, raw: unknown): ConfigOf<F> {
  const { value, issues } = validateConfig(def.spec.fields, raw);
  if (issues.length > 0) throw new Error(`bad config: ${issues.map((i) => i.message).join('; ')}`);
  return value;
}

export interface SpoutHarness<C> {
  readonly spout: Spout<C>;
  readonly context: FakeSpoutContext<C>;
  readonly collector: RecordingSpoutCollector;
}

/** Builds a spout from its definition and raw (YAML-shaped) config, and opens it. */
export async function openSpout<F extends Fields>(
  def: SpoutDefinition<F>,
  raw: unknown,
  opts: Omit<FakeSpoutContextOptions<ConfigOf<F>>, 'config'> = {},
): Promise<SpoutHarness<ConfigOf<F>>> {
  const config = configFor(def, raw);
  const spout = def.create(config);
  const context = new FakeSpoutContext<ConfigOf<F>>({ ...opts, config, outputs: def.outputs?.(config) });
  const collector = new RecordingSpoutCollector();
  await spout.open?.(context, collector);
  return { spout, context, collector };
}

export interface DriveOptions {
  /** Tuples asked for per next() call. */
  readonly max?: number;
  /** Stop once this holds (checked after every next()). */
  readonly until?: () => boolean;
  /** Give up after this long; the result says so. */
  readonly timeoutMs?: number;
  /** Wait at most this long after an 'idle' before asking again. */
  readonly idleWaitMs?: number;
}

/** Calls next() the way an executor does, until 'end', `until`, or the timeout. */
export async function driveSpout<C>(h: SpoutHarness<C>, opts: DriveOptions = {}): Promise<SpoutStatus | 'timeout'> {
  const max = opts.max ?? 100;
  const deadline = performance.now() + (opts.timeoutMs ?? 5000);
  for (;;) {
    const status = h.spout.next(max);
    if (opts.until?.()) return status;
    if (status === 'end' && !opts.until) return status;
    if (performance.now() > deadline) return 'timeout';
    if (status === 'more') await new Promise<void>((r) => setImmediate(r));
    else await h.context.waitForWake(opts.idleWaitMs ?? 5);
  }
}

/** A tuple as a bolt receives it. */
export class TestTuple implements Tuple {
  constructor(
    readonly fields: readonly string[],
    readonly values: readonly unknown[],
    readonly stream: string = DEFAULT_STREAM,
    readonly sourceComponent: string = 'upstream',
    readonly sourceTask: number = 1,
  ) {}
  get(field: string): unknown {
    const i = this.fields.indexOf(field);
    if (i < 0) throw new Error(`stream "${this.stream}" of "${this.sourceComponent}" has no field "${field}"`);
    return this.values[i];
  }
  fieldIndex(field: string): number {
    return this.fields.indexOf(field);
  }
}

/** Tuples of one stream: `tuples(['a', 'b'], [1, 2], [3, 4])`. */
export function tuples(fields: readonly string[], ...rows: readonly unknown[][]): TestTuple[] {
  return rows.map((r) => new TestTuple(fields, r));
}

export class RecordingOutputCollector implements OutputCollector {
  readonly emits: { values: unknown[]; anchors: Anchors | undefined; stream: string; taskId?: number }[] = [];
  readonly acked: Tuple[] = [];
  readonly failed: Tuple[] = [];
  readonly errors: { error: unknown; tuple?: Tuple }[] = [];
  emit(values: unknown[], anchors?: Anchors, stream: string = DEFAULT_STREAM): void {
    this.emits.push({ values, anchors, stream });
  }
  emitDirect(taskId: number, values: unknown[], anchors?: Anchors, stream: string = DEFAULT_STREAM): void {
    this.emits.push({ values, anchors, stream, taskId });
  }
  ack(tuple: Tuple): void {
    this.acked.push(tuple);
  }
  fail(tuple: Tuple): void {
    this.failed.push(tuple);
  }
  reportError(error: unknown, tuple?: Tuple): void {
    this.errors.push({ error, tuple });
  }
}

export interface BoltHarness<C> {
  readonly bolt: ReturnType<BoltDefinition<Fields>['create']>;
  readonly context: FakeTopologyContext<C>;
  readonly collector: RecordingOutputCollector;
}

/** Builds a bolt or sink from its definition and raw config, and prepares it. */
export async function prepareBolt<F extends Fields>(
  def: BoltDefinition<F>,
  raw: unknown,
  context_: Omit<FakeContextOptions<ConfigOf<F>>, 'config'> = {},
): Promise<BoltHarness<ConfigOf<F>>> {
  const config = configFor(def, raw);
  const bolt = def.create(config);
  const context = new FakeTopologyContext<ConfigOf<F>>({ ...context_, config });
  const collector = new RecordingOutputCollector();
  await bolt.prepare?.(context, collector);
  return { bolt: bolt as BoltHarness<ConfigOf<F>>['bolt'], context, collector };
}

/** Waits until `cond` holds, polling every 10 ms; fails naming `what` after `timeoutMs`. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
