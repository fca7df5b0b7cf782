import { defineSink } from '@qitian/api';
import { ComponentConfigError } from '../../errors.js';
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
  // A URL that is none fails at validation, not as a host-name lookup error at start.
  checkConfig: (config) => {
    if (config.url === undefined) return;
    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      throw new ComponentConfigError(['url'], `"${config.url}" is not a URL; write postgres://user:password@host:port/database`);
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw new ComponentConfigError(['url'], `expected a postgres:// or postgresql:// URL, got ${url.protocol}//`);
    }
  },
  create: (config) => new PostgresSink(config),
});
