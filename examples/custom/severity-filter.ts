/**
 * A custom bolt written in TypeScript: passes on syslog lines at or above a severity, and counts
 * what it drops by reason. Its config schema is declared once; `qitian validate` checks a
 * topology's config against it, and the bolt receives it typed.
 */
import { defineBolt, field, type OutputCollector, type TopologyContext } from '@qitian/api';

const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

export default defineBolt({
  spec: {
    summary: 'Passes syslog lines whose PRI severity is at or above `minSeverity`.',
    description: 'Reads the PRI of RFC 3164/5424 lines (`<134>...`). Lines without a PRI are dropped and counted.',
    fields: {
      minSeverity: field.enum({
        description: 'The least severe level to pass (emerg is the most severe, debug the least).',
        values: SEVERITIES,
        default: 'warning',
      }),
      field: field.string({ description: 'Input field holding the line.', default: 'line' }),
    },
    examples: [{ title: 'Errors and worse', yaml: 'id: errors\nmodule: ./severity-filter.ts\nconfig:\n  minSeverity: err' }],
  },
  outputs: () => ({ default: ['severity', 'line'] }),
  create(config) {
    const limit = SEVERITIES.indexOf(config.minSeverity);
    let out!: OutputCollector;
    let context!: TopologyContext;
    let fieldIndex = -1;
    let noPri = 0;
    let belowLimit = 0;
    return {
      prepare(ctx, collector) {
        context = ctx;
        out = collector;
      },
      execute(tuple) {
        if (fieldIndex < 0) {
          fieldIndex = tuple.fieldIndex(config.field);
          if (fieldIndex < 0) throw new Error(`input stream has no field "${config.field}" (fields: ${tuple.fields.join(', ')})`);
        }
        const line = tuple.values[fieldIndex] as string;
        const gt = line.charCodeAt(0) === 60 ? line.indexOf('>') : -1;
        const pri = gt > 1 && gt < 5 ? Number(line.slice(1, gt)) : Number.NaN;
        if (!Number.isInteger(pri)) {
          noPri++;
          return;
        }
        const severity = pri & 7;
        if (severity > limit) {
          belowLimit++;
          return;
        }
        out.emit([SEVERITIES[severity], line]);
      },
      finish() {
        // Counted per run rather than per tuple: component counters are cheap but not free. A line
        // without PRI is bad input, lost: dropped. One below the limit is what the filter is for:
        // `qitian top` and the metrics would show it among the drops if it were counted as one.
        context.count('dropped', noPri, 'no_pri');
        context.count('filtered', belowLimit, 'below_min_severity');
      },
    };
  },
});
