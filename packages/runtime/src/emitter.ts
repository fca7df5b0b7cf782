import type { EdgeIds } from './ids.js';
import { chooseTasks, type StreamRoute } from './routing.js';
import type { Transfer } from './transfer.js';

/**
 * Routes one emitted tuple to its consumers' tasks. Each copy gets its own edge id when the tuple
 * belongs to tuple trees; the XOR of all copies' edge ids is left in `xorLo`/`xorHi` for the
 * caller (a spout's pending tree, or a bolt's anchors).
 */
export class Emitter {
  xorLo = 0;
  xorHi = 0;
  private readonly targets: number[] = [];

  constructor(
    private readonly transfer: Transfer,
    private readonly ids: EdgeIds,
    private readonly maxParallelism: number,
  ) {}

  /** Returns the number of copies sent; -1 when a grouping chose no task for a routed stream. */
  route(route: StreamRoute, values: unknown[], roots: readonly number[], directTask: number): number {
    const out = this.targets;
    let n = 0;
    if (directTask >= 0) {
      if (!route.direct.has(directTask)) {
        throw new RangeError(`task ${directTask} does not consume stream "${route.stream}" of "${route.src.component}" with direct grouping`);
      }
      out[0] = directTask;
      n = 1;
    } else {
      const edges = route.edges;
      for (let e = 0; e < edges.length; e++) n = chooseTasks(edges[e]!, values, this.maxParallelism, out, n);
      if (n === 0) return edges.length > 0 ? -1 : 0;
    }
    this.xorLo = 0;
    this.xorHi = 0;
    if (roots.length === 0) {
      for (let i = 0; i < n; i++) this.transfer.push(out[i]!, route.src, values, roots, 0, 0);
      return n;
    }
    const ids = this.ids;
    for (let i = 0; i < n; i++) {
      ids.next();
      this.xorLo ^= ids.lo;
      this.xorHi ^= ids.hi;
      this.transfer.push(out[i]!, route.src, values, roots, ids.lo, ids.hi);
    }
    return n;
  }
}
