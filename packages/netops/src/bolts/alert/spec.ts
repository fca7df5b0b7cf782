import { type ComponentSpec, type ConfigOf, field } from '@qitian/api';

export const alertBoltFields = {
  strategies: field.list({
    description:
      'The strategies, each a mapping with `name` (unique), `severity` (critical, major, minor, warning, info; default ' +
      "warning), optional `suppress` (a duration; default: the bolt's `suppress`), optional `from` (only input from this " +
      'component) and exactly one kind: `threshold: {where, window, count, by}`, `rate-of-change: {where, window, factor, ' +
      'minCount, by}`, `new-cluster: {minDistance}` or `topn-entry: {dimension, watch, top}`. See the description.',
    items: 'any',
    required: true,
  }),
  notify: field.list({
    description:
      'Where alerts go besides stream `default`, each `{type, minSeverity?, ...}`: `stdout` (one readable line per alert), ' +
      '`file` (`path`: JSON lines, appended; missing folders are created; while it cannot be written its alerts are ' +
      'dropped and counted, and it is opened again for an alert at most every 5s; moved or deleted by log rotation, it is made again at its path within a second), `webhook` (`url`, `headers`, `timeout` 5s, `retries` 3, `backoff` 1s doubling ' +
      'up to `maxBackoff` 30s, `queueSize` 1000), `nats` (`servers` default nats://127.0.0.1:4222, `subject` default ' +
      'qitian.alerts, dot-separated words that may hold {severity} and {strategy} (spaces, dots and wildcards in a strategy ' +
      'name become `_`), `queueSize` 1000; each publish waits for the server to confirm it, and one not confirmed within 5s ' +
      '(a server that went away) is published again, backing off from 250ms to 30s, once the client has reconnected: at ' +
      'least once, so a lost confirmation can deliver an alert twice). Alerts still queued or waiting to be retried when ' +
      'the bolt closes (after `drainTimeout`) are dropped and counted, also as `output_lost`, so that `qitian run` exits 3.',
    items: 'any',
    default: [],
  }),
  suppress: field.duration({
    description: 'Default suppression: the same (strategy, key) does not fire again within this long of the alert time (counted, `suppressed`).',
    default: '5m',
  }),
  lateness: field.duration({
    description:
      "Threshold and rate-of-change: how long an older window stays open to late events, measured from its end to the start of its key's " +
      "newest window, and, for the watermark, from its end to the lowest of the upstream tasks' newest event times. The window before " +
      "the key's newest is always open, and so is every window some upstream task has not passed yet (a task that sent no event for `idleTimeout` " +
      'stops holding windows open), so upstream tasks drifting apart in event time (a replay parsed by several tasks) lose nothing with ' +
      '`0`. Raise it for events that arrive late from their source. Events of a closed window are only counted as `late`. ' +
      "Other keys' event times never close a key's windows: a device whose clock runs an hour ahead does not reset the others' counts.",
    default: '0s',
    min: 0,
  }),
  idleTimeout: field.duration({
    description:
      'Threshold and rate-of-change: an upstream task that has sent nothing for this long (processing time) stops holding ' +
      'events back (they wait for every task to pass their time, see the description) and windows open, until it sends ' +
      'again; so with sparse input an alert can come up to this long after its event. `0`: never (a quiet task then ' +
      'holds events until it sends again or the input ends).',
    default: '10s',
    min: 0,
  }),
  maxKeys: field.int({
    description: 'Keys counted per threshold or rate-of-change strategy; events of further keys are not counted (counted, `dropped{reason=max_keys}`).',
    default: 100_000,
    min: 1,
  }),
  drainTimeout: field.duration({
    description: 'On shutdown, how long notifiers may keep delivering queued alerts; what is left is dropped and counted.',
    default: '5s',
  }),
} as const;

export type AlertBoltConfig = ConfigOf<typeof alertBoltFields>;

export const alertBoltSpec: ComponentSpec<typeof alertBoltFields> = {
  summary: 'Applies alert strategies (thresholds, rates of change, new behaviour clusters, Top-N entries) with suppression, and notifies.',
  description:
    'Input of three kinds, told apart by their declared fields: parsed events (a stream with `time` and the event fields, ' +
    "e.g. parse's `default`), the cluster bolt's `alert` stream (fields `nearest` and `topFeatures`) and the topn bolt's " +
    'rankings (fields `dimension` and `ranking`). Output, stream `default`: `time`, `strategy`, `severity`, `key`, ' +
    '`summary` (one readable sentence), `details` (an object).\n\n' +
    'Strategy kinds:\n' +
    '- `threshold`: `count` or more events matching `where` in one tumbling `window`, per key of the `by` fields ' +
    '(e.g. `[host]` or `[host, eventType]`; none: one key `*`). Fires when the count is reached, once per window and key.\n' +
    "- `rate-of-change`: a window's count reaches `factor` times the previous window's and at least `minCount` (default " +
    "10). A key's first window is its baseline and never fires; a previous window without events counts 0; a key not " +
    'seen for two whole windows (plus `lateness`) of event time starts over: its next window is a first window again, in a ' +
    'replay as live. Its counter is freed once it has also been silent that long on the wall clock (bounded memory; a ' +
    'replay keeps its keys until it ends or `maxKeys`).\n' +
    "- `new-cluster`: each tuple of a cluster bolt's `alert` stream at least `minDistance` (default 0) from its nearest " +
    "cluster; key: the cluster bolt's key (e.g. the host), else `*`.\n" +
    '- `topn-entry`: a ranking key matched by `watch` is in the ranking (only its first `top` places, when set) of ' +
    '`dimension` (any, when unset) and was not in those places of the previous ranking of that dimension from the same Top-N bolt (with `top: 2`, a key moving from #3 to #2 enters); key `dimension=value`. `dimension` ' +
    "is the name of a topn dimension (the topn bolt's defaults: severity, event, source, destination, port), not a field " +
    'name: a name no ranking carries never matches.\n\n' +
    '`where` maps event fields to a value, a list of values, a `/regex/`, or `{min, max}`; `severity` and `facility` take ' +
    'numbers or keywords, so `severity: {max: err}` means err or worse. `watch` takes values and `/regex/`es.\n\n' +
    "Time: windows are in event time (the events' `time`, aligned to the epoch, as the cluster bolt's), so a replay " +
    "raises the same alerts; an alert's `time` is the event time that fired it (cluster and Top-N alerts: the window end), " +
    'and suppression is measured in that time. Threshold and rate-of-change count events in event-time order over all ' +
    'upstream tasks, as one task would give them: an event waits until every task of its input has sent one at least as ' +
    'new (a task that sent nothing for `idleTimeout` stops holding events back; what is held is counted when the input ends, and is ' +
    'keyed state, `held-events`), so a replay parsed by several tasks raises the same alerts at the same times as one ' +
    'task, and a rate of change compares whole windows. Events that still come after newer ones (out of order in their own ' +
    'task) count in the previous window, where they can still complete its threshold, and in older windows that some ' +
    'upstream task has not passed yet, or within `lateness`; later ones are late (counted, `late`).\n\n' +
    'Input filter: in each sending task the engine drops, before copying it, an event that no count strategy of that input ' +
    'could count (its `where` matches nothing), so most events never reach the alert bolt; inputs with a strategy without ' +
    '`where`, cluster alerts and rankings arrive whole. So `skipped{reason=bad_time}` counts only events some strategy matches.\n\n' +
    'State: window counts, held events, suppression times and the previous Top-N entries are keyed state (`counts/<strategy>`, ' +
    '`held-events`, `suppressed`, `topn-previous`), so a restarted worker thread, or a new process with `qitian run --state-dir`, goes on ' +
    'counting where the last copy left off and does not notify again what it already notified. Run it with parallelism 1.\n\n' +
    'Notifications are part of the bolt (`notify`), not separate sinks: they come after suppression, never block the ' +
    'executor (bounded queues, drops counted as `notify_dropped{reason=type}`), and a failing webhook is retried on its own ' +
    'rather than replaying the stream. Stream `default` feeds any ordinary sink (file, stdout) as well. To keep strategies ' +
    'in their own file, declare the alert bolt in it and `includes:` that file from the topology.\n\n' +
    'Grouping: global, one task (a higher parallelism is a validation error: each task would count its keys in pieces). ' +
    'Counters: `alerts{reason=strategy}`, `suppressed{reason=strategy}`, `late`, ' +
    '`skipped{reason}`, `dropped{reason}`, `notified{reason=type}`, `notify_retries{reason=type}`, `notify_failed{reason=type}`, `notify_dropped{reason=type}` (type: stdout, file, webhook, nats).',
  fields: alertBoltFields,
  examples: [
    {
      title: 'Link flaps per device, a surge of failed logins, and new behaviour, printed and posted',
      yaml:
        'id: alerts\ntype: alert\nconfig:\n  suppress: 15m\n  strategies:\n' +
        '    - name: link-flap\n      severity: major\n      threshold: { where: { eventType: LINK-UPDOWN }, window: 5m, count: 10, by: [host] }\n' +
        '    - name: login-surge\n      severity: minor\n      rate-of-change: { where: { eventType: /LOGIN_FAIL/ }, window: 5m, factor: 3, minCount: 20, by: [host] }\n' +
        '    - name: new-behaviour\n      severity: warning\n      new-cluster: { minDistance: 0.3 }\n' +
        '  notify:\n    - type: stdout\n    - type: webhook\n      url: http://alertmanager.local:9000/hook\n      minSeverity: major',
    },
    {
      title: 'Critical syslog per device and watched sources entering the Top-10, to NATS',
      yaml:
        'id: noc\ntype: alert\nconfig:\n  strategies:\n' +
        '    - name: critical-burst\n      severity: critical\n      suppress: 30m\n      threshold: { where: { severity: { max: crit } }, window: 1m, count: 1, by: [host] }\n' +
        '    - name: watched-source\n      severity: major\n      topn-entry: { dimension: source, watch: [198.51.100.7, "/^203\\\\.0\\\\.113\\\\./"], top: 10 }\n' +
        '  notify:\n    - type: nats\n      subject: noc.alerts.{severity}\n    - type: file\n      path: /var/log/qitian/alerts.jsonl',
    },
  ],
};
