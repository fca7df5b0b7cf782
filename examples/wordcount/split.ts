import { defineBolt, type OutputCollector } from '@qitian/api';

/** Splits each line on white space and emits one ["word"] per word. */
export default defineBolt({
  spec: {
    summary: 'Splits lines into words on white space.',
    fields: {},
  },
  outputs: () => ({ default: ['word'] }),
  create() {
    let out!: OutputCollector;
    return {
      prepare(_context, collector) {
        out = collector;
      },
      execute(tuple) {
        const line = tuple.values[0] as string;
        for (const word of line.split(/\s+/)) if (word.length > 0) out.emit([word]);
      },
    };
  },
});
