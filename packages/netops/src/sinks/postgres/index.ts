import { defineSink } from '@qitian/api';
import { PostgresSink } from './postgres.js';
import { postgresSinkSpec } from './spec.js';

export { PostgresSinkConfigError, PostgresSinkError } from './errors.js';
export { describeTarget, PostgresSink } from './postgres.js';
export type { PostgresSinkConfig } from './spec.js';
export { postgresSinkFields, postgresSinkSpec } from './spec.js';
export { COLUMNS as POSTGRES_COLUMNS } from './sql.js';

/** `type: postgres` sink: syslog events stored by severity in PostgreSQL. Acks once a batch has committed. */
export const postgresSink = defineSink({
  spec: postgresSinkSpec,
  autoAck: false,
  create: (config) => new PostgresSink(config),
});
