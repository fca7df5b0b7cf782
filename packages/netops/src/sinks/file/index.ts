import { defineSink } from '@qitian/api';
import { checkFieldList } from '../../internal/field-list.js';
import { FileSink } from './file.js';
import { fileSinkSpec } from './spec.js';

export { FileSink } from './file.js';
export type { FileSinkConfig } from './spec.js';
export { fileSinkFields, fileSinkSpec } from './spec.js';

/** `type: file` sink: JSON Lines to a file. Acks each tuple once its line is written. */
export const fileSink = defineSink({
  spec: fileSinkSpec,
  autoAck: false,
  checkInputs: (config, inputs) => checkFieldList(config.fields, inputs),
  create: (config) => new FileSink(config),
});
