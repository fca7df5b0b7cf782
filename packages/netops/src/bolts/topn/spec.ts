import { type ComponentSpec, type ConfigOf, field } from '@qitian/api';

export const topnFields = {
  stage: field.enum({
    description:
      '`single`: one bolt counts and ranks (parallelism 1; above 1 only with a single dimension, fields-grouped on its key: validation rejects it with several; ' +
      'with parallelism above 1, its open windows are kept across restarts only at the same parallelism: see the description). ' +
      '`partial`: each task counts its share of the input (any grouping) and sends its candidates per closed window to a ' +
      '`merge` stage. `merge`: one task (global grouping from the partial stage) adds the partial candidates up and emits ' +
      'the final ranking once every partial task has closed the window (or has been silent for `idleTimeout`). A merge takes windows, dimensions, `n` and the ' +
      'counting mode from what the partial tasks send; of its own config only `separator` and `idleTimeout` apply.',
    values: ['single', 'partial', 'merge'],
    default: 'single',
  }),
  window: field.duration({
    description: 'Window length. Windows are aligned to the epoch: a 5m window starts at :00, :05, :10...',
    default: '5m',
    min: 1,
  }),
  slide: field.duration({
    description:
      'Sliding windows: a new window starts every `slide` (each tuple is counted in window/slide windows). ' +
      'Default: equal to `window` (tumbling windows). Must not exceed `window`.',
    min: 1,
    example: '1m',
  }),
  timeMode: field.enum({
    description:
      '`event`: windows follow the time carried by the tuples (`timeField`); a window is emitted once the watermark ' +
      "(the lowest of the upstream tasks' largest event times, minus `allowedLateness`) reaches its end. `processing`: windows follow the " +
      "task's clock; a window is emitted at the first tick or batch after its end (ticks come every min(slide, 1s) unless " +
      '`tick:` says otherwise).',
    values: ['event', 'processing'],
    default: 'event',
  }),
  timeField: field.string({
    description:
      'The input field holding event time in ms since the epoch (event time only). A tuple without a finite number there is dropped and counted (`dropped{reason="bad_time"}`).',
    default: 'time',
    minLength: 1,
  }),
  allowedLateness: field.duration({
    description:
      'How far event time may go back: the watermark trails the event time of the input furthest behind by this much ' +
      '(each upstream task is tracked on its own, so parallel parsers drifting apart do not make the slower one late). ' +
      'A tuple whose windows have all ended at or before the watermark is late: it is dropped and counted (`late`).',
    default: 0,
  }),
  idleTimeout: field.duration({
    description:
      'An upstream task that has sent nothing for this long (processing time) stops holding windows back until it ' +
      'sends again, so that an input without traffic does not stall every window: in event time, a silent input of a ' +
      '`single` or `partial` stage leaves the watermark; in a `merge`, a partial task that has not reported (partial tasks ' +
      'report their progress once a second from their first input on, quiet or not, so this is one that never had input) is not waited for; such a window is emitted with ' +
      '`exact` and `guaranteed` false, since counts the silent task sends for it later come too late (counted as ' +
      '`dropped{reason=after_emit}`). When every input of an event-time `single` or `partial` stage is silent, event time ' +
      "goes on with the wall clock from each input's last event (after `idleTimeout`, without a jump), so the last windows " +
      'of a feed that went quiet are emitted `idleTimeout` after their end instead of waiting for the next event; the stage ' +
      'ticks once a second for that. `0`: never.',
    default: '10s',
    min: 0,
  }),
  dimensions: field.list({
    description:
      'What to rank: a list of `{ name, fields, n }`. The key of a tuple in a dimension is the value of its `fields` ' +
      '(several fields are joined by `separator`, a null part shown as `-`, and a tuple with every part null not counted); ' +
      'with one field, a tuple whose value is null is not counted in that dimension. ' +
      '`n` overrides the top-level `n`. Default: the five of the network-ops method: `severity` [severity] (n 8), ' +
      '`event` [host, srcIp, dstIp, eventType], `source` [srcIp], `destination` [dstIp], `port` [dstPort].',
    items: 'any',
    example: [
      { name: 'source', fields: ['srcIp'], n: 20 },
      { name: 'pair', fields: ['srcIp', 'dstIp'] },
    ],
  }),
  n: field.int({
    description: 'How many entries each ranking holds (per dimension unless the dimension sets its own `n`).',
    default: 10,
    min: 1,
  }),
  mode: field.enum({
    description:
      '`exact`: one counter per distinct key (memory grows with the keys of a window). `space-saving`: at most ' +
      '`capacity` counters per dimension, window and task (Metwally et al.); counts may be overestimated, and each ' +
      'entry reports its maximum overestimation as `error`. Memory stays bounded under floods of spoofed addresses.',
    values: ['exact', 'space-saving'],
    default: 'exact',
  }),
  capacity: field.int({
    description: 'Space-Saving only: counters per dimension, window and task. Heavy hitters above total/capacity are always found.',
    default: 1000,
    min: 1,
  }),
  candidates: field.int({
    description:
      'Partial stage only: how many entries per dimension a partial task sends per window, its largest counts; 0 sends ' +
      'every counter. With fewer, the task also sends the largest count it left out, and the merge reports the resulting ' +
      'uncertainty as error and `exact`/`guaranteed` (see the description). Fewer than `n` can leave merged rankings ' +
      'short of `n` entries; task 0 of the partial stage says so in a warning at start.',
    default: 0,
    min: 0,
  }),
  groupedBy: field.list({
    description:
      'Partial stage only: the fields the partial stage is fields-grouped on, if it is. A dimension whose fields include ' +
      "all of them is counted by one task per key, which the merge then knows: a key missing from a task's candidates " +
      'counts 0 there instead of "at most what that task left out".',
    items: 'string',
    example: ['srcIp'],
  }),
  separator: field.string({
    description: 'How the parts of a key of several fields are joined in the output.',
    default: ' | ',
  }),
} as const;

export type TopNConfig = ConfigOf<typeof topnFields>;

/** The output of `single` and `merge`: one tuple per window and dimension. */
export const TOPN_FIELDS = [
  'dimension',
  'windowStart',
  'windowEnd',
  'ranking',
  'total',
  'distinct',
  'late',
  'exact',
  'guaranteed',
  'complete',
  'until',
] as const;

/**
 * What a partial task sends the merge, one tuple per closed window and dimension, then one
 * progress marker per round of closed windows (dimension null, `progress` set). The marker sent
 * when the input ends (progress END_OF_INPUT) carries in `until` how far the task's time got (its
 * highest event time), so that the merge can tell the windows the input did not reach the end of.
 */
export const TOPN_PARTIAL_FIELDS = [
  'dimension',
  'windowStart',
  'windowEnd',
  'keys',
  'counts',
  'errors',
  'total',
  'rest',
  'bound',
  'distinct',
  'n',
  'partitioned',
  'late',
  'progress',
  'until',
] as const;

export const topnSpec: ComponentSpec<typeof topnFields> = {
  summary: 'Top-N per time window over several dimensions (severity, event, source, destination, port), exact or Space-Saving, in one or two stages.',
  description:
    'Counts input tuples per key in each dimension over tumbling or sliding windows, in event or processing time, and ' +
    'emits one tuple per window and dimension on `default`: `dimension` (its name), `windowStart` and `windowEnd` (ms ' +
    'since the epoch; the window is [start, end)), `ranking` (the top `n` as `[{ key, count, error }]`, largest count ' +
    'first, ties by key: keys that are decimal numbers first and in numeric order, as ports are listed, then the others as text; a key of several fields is its values joined by `separator`, a number as its decimal text), ' +
    '`total` (tuples counted in the window and dimension), `distinct` (distinct keys; -1 when not known exactly: after a ' +
    'Space-Saving eviction, or in a merge of truncated candidates that are not partitioned by key), `late` (tuples ' +
    'dropped as late since the previous emitted window; the same number on every dimension of the window), `exact` ' +
    '(every count in the ranking is exact and the ranking is the true top n), `guaranteed` (the set of keys is the ' +
    'true top n, though counts may be overestimates: the smallest count - error in the ranking is at least the count of ' +
    'the next candidate and of any key not reported), and `complete` and `until` (below). Windows in which nothing was counted ' +
    'are not emitted; a window that counted something emits a row for every dimension, with `total` 0 and an empty ' +
    'ranking for a dimension none of its events had a value for (a null host, say); every open window is emitted when ' +
    'the input ends.\n\n' +
    'A window is `complete` when time reached its end: the watermark (processing time: the clock) passed it, or, for a ' +
    'window emitted because the input ended, the highest event time of the input did (the watermark trails that by ' +
    '`allowedLateness`, but no more events can come). `complete` false means the input ended inside the window: its ' +
    'counts cover [windowStart, until], `until` being the highest event time the input reached (processing time: the ' +
    'clock when it ended), and total / (until - windowStart) is its rate. A complete window has `until` = `windowEnd`. ' +
    'A merge takes the highest time any partial task reached (the task that got furthest shows how far the input went; ' +
    'every task has sent all it had), so it reports what a single stage would over the same input.\n\n' +
    'In `exact` mode, `count` is the true count and `error` 0. In `space-saving` mode, the true count lies in ' +
    '[count - error, count]; a key whose true count exceeds total/capacity is always in the summary; as long as a ' +
    'window has no more distinct keys than `capacity`, Space-Saving is exact too.\n\n' +
    "Two stages scale out: `stage: partial` tasks take any grouping and, per closed window, send each dimension's " +
    'counters to one `stage: merge` task (global grouping), which emits once every task of the partial component has ' +
    'closed the window, or when the input ends. The result of a merge is exact when every partial task sends all its ' +
    'counters (`candidates: 0`, the default) in exact mode, whatever the grouping. With `candidates: K` it is exact when ' +
    'the dimension is partitioned by key (`groupedBy`) and the n-th count is at least the largest count any task left ' +
    "out; on shuffled input a key's missing shares are bounded by what each task left out and show as error. " +
    'Space-Saving partials merge as mergeable summaries: errors add up. `exact` and `guaranteed` say which case holds, ' +
    'per window and dimension.\n\n' +
    'Across restarts (`qitian run --state-dir`, or a worker thread replaced after a crash), open windows are kept in keyed ' +
    'state: those of a `single` stage, of every `partial` task, and of the `merge` (what the partial ' +
    'tasks have sent for windows it has not emitted yet, so a restart between the two loses nothing), with the highest ' +
    'event time counted and the `late` count not yet reported. With `--state-dir`, a stop (a signal, `--duration`) ' +
    'does not emit open windows: they stay open, and the resumed run goes on filling them, so each comes out once with ' +
    'the count of both runs; without it, nothing would keep them, so a stop emits them, incomplete; the end of the ' +
    'input always emits them (above). Restored partial windows are added up on whichever task they ' +
    'land on, so the partial stage may change parallelism between runs (such a window is not reported to the merge as ' +
    'partitioned by key: its keys were counted by other tasks too). A `single` stage with parallelism above 1 keeps ' +
    "each task's windows (its share of the keys, those of the key groups it owns) under keys of that task's key groups, " +
    'so that a resumed run or a replaced thread gives them back to the task that owns those keys now; it takes back only ' +
    'windows counted with the same parallelism and `maxParallelism` (with another parallelism a key would be counted in ' +
    'two tasks): others are dropped with a warning, except that parallelism 1 takes every share (each key is in one of ' +
    'them). So are restored windows that no longer fit the config (another `window` or `slide`, or ' +
    'the stage), and the counts of a dimension renamed, with other fields, or in `exact` mode after `space-saving`. ' +
    'The watermark is not kept, but a task with restored windows starts its clock where the earlier run got (the ' +
    'slowest of the tasks whose windows it took): they close once new input moves it past their end, or `idleTimeout` ' +
    'after their end if no new input comes (or at the end of the input), and a partial task reports its progress from ' +
    'the start, so a merge waits for it. Keyed state is copied every `stateSnapshotInterval` (topology config) and at a stop; after a crash, what was ' +
    'counted since the last copy is lost.\n\n' +
    'In event time, each task keeps its own watermark; a merge waits for the slowest partial task, so a partial task ' +
    'that receives nothing holds windows back until the input ends. Output is not anchored to the input (at-least-once ' +
    'replays would count twice). Counters: `late` (tuples dropped as late) and `dropped{reason}` (`bad_time`, `future_time` ' +
    "(event time more than 1h ahead of this machine's clock: a device with a wrong clock would otherwise close every open window), and " +
    "at a merge `after_emit`, candidates of a window already emitted, and `not_partial`, input that is not a partial stage's output).",
  fields: topnFields,
  examples: [
    {
      title: 'The five Top-N of the network-ops method per 5 minutes, on one task',
      yaml: 'id: topn\ntype: topn\nconfig:\n  window: 5m\n  allowedLateness: 30s\n  n: 10',
    },
    {
      title: 'Partial stage of a scaled-out Top-N: sliding windows, bounded memory',
      yaml:
        'id: topn-partial\ntype: topn\nparallelism: 4\nconfig:\n  stage: partial\n  window: 10m\n  slide: 1m\n' +
        '  mode: space-saving\n  capacity: 2000\n  dimensions:\n    - { name: source, fields: [srcIp], n: 20 }\n' +
        '    - { name: port, fields: [dstPort] }',
    },
    {
      title: 'Merge stage (fed with grouping: global from topn-partial)',
      yaml: 'id: topn-merge\ntype: topn\nconfig:\n  stage: merge',
    },
  ],
};
