import { defineSink } from '@qitian/api';
import { StdoutSink } from './stdout.js';
import { stdoutSinkSpec } from './spec.js';

export { StdoutSink } from './stdout.js';
export type { StdoutSinkConfig } from './spec.js';
export { stdoutSinkFields, stdoutSinkSpec } from './spec.js';

/** `type: stdout` sink: JSON Lines or tab-separated text on standard output. */
export const stdoutSink = defineSink({
  spec: stdoutSinkSpec,
  autoAck: false,
  create: (config) => new StdoutSink(config),
});
