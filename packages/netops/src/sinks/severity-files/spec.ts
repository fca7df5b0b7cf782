import { type ComponentSpec, type ConfigOf, field } from '@qitian/api';

export const severityFilesFields = {
  dir: field.string({
    description:
      'The folder the files are written in; created when missing. `{task}` is replaced by the task index, so that tasks ' +
      'of a sink with parallelism above 1 write folders of their own. A writer holds its files with a lock file, ' +
      '`.<prefix>lock` in the folder: a second one (another run, or a task of the same sink without `{task}`) fails to ' +
      "start, naming the holder, instead of rotating the first one's files away; a lock left by a process that is gone is taken over.",
    required: true,
    minLength: 1,
    example: '/var/log/qitian',
  }),
  prefix: field.string({
    description: 'Start of every file name: severity `err` is written to `<prefix>err.jsonl`. `{task}` is replaced by the task index.',
    default: 'syslog-',
  }),
  maxBytes: field.int({
    description:
      'Rotate a file before a write would take it past this many bytes (files hold whole lines; a single longer line gets ' +
      'a file of its own). 0: no size limit.',
    default: 0,
    min: 0,
    example: 104857600,
  }),
  rotateEvery: field.duration({
    description:
      'Rotate a file that has been written for this long: the first write after this much time since the file was opened ' +
      '(or last rotated) starts a new one. An idle file is not rotated until something is written to it. Default: no time rotation.',
    min: 1,
    example: '1h',
  }),
  keep: field.int({
    description:
      'Rotated files kept per severity, numbered like logrotate: `syslog-err.1.jsonl` is the newest, the oldest beyond ' +
      '`keep` is deleted. 0 keeps none (a rotation deletes the file).',
    default: 7,
    min: 0,
  }),
  flushInterval: field.duration({
    description:
      'Per severity: ' +
      '0 (the default): a chunk is written as soon as the previous write is done, so lines gather into large chunks under ' +
      'load and go out at once when there are few. Above 0: a partly filled chunk waits up to this long for more lines, ' +
      'and so do the acks of its tuples: keep it well under `messageTimeout`, and expect at most about `maxSpoutPending` ' +
      'tuples per interval from a spout with acking on. A tuple is acked once its line is written. Once the run is ending ' +
      '(every spout at its end, or a stop) lines are written at once, so the end never waits for the interval.',
    default: 0,
    min: 0,
  }),
} as const;

export type SeverityFilesConfig = ConfigOf<typeof severityFilesFields>;

export const severityFilesSpec: ComponentSpec<typeof severityFilesFields> = {
  summary: 'Writes syslog events to one rotated JSON Lines file per severity (syslog-emerg.jsonl ... syslog-debug.jsonl).',
  description:
    'Reads the `severity` field (0..7) of each input tuple and appends the tuple, as one JSON object keyed by field name, ' +
    'to `<dir>/<prefix><severity>.jsonl` (`emerg`, `alert`, `crit`, `err`, `warning`, `notice`, `info`, `debug`). ' +
    "Existing files are appended to. Rotation works like logrotate's numbered scheme: when a file reaches `maxBytes` or " +
    'has been written for `rotateEvery`, `.<keep-1>` becomes `.<keep>` ... `.1` becomes `.2`, the file becomes ' +
    '`<prefix><severity>.1.jsonl`, and a new file is started; the oldest beyond `keep` is deleted. Lines are buffered ' +
    'per severity and written in large chunks; a tuple is acked once its line is written, and a failed write or rotation ' +
    'fails its tuples so that they are replayed (the part of a chunk a failed write got in is cut off again, and the ' +
    'next write waits 100ms, doubling up to 5s while writes keep failing). A tuple without a valid severity is acked without being written and ' +
    'counted in `errors` with reason `no_severity`. Values are converted as the file sink does; one that cannot be ' +
    'serialized at all (a cyclic object) is written as `"[unserializable: cyclic object]"` and counted in `errors` with ' +
    'reason `unserializable_value`, the first one logged. Rotation by logrotate works too, without a signal: a file moved ' +
    'or deleted under the sink (no `copytruncate`) is noticed within a second and made again at its path (counted in ' +
    '`reopened` by severity name, and logged); one truncated (`copytruncate`) is written on from its new end, and its ' +
    'size for `maxBytes` is read again. ' +
    'Counters: `bytes`, `rotations` and `reopened` by severity name, `errors` by reason, ' +
    "`write_failures` (chunks whose write or rotation failed; each is also reported, so in the task's `errors`).",
  fields: severityFilesFields,
  examples: [
    {
      title: 'One file per severity, rotated at 100 MB, 7 kept',
      yaml: 'id: by-severity\ntype: severity-files\nconfig:\n  dir: /var/log/qitian\n  maxBytes: 104857600',
    },
    {
      title: 'Hourly files, a day of them kept',
      yaml: 'id: hourly\ntype: severity-files\nconfig:\n  dir: /var/log/qitian\n  prefix: edge-\n  rotateEvery: 1h\n  keep: 24',
    },
  ],
};
