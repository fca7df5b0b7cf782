/** Bench bolt: parses syslog lines into [key, severity], as the baseline loop does. */
import { defineBolt, type OutputCollector } from '@qitian/api';
import { parseLine } from './workload.js';

export default defineBolt({
  spec: { summary: 'Parses syslog lines into [key, severity].', fields: {} },
  outputs: () => ({ default: ['key', 'severity'] }),
  create() {
    let out!: OutputCollector;
    return {
      prepare(_context, collector) {
        out = collector;
      },
      execute(tuple) {
        const parsed = parseLine(tuple.values[0] as string);
        if (parsed !== null) out.emit(parsed);
      },
    };
  },
});
