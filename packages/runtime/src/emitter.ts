import type { EdgeIds } from './ids.js';
import { chooseTask, chooseTasks, type StreamRoute } from './routing.js';
import type { Transfer } from './transfer.js';

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
  private readonly targetStack: number[][] = [];
  private depth = 0;

  constructor(
    private readonly transfer: Transfer,
    private readonly ids: EdgeIds,
  ) {}

  /** Returns the number of copies sent; -1 when a grouping chose no task for a routed stream. */
  route(route: StreamRoute, values: unknown[], roots: readonly number[], directTask: number): number {
    const single = route.single;
    if (single !== null && directTask < 0) {
      const task = chooseTask(single, values);
      if (roots.length === 0) {
        this.transfer.push(task, route.src, values, roots, 0, 0);
        return 1;
      }
      this.ids.next();
      const lo = this.ids.lo;
      const hi = this.ids.hi;
      this.transfer.push(task, route.src, values, roots, lo, hi);
      this.xorLo = lo;
      this.xorHi = hi;
      return 1;
    }
    const depth = this.depth++;
    try {
      const out = (this.targetStack[depth] ??= []);
      let n = 0;
      if (directTask >= 0) {
        if (!route.direct.has(directTask)) {
          throw new RangeError(`task ${directTask} does not consume stream "${route.stream}" of "${route.src.component}" with direct grouping`);
        }
        out[0] = directTask;
        n = 1;
      } else {
        const edges = route.edges;
        for (let e = 0; e < edges.length; e++) n = chooseTasks(edges[e]!, values, out, n);
        if (n === 0) return edges.length > 0 ? -1 : 0;
      }
      let xorLo = 0;
      let xorHi = 0;
      if (roots.length === 0) {
        for (let i = 0; i < n; i++) this.transfer.push(out[i]!, route.src, values, roots, 0, 0);
      } else {
        const ids = this.ids;
        for (let i = 0; i < n; i++) {
          ids.next();
          const lo = ids.lo;
          const hi = ids.hi;
          xorLo ^= lo;
          xorHi ^= hi;
          this.transfer.push(out[i]!, route.src, values, roots, lo, hi);
        }
      }
      this.xorLo = xorLo;
      this.xorHi = xorHi;
      return n;
    } finally {
      this.depth--;
    }
  }
}
