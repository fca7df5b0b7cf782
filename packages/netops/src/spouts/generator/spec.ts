import { type ComponentSpec, type ConfigOf, field } from '@qitian/api';

export const generatorSpoutFields = {
  seed: field.int({
    description: 'Seed of the generator. The same seed, task index and sequence number always give the same line.',
    default: 1,
  }),
  rate: field.number({
    description: 'Tuples per second per task; 0 emits as fast as the topology takes them.',
    default: 0,
    min: 0,
  }),
  count: field.int({
    description: 'Tuples per task before the spout ends; 0 never ends.',
    default: 0,
    min: 0,
  }),
  format: field.enum({
    description:
      'What each line holds: `syslog`, RFC 3164 lines with varied priorities, hosts, programs, addresses and ports; ' +
      '`words`, lines of words from a small fixed vocabulary with a skewed (Zipf-like) frequency, for word counts; ' +
      '`sequence`, the decimal sequence number.',
    values: ['syslog', 'words', 'sequence'],
    default: 'syslog',
  }),
} as const;

export type GeneratorSpoutConfig = ConfigOf<typeof generatorSpoutFields>;

export const generatorSpoutSpec: ComponentSpec<typeof generatorSpoutFields> = {
  summary: 'Emits seeded, deterministic synthetic lines: syslog, words or sequence numbers.',
  description:
    'Emits one tuple per line on stream `default` with the field `line`. Line i of a task is a pure function of ' +
    '(seed, task index, i), so runs repeat exactly and a failed line is regenerated rather than kept in memory. Each ' +
    'task numbers its lines 0, 1, 2...; with acking on, the number is the message id, and the task saves the lowest ' +
    'number not yet acked as its checkpoint (`{next}`), so that a restarted task resumes there. `rate` is enforced ' +
    'with a token bucket; syslog lines average about 120 bytes.',
  fields: generatorSpoutFields,
  examples: [
    {
      title: 'Synthetic syslog as fast as the topology goes (benchmarks)',
      yaml: 'id: gen\ntype: generator\nparallelism: 2\nconfig:\n  format: syslog\n  seed: 42',
    },
    {
      title: 'A steady 10k lines per second per task',
      yaml: 'id: steady\ntype: generator\nconfig:\n  rate: 10000',
    },
    {
      title: 'One million words lines, then end',
      yaml: 'id: words\ntype: generator\nconfig:\n  format: words\n  count: 1000000',
    },
  ],
};
