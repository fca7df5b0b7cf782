import { type ComponentSpec, type ConfigOf, field } from '@qitian/api';

export const clusterBoltFields = {
  window: field.duration({
    description: 'Length of the tumbling windows, aligned to the epoch (a `5m` window starts at :00, :05...). The method uses 5m, 2h and 6h.',
    default: '5m',
    min: 1,
  }),
  time: field.enum({
    description:
      "`event`: windows by the events' `time` field, closed when the watermark (the lowest of the upstream tasks' highest event " +
      'times, minus `lateness`) passes their end, and all flushed when the input ends (a stop, unlike the end of the input, leaves them open in keyed state, to go on after --state-dir resumes); ' +
      'a window the input ended inside is scored only if it covers at least half its span (else counted, `windows{reason=incomplete}`: ' +
      'the few events of its start would look new). `processing`: windows by the clock of the task, ' +
      'closed on tick tuples (the bolt asks for a tick every tenth of a window, at most every second).',
    values: ['event', 'processing'],
    default: 'event',
  }),
  lateness: field.duration({
    description:
      'Event time only: how far behind the event time of the input furthest behind (each upstream task is tracked on ' +
      'its own) an event may arrive and still count in its window. Later events are dropped and counted (`late`).',
    default: '30s',
  }),
  idleTimeout: field.duration({
    description:
      'Event time only: an upstream task that has sent nothing for this long (processing time) stops holding the ' +
      'watermark back until it sends again, so that an input without traffic does not stall every window. When every ' +
      "input is silent, event time goes on with the wall clock from each input's last event (after `idleTimeout`, without " +
      'a jump), so the last window of a feed that went quiet is closed `idleTimeout` after its end instead of waiting for ' +
      'the next event (the bolt ticks for that). `0`: never.',
    default: '10s',
    min: 0,
  }),
  features: field.list({
    description:
      "Input fields whose values make up the feature vector: for each field, the fraction of the window's events having " +
      'each value (`eventType=LINK-UPDOWN: 0.4`). Severity numbers are named (`severity=err`); a null value is `(none)`.',
    items: 'string',
    default: ['eventType', 'severity'],
  }),
  maxFeatures: field.int({
    description:
      'Vocabulary cap per feature field: a window keeps its most frequent values, the rest summed as `<field>=(other)`; ' +
      'centroids keep their largest entries. 0: no cap.',
    default: 100,
    min: 0,
  }),
  distance: field.enum({
    description: '`euclidean` between fraction vectors (0 .. about 1.41 per feature field), or `cosine` (1 - cosine similarity, 0 .. 1).',
    values: ['euclidean', 'cosine'],
    default: 'euclidean',
  }),
  minEvents: field.int({
    description:
      'A window with fewer events than this is neither scored nor learned (counted, `windows{reason=too_few}`): the mix ' +
      'of a handful of events says little, and one odd line would look like new behaviour. 1: every window counts.',
    default: 1,
    min: 1,
  }),
  threshold: field.number({
    description: 'A window farther than this from every cluster founds a new cluster (and raises an alert); otherwise it joins the nearest.',
    default: 0.3,
    min: 0,
  }),
  decay: field.number({
    description:
      "How fast clusters forget: before a window joins, the cluster's weight is multiplied by (1 - decay); the centroid moves " +
      'by 1/weight towards the window. 0: a plain running mean over all windows joined.',
    default: 0,
    min: 0,
    max: 0.99,
  }),
  keyBy: field.string({
    description:
      'A field to cluster by (e.g. `host`): each value gets its own clusters, kept in keyed state so that they are ' +
      'snapshotted and move with their key groups on rescale. With parallelism above 1, the input must then be fields-grouped on this field (or global): validation says so otherwise. ' +
      'Without it, one global model: run with parallelism 1 and global grouping.',
    minLength: 1,
    example: 'host',
  }),
  maxClusters: field.int({
    description: 'Clusters kept per model; when a new one would exceed it, the one joined least recently is dropped (counted, `evicted`).',
    default: 64,
    min: 1,
  }),
  windows: field.boolean({
    description:
      'Emit one tuple per closed window on `default` (its cluster and distance). Set false when only the `alert` stream is ' +
      'consumed: then `default` is not declared and no tuple is made for it (one nobody consumes goes nowhere, not counted as dropped).',
    default: true,
  }),
} as const;

export type ClusterBoltConfig = ConfigOf<typeof clusterBoltFields>;

export const clusterBoltSpec: ComponentSpec<typeof clusterBoltFields> = {
  summary: 'Time-window incremental clustering of events: a window unlike every earlier one founds a new cluster and raises an alert.',
  description:
    'The clustering step of the syslog fault-localisation method (CN101325520). The input is parsed events (the parse ' +
    "bolt's `default` stream, or any stream with `time` and the `features` fields). Each tumbling window becomes a feature " +
    'vector of value fractions per feature field. The first window founds cluster 1; each later window joins the nearest ' +
    'cluster, whose centroid moves to the weighted mean, or, when farther than `threshold` from every cluster, founds a new ' +
    'cluster and emits an alert. Windows without events are skipped.\n\n' +
    'Stream `default`, one tuple per window: `windowStart`, `windowEnd` (ms), `cluster` (id, from 1), `distance` (to the ' +
    'nearest cluster before the window joined; null for the first window), `isNew`, `events` (count). Stream `alert`, one ' +
    'tuple per new cluster after the first: `windowStart`, `windowEnd`, `cluster`, `distance`, `nearest` (id of the nearest ' +
    'older cluster), `topFeatures` (the 5 features with the largest squared difference to the nearest centroid, as ' +
    '`{feature, value, centroid, contribution}`). With `keyBy`, both streams start with the key field (e.g. `host`).\n\n' +
    'Grouping: with `keyBy: host`, feed the bolt with `grouping: {type: fields, fields: [host]}` (any parallelism; the ' +
    'models live in keyed state). Without `keyBy`, use parallelism 1 and `grouping: {type: global}`. Window results are ' +
    'emitted unanchored (they summarise many inputs). Counters: `windows`, `clusters{reason=new|joined}`, `late`, ' +
    "`skipped{reason}` (`bad_time`, `missing_field`, and `future_time`: event time more than 1h ahead of this machine's clock, which would close every open window), `evicted`.",
  fields: clusterBoltFields,
  examples: [
    {
      title: 'One model per device over 5-minute windows',
      yaml: 'id: behaviour\ntype: cluster\nparallelism: 2\nconfig:\n  keyBy: host\n  window: 5m\n  threshold: 0.35',
    },
    {
      title: 'A global model over 2-hour windows, cosine distance, slowly forgetting',
      yaml: 'id: shifts\ntype: cluster\nconfig:\n  window: 2h\n  distance: cosine\n  threshold: 0.2\n  decay: 0.05\n  features: [eventType, severity, app]',
    },
    {
      title: 'Processing-time windows (device clocks not trusted)',
      yaml: 'id: live\ntype: cluster\nconfig:\n  time: processing\n  window: 5m\n  keyBy: host',
    },
  ],
};
