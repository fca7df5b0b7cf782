import { defineSink } from '@qitian/api';
import { checkFieldList } from '../../internal/field-list.js';
import { stdoutSinkSpec } from './spec.js';
import { StdoutSink } from './stdout.js';

export type { StdoutSinkConfig } from './spec.js';
export { stdoutSinkFields, stdoutSinkSpec } from './spec.js';
export { StdoutSink } from './stdout.js';

/** `type: stdout` sink: JSON Lines or tab-separated text on standard output. */
export const stdoutSink = defineSink({
  spec: stdoutSinkSpec,
  autoAck: false,
  checkInputs: (config, inputs) => checkFieldList(config.fields, inputs),
  create: (config) => new StdoutSink(config),
});
