import { type ComponentSpec, type ConfigOf, field } from '@qitian/api';

export const stdoutSinkFields = {
  format: field.enum({
    description:
      '`json`: one JSON object per line, as the file sink writes. `text`: the values separated by tabs (strings as they ' +
      'are, with tabs and newlines inside them written as \\t and \\n; null and undefined as nothing; objects as JSON).',
    values: ['json', 'text'],
    default: 'json',
  }),
  fields: field.list({
    description: 'The fields to print, in this order. Default: every field of the tuple.',
    items: 'string',
    example: ['severity', 'line'],
  }),
  flushInterval: field.duration({
    description:
      '0 (the default): a chunk is written as soon as the previous write is done, so lines gather into large chunks under ' +
      'load and go out at once when there are few. Above 0: a partly filled chunk waits up to this long for more lines, ' +
      'and so do the acks of its tuples: keep it well under `messageTimeout`, and expect at most about `maxSpoutPending` ' +
      'tuples per interval from a spout with acking on. Once the run is ending (every spout at its end, or a stop) lines ' +
      'are written at once, so the end never waits for the interval.',
    default: 0,
    min: 0,
  }),
} as const;

export type StdoutSinkConfig = ConfigOf<typeof stdoutSinkFields>;

export const stdoutSinkSpec: ComponentSpec<typeof stdoutSinkFields> = {
  summary: 'Prints each tuple on a line of standard output, as JSON or as tab-separated text.',
  description:
    'Writes in chunks and waits when standard output is slower than the topology (a pipe into a slow reader), so no ' +
    'line is lost and the wait reaches the spouts as backpressure. A tuple is acked once its line is written. If ' +
    'standard output is gone (the reader exited), lines are dropped and counted (reason stdout_error) rather than replayed, ' +
    'and the error is reported once. A value that cannot be serialized (a cyclic object) is printed as ' +
    '`"[unserializable: cyclic object]"` and counted in `errors` with reason `unserializable_value`, the first one logged.',
  fields: stdoutSinkFields,
  examples: [
    {
      title: 'Print every tuple as JSON',
      yaml: 'id: print\ntype: stdout',
    },
    {
      title: 'Print two fields as tab-separated text',
      yaml: 'id: show\ntype: stdout\nconfig:\n  format: text\n  fields: [word, count]',
    },
  ],
};
