/** Bench sink: counts events in four dimensions (source, host, program, severity), as the baseline loop does. */
import { defineSink, type TopologyContext } from '@qitian/api';
import { Counts } from './workload.js';

export default defineSink({
  spec: { summary: 'Counts events per source, host, program and severity.', fields: {} },
  create() {
    const counts = new Counts();
    let context!: TopologyContext;
    return {
      prepare(ctx) {
        context = ctx;
      },
      execute(tuple) {
        counts.add(tuple.values[0] as string, tuple.values[1] as number);
      },
      finish() {
        // Reported so that the harness can check that every line was counted.
        context.count('counted', counts.total);
      },
    };
  },
});
