import { type ComponentSpec, type ConfigOf, field } from '@qitian/api';

export const priorityRouteFields = {
  groups: field.map({
    description:
      'Extra output streams, each named by a group and carrying the events of the severities it lists (numbers 0..7 or ' +
      'names such as `crit`). An event goes to its severity stream and to every group that holds its severity. Group ' +
      'names must not be a severity name, `error` or `default`, and must be letters, digits, `_` or `-`.',
    default: {},
    example: { urgent: [0, 1, 2], noise: ['info', 'debug'] },
  }),
  severityStreams: field.boolean({
    description:
      'Declare and emit the eight per-severity streams. Set to false when only groups are consumed: tuples emitted on a ' +
      'stream nobody consumes go nowhere (not counted as dropped), but each still costs an emit.',
    default: true,
  }),
} as const;

export type PriorityRouteConfig = ConfigOf<typeof priorityRouteFields>;

export const priorityRouteSpec: ComponentSpec<typeof priorityRouteFields> = {
  summary: 'Routes parsed syslog events to one stream per severity (emerg ... debug) and to configured severity groups.',
  description:
    "Reads the `severity` field of each input tuple (the parse bolt's events) and emits the tuple unchanged, anchored " +
    'to its input, on the stream named by its severity: `emerg`, `alert`, `crit`, `err`, `warning`, `notice`, `info`, ' +
    "`debug` (0..7), and on every group of `groups` that lists that severity. Each output stream has the input's " +
    'fields (the parsed event fields). An event whose severity is missing or not an integer 0..7 goes to stream ' +
    '`error` (`raw`: the `raw` field of the input, else its `line` or `message`; `reason` = `no_severity`, `column` = 0, `peer`, `message`). Counters: `routed` by severity name, ' +
    '`grouped` by group name, `errors` with reason `no_severity`; each counted once per input batch. The input is acked ' +
    'once routed (auto-ack).',
  fields: priorityRouteFields,
  examples: [
    {
      title: 'One stream per severity',
      yaml: 'id: route\ntype: priority-route',
    },
    {
      title: 'Urgent events apart from the noise',
      yaml: 'id: route\ntype: priority-route\nparallelism: 2\nconfig:\n  groups:\n    urgent: [0, 1, 2]\n    noise: [info, debug]',
    },
    {
      title: 'Groups only',
      yaml: 'id: route\ntype: priority-route\nconfig:\n  severityStreams: false\n  groups:\n    page: [emerg, alert, crit, err]\n    store: [0, 1, 2, 3, 4, 5, 6, 7]',
    },
  ],
};
