/**
 * Messages between the main thread and worker threads, and between worker threads. Tuple data
 * crosses as batches of flat value arrays, copied by postMessage's structured clone; everything
 * else is small.
 */
import type { MessagePort } from 'node:worker_threads';
import type { KeyGroupSnapshot } from '@qitian/api';
import type { ExecutionPlan } from '@qitian/topology';
import type { Family } from './metrics/families.js';
import type { ExecutorStats } from './stats.js';

/**
 * A batch of `n` tuples for task `to` from task `from`. `values` holds their values one tuple
 * after another, `width` each, or `widths[i]` for tuple i when their lengths differ. `anchors`,
 * for anchored batches, is flat [edgeLo, edgeHi, rootCount, ...roots] per tuple.
 */
export interface BatchMessage {
  k: 'B';
  to: number;
  from: number;
  stream: string;
  n: number;
  width: number;
  values: unknown[];
  widths: number[] | null;
  anchors: number[] | null;
}

/** Worker-to-worker. */
export type PeerMessage =
  | BatchMessage
  /** Acks and fails for one spout task: flat [root, lo, hi, ...] and [root, ...]. */
  | { k: 'A'; to: number; acks: Float64Array | null; fails: Float64Array | null }
  /** Credits returned to the sender: flat [task, count, ...]. */
  | { k: 'C'; credits: number[] };

export interface WorkerInit {
  worker: number;
  plan: ExecutionPlan;
  /** Ports to the other workers, by worker index (this worker's own slot is null). */
  peers: (MessagePort | null)[];
  /** Last saved spout positions, by task id, for a restarted worker. */
  checkpoints: Record<number, unknown>;
  /**
   * How many threads held this worker slot before this one. Spout tasks start their root ids
   * from it, so that late acks for a dead thread's tuple trees never match a new tree.
   */
  generation: number;
  /** A replacement thread's tasks start from these counters (what earlier threads counted). */
  stats: ExecutorStats[];
  /** The run started from a state file an earlier run saved (--state-dir). */
  resumed: boolean;
  /** When the run started (epoch ms), for every thread of it. */
  runStartedAt: number;
  /** Keyed state is saved in a state file (--state-dir) and outlives the run. */
  stateKept: boolean;
  /** Smoothed busy fraction per thread in thousandths, -1 until measured; shared by all threads (load-aware shuffle). */
  loads: Int32Array;
  /** The task each thread is running component code for, plus one; 0 for none (CallMarker). */
  running: Int32Array;
  /** Keyed state of tasks, as last copied, by task id then state name (a replacement thread's). */
  states: Record<number, Record<string, KeyGroupSnapshot<unknown>>>;
  /**
   * What the process's standard output is: a worker's process.stdout (piped to it) says so too,
   * so that components print for a terminal as they would on the main thread.
   */
  terminal: { isTTY: boolean; columns: number | undefined };
}

/** Main-to-worker. */
export type ControlMessage =
  /** Begin: spouts start emitting when `active` (a thread replaced during a drain starts inactive). */
  | { k: 'start'; active: boolean }
  | { k: 'deactivate' }
  | { k: 'activate' }
  /** No spout will emit anything new (a stop, or every spout at its end): call the bolts' drain(). */
  | { k: 'drain' }
  /** Call finish() on the tasks of these components, flush, and answer 'finished'. */
  | { k: 'finish'; components: string[]; id: number; stopped: boolean }
  /** Flush everything and report counters for termination detection. */
  | { k: 'probe'; id: number }
  /** A peer worker was replaced: use this port from now on. */
  | { k: 'peer'; worker: number; port: MessagePort; failPending: boolean }
  | { k: 'stats'; id: number }
  /** Answer with this thread's registry as prom-client JSON. */
  | { k: 'metrics'; id: number }
  /** Copy what the local tasks of `component` emit on `stream` (a fraction `sample` of it) to 'tapped' messages. */
  | { k: 'tap'; tap: number; component: string; stream: string; sample: number; limit: number }
  | { k: 'untap'; tap: number }
  /** Run cleanup() and close(), then answer 'closed'. */
  | { k: 'close' };

/** Worker-to-main. */
export type StatusMessage =
  | { k: 'ready' }
  /** What a starting thread is doing now (loading a module, open() of a spout...), for a start that hangs. */
  | { k: 'starting'; what: string }
  /** The thread cannot go on; `component` names the component that failed to start, if one did. */
  | { k: 'fatal'; message: string; stack?: string; component?: string; cause?: { name: string; message: string; stack?: string } }
  | { k: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string; fields?: Record<string, unknown> }
  /**
   * A spout task's state: ended (no more data and nothing pending) or not; quiet: it emits nothing
   * new (at its end, or deactivated), though tuples may be pending.
   */
  | { k: 'spout'; task: number; ended: boolean; quiet: boolean }
  /** A spout task's position; madeAt: the wall clock when it was saved, the clock keyed-state copies are stamped with. */
  | { k: 'checkpoint'; task: number; position: unknown; madeAt: number }
  /** A copy of a task's keyed state, by state name. */
  | { k: 'state'; task: number; states: Record<string, KeyGroupSnapshot<unknown>>; madeAt: number }
  | { k: 'finished'; id: number }
  | { k: 'probed'; id: number; busy: boolean; sentTo: number[]; recvFrom: number[] }
  | { k: 'stats'; id: number; stats: ExecutorStats[] }
  | { k: 'metrics'; id: number; families: Family[]; stats: ExecutorStats[] }
  /** Tuples copied by a tap since the last message, as JSON lines; `skipped` were sampled but not kept. */
  | { k: 'tapped'; tap: number; lines: string[]; skipped: number }
  | { k: 'closed'; stats: ExecutorStats[] };
