import { defineSpout } from '@qitian/api';
import { RAW_FIELDS } from '../../syslog/event.js';
import { DeviceSyslogSpout } from './device-syslog.js';
import { deviceSyslogSpoutSpec } from './spec.js';

export type { DeviceSyslogCheckpoint } from './device-syslog.js';
export { DeviceSyslogSpout } from './device-syslog.js';
export type { Fault } from './model.js';
export { DeviceSyslogModel } from './model.js';
export type { Device, DeviceKind, DeviceOs, DeviceVendor } from './network.js';
export type { DeviceSyslogOptions, FaultInput, FaultKind, RateStepInput } from './options.js';
export { DeviceSyslogConfigError, FAULT_KINDS } from './options.js';
export type { DeviceSyslogSpoutConfig } from './spec.js';
export { deviceSyslogSpoutFields, deviceSyslogSpoutSpec } from './spec.js';

/** `type: device-syslog` spout: realistic seeded syslog from a simulated network, with injectable faults. */
export const deviceSyslogSpout = defineSpout({
  spec: deviceSyslogSpoutSpec,
  outputs: () => ({ default: [...RAW_FIELDS] }),
  create: (config) => new DeviceSyslogSpout(config),
});
