/**
 * The ingest benchmark's sink: counts the messages it receives (per batch) and, once it has
 * counted `expect` of them, records the time (ms since the epoch) as the counter `done_at_ms`.
 */
import { defineSink, field, type TopologyContext, type Tuple } from '@qitian/api';

export default defineSink({
  spec: {
    summary: 'Counts messages; records when the expected number has arrived.',
    fields: { expect: field.int({ description: 'Messages expected; 0: no end time.', default: 0, min: 0 }) },
  },
  create(config) {
    let context!: TopologyContext;
    let counted = 0;
    let done = false;
    return {
      prepare(ctx) {
        context = ctx;
      },
      execute() {
        counted++;
        context.count('counted', 1);
        if (!done && config.expect > 0 && counted >= config.expect) {
          done = true;
          context.count('done_at_ms', Date.now());
        }
      },
      executeBatch(tuples: readonly Tuple[]) {
        counted += tuples.length;
        context.count('counted', tuples.length);
        if (!done && config.expect > 0 && counted >= config.expect) {
          done = true;
          context.count('done_at_ms', Date.now());
        }
      },
    };
  },
});
