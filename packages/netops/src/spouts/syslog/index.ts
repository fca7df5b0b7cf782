import { defineSpout } from '@qitian/api';
import { RAW_FIELDS } from '../../syslog/event.js';
import { syslogSpoutSpec } from './spec.js';
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
  create: (config) => new SyslogSpout(config),
});
