import type { EdgeIds } from './ids.js';
import { chooseTask, chooseTasks, type EdgeRoute, type StreamRoute } from './routing.js';
import { rootTask } from './roots.js';
import type { Transfer } from './transfer.js';

/**
 * emitDirect's task: a task id (context.componentTasks), not an index that ran off that list
 * (undefined), which would be taken for a plain emit or refused with a misleading message.
 */
export function checkDirectTask(taskId: unknown, component: string): void {
  if (typeof taskId === 'number' && Number.isInteger(taskId) && taskId >= 0) return;
  throw new TypeError(
    `"${component}" called emitDirect with task ${String(taskId)}: it takes a task id of the consumer, one of context.componentTasks[consumer]`,
  );
}

/**
 * Routes one emitted tuple to its consumers' tasks. Each copy gets its own edge id when the tuple
 * belongs to tuple trees; the XOR of all copies' edge ids is left in `xorLo`/`xorHi` for the
 * caller (a spout's pending tree, or a bolt's anchors).
 *
 * Reentrant: a copy for a local bolt is executed inside `transfer.push`, and that bolt's own
 * emits come back here before the outer call returns. So nothing shared is read after a push:
 * the XOR is kept in locals and the target list is per nesting depth.
 */
export class Emitter {
  xorLo = 0;
  xorHi = 0;
  /**
   * Copies the last route() could not deliver: a grouping that chose no task, or a custom grouping
   * naming tasks that do not consume the stream. Counted, never silent. (A stream nobody consumes
   * is not a loss.)
   */
  dropped = 0;
  /** The last route() lost a copy to a custom grouping that threw: its trees were failed. */
  treeFailed = false;
  private readonly targetStack: number[][] = [];
  /** Per nesting depth, the edge each target in targetStack came from (null: emitDirect). */
  private readonly edgeStack: (EdgeRoute | null)[][] = [];
  private depth = 0;

  constructor(
    private readonly transfer: Transfer,
    private readonly ids: EdgeIds,
  ) {}

  /**
   * Checks an emit before it is staged, so that a bad one fails the execute that made it:
   * emitDirect to a task that does not consume the stream, or a plain emit on a stream that is
   * consumed with direct grouping only.
   */
  static check(route: StreamRoute, directTask: number, values: unknown[]): void {
    if (!Array.isArray(values) || values.length !== route.fields.length) Emitter.wrongArity(route, values);
    if (directTask >= 0) {
      if (!route.direct.has(directTask)) {
        throw new RangeError(`task ${directTask} does not consume stream "${route.stream}" of "${route.src.component}" with direct grouping`);
      }
    } else if (route.edges.length === 0 && route.direct.size > 0) {
      throw new RangeError(`stream "${route.stream}" of "${route.src.component}" is consumed with direct grouping only: send to it with emitDirect`);
    }
  }

  /**
   * An emit whose values do not match the stream's declared fields, as Storm refuses one: the
   * consumer would read `undefined` for a missing field, or never see an extra value.
   */
  static wrongArity(route: StreamRoute, values: unknown): never {
    const declared = `stream "${route.stream}" of "${route.src.component}" declares ${route.fields.length} field${route.fields.length === 1 ? '' : 's'} (${route.fields.join(', ')})`;
    if (!Array.isArray(values)) {
      const got = values === null ? 'null' : typeof values === 'object' ? 'an object' : `a ${typeof values}`;
      throw new TypeError(`emit takes an array of values, one per field: ${declared}; got ${got}`);
    }
    throw new RangeError(`${declared}; the emit gave ${values.length} value${values.length === 1 ? '' : 's'}`);
  }

  /**
   * route() for an untracked tuple on a stream with a `whole` edge (the at-most-once fast path):
   * one copy, its task known in advance or chosen by the grouping, no ids, nothing dropped.
   */
  routeWhole(route: StreamRoute, values: unknown[]): void {
    if (!Array.isArray(values) || values.length !== route.fields.length) Emitter.wrongArity(route, values);
    const edge = route.whole!;
    const only = route.onlyTask;
    this.transfer.pushWhole(only >= 0 ? only : chooseTask(edge, values), edge.src, values);
  }

  /** Returns the number of copies sent; `dropped` tells how many could not be. */
  route(route: StreamRoute, values: unknown[], roots: readonly number[], directTask: number): number {
    const single = route.single;
    if (single !== null && directTask < 0) {
      if (!Array.isArray(values) || values.length !== route.fields.length) Emitter.wrongArity(route, values);
      if (single.filter !== null && !single.filter(values)) {
        // The consumer's input filter declined it: not a loss, nothing to track.
        this.dropped = 0;
        this.treeFailed = false;
        return 0;
      }
      const task = chooseTask(single, values);
      if (roots.length === 0) {
        this.transfer.push(task, single.src, values, single.select, roots, 0, 0);
        this.dropped = 0;
        this.treeFailed = false;
        return 1;
      }
      this.ids.next();
      const lo = this.ids.lo;
      const hi = this.ids.hi;
      this.transfer.push(task, single.src, values, single.select, roots, lo, hi);
      this.xorLo = lo;
      this.xorHi = hi;
      this.dropped = 0;
      this.treeFailed = false;
      return 1;
    }
    Emitter.check(route, directTask, values);
    const depth = this.depth++;
    try {
      const out = (this.targetStack[depth] ??= []);
      const from = (this.edgeStack[depth] ??= []);
      let n = 0;
      let dropped = 0;
      let treeFailed = false;
      if (directTask >= 0) {
        out[0] = directTask;
        from[0] = null;
        n = 1;
      } else {
        // A stream nobody consumes is not a loss (as in Storm): priority-route declares a stream per
        // severity, and a topology takes the ones it wants.
        const edges = route.edges;
        for (let e = 0; e < edges.length; e++) {
          const edge = edges[e]!;
          if (edge.filter !== null && !edge.filter(values)) continue;
          const before = n;
          const rejected = edge.rejected;
          const failed = edge.failed;
          n = chooseTasks(edge, values, out, n);
          for (let k = before; k < n; k++) from[k] = edge;
          const bad = edge.rejected - rejected;
          if (bad > 0) dropped += bad;
          else if (n === before) dropped++;
          if (edge.failed !== failed) treeFailed = true;
        }
      }
      this.treeFailed = treeFailed;
      // A copy lost to a grouping that threw fails its trees: a reliable spout replays the tuple.
      if (treeFailed) for (let r = 0; r < roots.length; r++) this.transfer.fail(rootTask(roots[r]!), roots[r]!);
      let xorLo = 0;
      let xorHi = 0;
      const ids = this.ids;
      for (let i = 0; i < n; i++) {
        const edge = from[i]!;
        const src = edge === null ? route.src : edge.src;
        const select = edge === null ? null : edge.select;
        if (roots.length === 0) {
          this.transfer.push(out[i]!, src, values, select, roots, 0, 0);
          continue;
        }
        ids.next();
        const lo = ids.lo;
        const hi = ids.hi;
        xorLo ^= lo;
        xorHi ^= hi;
        this.transfer.push(out[i]!, src, values, select, roots, lo, hi);
      }
      this.xorLo = xorLo;
      this.xorHi = xorHi;
      this.dropped = dropped;
      return n;
    } finally {
      this.depth--;
    }
  }
}
