import { defineSpout } from '@qitian/api';
import { FILE_POSITION_FIELDS, FileSpout } from './file.js';
import { fileSpoutSpec } from './spec.js';

export type { FileCheckpoint, FileSpoutOptions } from './file.js';
export { FILE_POSITION_FIELDS, FileSpout } from './file.js';
export type { FileSpoutConfig } from './spec.js';
export { fileSpoutFields, fileSpoutSpec } from './spec.js';

/** `type: file` spout: the lines of a file, plain or gzip, optionally followed. */
export const fileSpout = defineSpout({
  spec: fileSpoutSpec,
  outputs: (config) => ({ default: config.position ? [...FILE_POSITION_FIELDS] : ['line'] }),
  // Every task would read the whole file: each line would come once per task, silently.
  parallelismLimit: () => ({ max: 1, why: 'every task would read the whole file, so each line would come once per task; run one task per file' }),
  create: (config) => new FileSpout(config),
});
