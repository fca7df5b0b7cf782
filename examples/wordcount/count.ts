import { defineBolt, type KeyedState, type Logger, type OutputCollector } from '@qitian/api';

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
    let log!: Logger;
    let counts!: KeyedState<number>;
    /** The total last emitted per word: a run resumed with --state-dir emits only what changed. */
    let emitted!: KeyedState<number>;
    return {
      prepare(context, collector) {
        out = collector;
        log = context.logger;
        counts = context.keyedState<number>('counts');
        emitted = context.keyedState<number>('emitted');
      },
      execute(tuple) {
        const word = tuple.values[0] as string;
        counts.set(word, (counts.get(word) ?? 0) + 1);
      },
      finish(end) {
        // A stop (Ctrl-C, --duration) cut the input short: these are not totals. They stay in
        // keyed state, so a run resumed with --state-dir counts on and emits each total once.
        if (end.stopped) {
          log.info('stopped before the end of the input: totals not emitted; resume with --state-dir to complete them');
          return;
        }
        // A resumed run whose input had already ended (or grew) emits a total only when it is
        // new or changed: the output, appended to on resume, holds no repeats.
        for (const [word, count] of counts.entries()) {
          if (emitted.get(word) === count) continue;
          emitted.set(word, count);
          out.emit([word, count]);
        }
      },
    };
  },
});
