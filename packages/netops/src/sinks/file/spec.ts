import { type ComponentSpec, type ConfigOf, field } from '@qitian/api';

export const fileSinkFields = {
  path: field.string({
    description:
      'The file to write; its folder is created when missing. `{task}` in the path is replaced by the task index, ' +
      'so that tasks of a sink with parallelism above 1 write files of their own.',
    required: true,
    minLength: 1,
    example: '/var/lib/qitian/events-{task}.jsonl',
  }),
  fields: field.list({
    description: 'The fields to write, in this order (a field the tuple lacks is written as null). Default: every field of the tuple.',
    items: 'string',
    example: ['severity', 'host', 'message'],
  }),
  append: field.boolean({
    description:
      'Append to the file if it exists; by default it is emptied at the first write (or at the end of a run that wrote ' +
      "nothing), not when the sink opens, so a run that fails to start leaves the last run's output as it was; unless the " +
      'run resumes from a state file (`qitian run --state-dir` with state an earlier run saved): then it goes on from ' +
      'that run, appending; and a task on a thread started in place of one that died appends to what the earlier thread wrote ' +
      "(when that thread never wrote, so that the file still holds an earlier run's output, it is emptied as usual). " +
      'A path that is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO) is never emptied, only written.',
    default: false,
  }),
  flushInterval: field.duration({
    description:
      '0 (the default): a chunk is written as soon as the previous write is done, so lines gather into large chunks under ' +
      'load and go out at once when there are few. Above 0: a partly filled chunk waits up to this long for more lines, ' +
      'and so do the acks of its tuples: keep it well under `messageTimeout`, and expect at most about `maxSpoutPending` ' +
      'tuples per interval from a spout with acking on. A tuple is acked once its line is written. Once the run is ending (every spout at its end, or a stop) lines are ' +
      'written at once, so the end never waits for the interval.',
    default: 0,
    min: 0,
  }),
} as const;

export type FileSinkConfig = ConfigOf<typeof fileSinkFields>;

export const fileSinkSpec: ComponentSpec<typeof fileSinkFields> = {
  summary: 'Writes each tuple as one JSON object per line (JSON Lines) to a file.',
  description:
    'Each input tuple becomes `{"field": value, ...}` on a line of its own, fields named as the input stream declares ' +
    'them. Values JSON cannot hold are converted: bigints become decimal strings, bytes become base64 strings, Maps ' +
    'objects and Sets arrays, Errors `{name, message}`, RegExps `"/source/flags"`, NaN and undefined null. A value that cannot be serialized at all (a cyclic object, a ' +
    '`toJSON` that throws) is written as a string saying so, `"[unserializable: cyclic object]"`: the line is still ' +
    'written and its tuple acked, the value counted in `errors` with reason `unserializable_value`, and the first one ' +
    'logged with its field name. Tuples are acked once their line has been handed to the operating system; a failed ' +
    'write fails them, so that they are replayed: what part of the chunk got in (a disk that filled up) is cut off ' +
    'again, so the file holds no torn line, and the next write waits 100ms, doubling up to 5s while writes keep failing. Log rotation needs no signal: a file moved or deleted under the sink ' +
    '(logrotate without `copytruncate`) is noticed within a second and made again at its path, counted in `reopened` ' +
    'with reason `moved` and logged; with `copytruncate` the sink goes on at the new end of the truncated file (it ' +
    'always appends), leaving no hole. A path that is not a regular file (/dev/stdout, a pipe) is never reopened.',
  fields: fileSinkFields,
  examples: [
    {
      title: 'Store every parsed event',
      yaml: 'id: store\ntype: file\nconfig:\n  path: /var/lib/qitian/events.jsonl',
    },
    {
      title: 'Append selected fields, one file per task',
      yaml:
        'id: alerts-out\ntype: file\nparallelism: 2\nconfig:\n  path: /var/lib/qitian/alerts-{task}.jsonl\n  append: true\n' +
        '  fields: [time, device, rule, message]\n  flushInterval: 200ms',
    },
  ],
};
