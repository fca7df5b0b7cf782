import { defineSpout } from '@qitian/api';
import { RAW_FIELDS } from '../../syslog/event.js';
import { DEFAULT_PORTS, syslogSpoutSpec } from './spec.js';
import { ComponentConfigError } from '../../errors.js';
import { SyslogSpout, tlsConfigProblem } from './syslog.js';

export { SyslogListenError } from './errors.js';
export type { FrameSink, FramingFallback, FramingMode } from './framing.js';
export { FrameDecoder } from './framing.js';
export type { SyslogSpoutConfig } from './spec.js';
export { DEFAULT_PORTS, syslogSpoutFields, syslogSpoutSpec } from './spec.js';
export type { SyslogAddress } from './syslog.js';
export { formatPeer, SyslogSpout } from './syslog.js';

/** `type: syslog` spout: raw syslog messages received over UDP, TCP (RFC 6587) or TLS (RFC 5425). */
export const syslogSpout = defineSpout({
  spec: syslogSpoutSpec,
  outputs: () => ({ default: [...RAW_FIELDS] }),
  checkConfig: (config) => {
    const tls = tlsConfigProblem(config);
    if (tls) throw new ComponentConfigError(tls.path, tls.message);
  },
  // Each task binds the port itself (exclusively): a second task on the same port fails the start.
  parallelismLimit: (config) => {
    const port = config.port ?? DEFAULT_PORTS[config.protocol];
    return port === 0 ? undefined : { max: 1, why: `each task would listen on port ${port} itself, and a port takes one listener; run one task` };
  },
  create: (config) => new SyslogSpout(config),
});
