import { type ComponentSpec, type ConfigOf, field } from '@qitian/api';

export const fileSpoutFields = {
  path: field.string({
    description: 'The file to read. A gzip file is recognised by its magic bytes (1f 8b), whatever its name.',
    required: true,
    minLength: 1,
    example: '/var/log/syslog',
  }),
  encoding: field.enum({
    description:
      'How line bytes are decoded. With utf8, a line that is not valid UTF-8 is still emitted, its bad bytes as U+FFFD, and counted (invalid_utf8); the first is logged with its offset. A UTF-8 byte order mark that opens the file is dropped.',
    values: ['utf8', 'latin1', 'ascii'],
    default: 'utf8',
  }),
  follow: field.boolean({
    description:
      'Keep reading lines appended to the file, like `tail -F`: a truncated file is read again from its start, and a file ' +
      'replaced under the same name (rotation, seen as a new inode) is read to its end and then the new file is opened. ' +
      'When it was rotated more than once before the task looked again (it lagged, or resumed in an old file), the rotated ' +
      'files in between are read too, oldest first, before the new file: they are found beside it by their names ' +
      '(`app.log.1` is newer than `app.log.2`, `app.log-20261204` than `app.log-20261203`), or by modification time when the ' +
      "old file is no longer there under such a name. `tail -F` reads only the new file, and Vector's file source only files " +
      'its include patterns name, so their lines would be lost silently; a file in between that is already compressed is not ' +
      'read either, but named in a warning with its size. ' +
      'Truncation is seen as the file getting shorter than the position read, or, when it was written again past that ' +
      'position before the next poll (logrotate copytruncate), as the first bytes read of it (up to 256) changing; a ' +
      'rewrite that keeps them is not noticed. A file that does not exist yet is waited for (logged once, checked every ' +
      'pollInterval) and read from its start once it appears, whatever startAt says; any other error opening it still ' +
      'fails at start, and a path that appears as something unreadable (a directory, no permission) ends the task as input ' +
      'that could not be read. Gzip files are read once.',
    default: false,
  }),
  startAt: field.enum({
    description:
      'Where reading starts when there is no checkpoint to resume from: the first line, or the current end of the file. ' +
      'end applies only to a file that exists when the task starts: a followed file that appears later is all new and is read from its start.',
    values: ['beginning', 'end'],
    default: 'beginning',
  }),
  pollInterval: field.duration({
    description:
      'In follow mode, how often the file is checked for new lines, truncation and rotation once its end is reached, and for its appearance while it does not exist.',
    default: '250ms',
    min: 1,
  }),
  position: field.boolean({
    description:
      'Also emit where each line is: the fields `file` (the path), `lineNumber` (1-based, counted from the start of the ' +
      'file; null when reading did not start there and no checkpoint of this task recorded it, as with startAt: end) and ' +
      '`offset` (byte offset of the line, in the decompressed data for gzip). syslog-parse puts them in its errors as ' +
      '`file:line:column`. A rotated or truncated file, or a followed file that appears after the task started, starts at line 1.',
    default: false,
  }),
  maxLineBytes: field.int({
    description: 'Longest line accepted, in bytes without the newline. Longer lines are skipped and counted as dropped (reason line_too_long).',
    default: 1_048_576,
    min: 1,
  }),
} as const;

export type FileSpoutConfig = ConfigOf<typeof fileSpoutFields>;

export const fileSpoutSpec: ComponentSpec<typeof fileSpoutFields> = {
  summary: 'Reads lines from a file or a gzip file, optionally following it like `tail -F`.',
  description:
    'Emits one tuple per line on stream `default` with the field `line` (CR LF and LF endings; at the end of the file, a last ' +
    'line without a newline is emitted too; when following, it is held until its newline comes, since the writer may be mid-line, ' +
    'so a run stopped before that leaves it to the next run with `--state-dir`, or unread without; when not following, it is ' +
    'emitted and the checkpoint records that it had no newline, so that a later run that finds the line continued emits it ' +
    'again whole, not its rest as a line of its own (the part emitted before is a duplicate, as with at-least-once), and ' +
    "one that finds only its newline added reads on after it), and with `position: true` also `file`, `lineNumber` and `offset`. With acking on, a line's message id is its byte offset (in the decompressed data for " +
    'gzip); a failed line is emitted again before any new line, and the task saves as its checkpoint the offset of the ' +
    "lowest line not yet acked, with the file's inode, a hash of its first bytes (up to 256), the bytes known to be in it and a " +
    'hash of the bytes (up to 256) before the offset, so that a restarted task resumes there. When the file was rotated meanwhile ' +
    '(renamed: the old file is found by its inode in the same folder) or truncated or rewritten (logrotate copytruncate: the copy ' +
    'is the file beside it named like a rotation, `app.log.1`, `app.log.0`, `app.log-20261203`..., that has the same first bytes and ' +
    'the same bytes before the offset, the last modified of several), the task reads the rest of the old file or copy from the ' +
    'offset first, then the file at the path from its start, with or without follow. When there is no such file (compressed, ' +
    'deleted), it reads the file at the path from its start and warns that lines after the offset may be lost, with the bytes ' +
    'read past the offset before the stop as a lower bound (what was written after the stop is not known). In follow mode, a file ' +
    'missing at restart counts as replaced once it appears; no checkpoint is saved while it is missing. Read-ahead is bounded, ' +
    'so memory stays flat however large the file. Every task would read the whole file, so a parallelism above 1 is a validation error. Counters: ' +
    'bytes (read, after decompression), reopened{reason: rotated, truncated}, dropped{reason: line_too_long, truncated_input}, ' +
    'invalid_utf8 (lines with bytes that are not UTF-8, emitted with U+FFFD). A read that fails (an I/O error, a damaged or ' +
    'truncated gzip file) ends the task: the complete lines read before it are emitted, the unfinished line it cut off is not ' +
    'but is counted as dropped{reason: truncated_input}, and the error is reported as input that could not be read to its ' +
    "end, which the engine counts in the task's `errors` and in `input_failed`, and logs; `qitian run` then exits 4 (see docs/cli.md).",
  fields: fileSpoutFields,
  examples: [
    {
      title: 'Replay a syslog file once, with the file, line number and offset of each line (parse errors then say file:line:column)',
      yaml: 'id: lines\ntype: file\nconfig:\n  path: /var/log/syslog\n  position: true',
    },
    {
      title: 'Follow a live log across rotations, starting at its current end',
      yaml: 'id: live\ntype: file\nconfig:\n  path: /var/log/messages\n  follow: true\n  startAt: end\n  pollInterval: 100ms',
    },
    {
      title: 'Read a compressed archive, skipping absurdly long lines',
      yaml: 'id: archive\ntype: file\nconfig:\n  path: /data/syslog-2024-11-22.gz\n  maxLineBytes: 65536',
    },
  ],
};
