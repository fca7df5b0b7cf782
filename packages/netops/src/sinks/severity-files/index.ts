import { defineSink } from '@qitian/api';
import { needsSeverity } from '../../internal/field-list.js';
import { SeverityFilesSink } from './severity-files.js';
import { severityFilesSpec } from './spec.js';

export { SeverityFilesSink } from './severity-files.js';
export type { SeverityFilesConfig } from './spec.js';
export { severityFilesFields, severityFilesSpec } from './spec.js';

/** `type: severity-files` sink: one rotated JSON Lines file per syslog severity. Acks once lines are written. */
export const severityFilesSink = defineSink({
  spec: severityFilesSpec,
  autoAck: false,
  // Without it every tuple is acked unwritten (errors{reason=no_severity}): said when validating.
  checkInputs: (_config, inputs) => needsSeverity(inputs, 'severity-files'),
  create: (config) => new SeverityFilesSink(config),
});
