/**
 * The bench's cheap sinks, in place of the pipeline's per-severity files and console report:
 * they count what reaches them and report the counts when the input ends, so that the harness
 * can check the engine's results against the plain loop's.
 */
import { defineSink, isTick, type TopologyContext, type Tuple } from '@qitian/api';
import { SEVERITY_NAMES } from '@qitian/netops';

/** In place of `severity-files`: counts the events it would store, per severity (no I/O). */
export const storeCount = defineSink({
  spec: { summary: 'Counts the events it receives per severity.', fields: {} },
  create() {
    const bySeverity = new Float64Array(8);
    let severityAt = -1;
    let fields: readonly string[] | null = null;
    let context!: TopologyContext;
    const one = (t: Tuple) => {
      if (t.fields !== fields) {
        fields = t.fields;
        severityAt = t.fieldIndex('severity');
      }
      bySeverity[t.values[severityAt] as number]!++;
    };
    return {
      prepare(ctx) {
        context = ctx;
      },
      execute: one,
      executeBatch(tuples: readonly Tuple[]) {
        for (let i = 0; i < tuples.length; i++) if (!isTick(tuples[i]!)) one(tuples[i]!);
      },
      finish() {
        for (let s = 0; s < 8; s++) if (bySeverity[s]! > 0) context.count('stored', bySeverity[s]!, SEVERITY_NAMES[s]);
      },
    };
  },
});

/**
 * In place of `console-report`: counts Top-N rankings (per dimension, and the events they
 * cover) and alerts (per strategy).
 */
export const resultsCount = defineSink({
  spec: { summary: 'Counts rankings and alerts.', fields: {} },
  create() {
    const counts = new Map<string, number>();
    const add = (k: string, n: number) => counts.set(k, (counts.get(k) ?? 0) + n);
    let context!: TopologyContext;
    return {
      prepare(ctx) {
        context = ctx;
      },
      execute(t: Tuple) {
        if (isTick(t)) return;
        if (t.fields.includes('strategy')) add(`alerts\u0000${t.values[t.fieldIndex('strategy')]}`, 1);
        else {
          const dim = String(t.values[t.fieldIndex('dimension')]);
          add(`rankings\u0000${dim}`, 1);
          add(`ranked\u0000${dim}`, t.values[t.fieldIndex('total')] as number);
        }
      },
      finish() {
        for (const [k, n] of counts) {
          const [name, reason] = k.split('\u0000');
          context.count(name!, n, reason);
        }
      },
    };
  },
});
