import { defineBolt, type KeyedState, type OutputCollector } from '@qitian/api';

/**
 * Counts words in keyed state (key groups follow the fields grouping, so counts could move with
 * their words on rescale) and emits the final ["word", "count"] pairs when the input ends.
 */
export default defineBolt({
  spec: {
    summary: 'Counts words; emits the totals when its input ends.',
    fields: {},
  },
  outputs: () => ({ default: ['word', 'count'] }),
  create() {
    let out!: OutputCollector;
    let counts!: KeyedState<number>;
    return {
      prepare(context, collector) {
        out = collector;
        counts = context.keyedState<number>('counts');
      },
      execute(tuple) {
        const word = tuple.values[0] as string;
        counts.set(word, (counts.get(word) ?? 0) + 1);
      },
      finish() {
        for (const [word, count] of counts.entries()) out.emit([word, count]);
      },
    };
  },
});
