import { type ComponentSpec, type ConfigOf, field } from '@qitian/api';

export const consoleReportFields = {
  show: field.int({ description: 'Entries shown per Top-N dimension.', default: 5, min: 1 }),
  color: field.enum({
    description: 'ANSI colour for alerts and headings: `auto` when standard output is a terminal and NO_COLOR is unset.',
    values: ['auto', 'always', 'never'],
    default: 'auto',
  }),
  settle: field.duration({
    description: 'A window is printed once no ranking of it arrived for this long (its dimensions come one by one).',
    default: '300ms',
    min: 1,
  }),
} as const;

export type ConsoleReportConfig = ConfigOf<typeof consoleReportFields>;

export const consoleReportSpec: ComponentSpec<typeof consoleReportFields> = {
  summary: 'Prints Top-N rankings per window and alerts as they fire, for a person watching a terminal.',
  description:
    'Takes the rankings of a `topn` merge (fields dimension, windowStart, windowEnd, ranking, total...) and the alerts ' +
    'of an `alert` bolt (fields time, strategy, severity, key, summary, details), told apart by their fields. Alerts ' +
    'are printed at once, one line each. Rankings are gathered per window and printed as one block once the window ' +
    'has been quiet for `settle`: its times in UTC (the date on the first header and whenever it changes), the events in the window (the total of its first dimension), the rate in event ' +
    'time and in wall-clock time since the previous block, and the top `show` entries of each dimension. A window ' +
    "the input ended inside (topn's `complete` false) is marked, and its rate is over the time it covers, from its " +
    'start to `until`: `(incomplete window: input ended at 09:01:35; 250/s event time, 30.0k/s wall clock)`, where ' +
    'the wall-clock rate is its event-time rate at the speed (event time per wall-clock second) measured between ' +
    'the last two complete windows. In a terminal, a ranking line shows the entries that fit its width, with `…` when some did not. Other tuples are printed as JSON. For machines, use the `file` or `stdout` sink ' +
    'instead.',
  fields: consoleReportFields,
  examples: [
    {
      title: 'Watch rankings and alerts',
      yaml: 'id: console\ntype: console-report\nconfig:\n  show: 5',
    },
  ],
};
