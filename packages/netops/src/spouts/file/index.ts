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
  create: (config) => new FileSpout(config),
});
