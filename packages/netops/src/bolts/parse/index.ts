import { defineBolt } from '@qitian/api';
import { ComponentConfigError } from '../../errors.js';
import { ERROR_FIELDS, EVENT_FIELDS } from '../../syslog/event.js';
import { syslogParseSpec } from './spec.js';
import { SyslogParseBolt } from './syslog-parse.js';
import { TimeZone } from './time.js';

export type { SyslogParserOptions } from './parser.js';
export { SyslogParser } from './parser.js';
export type { SyslogParseConfig } from './spec.js';
export { syslogParseFields, syslogParseSpec } from './spec.js';
export { SyslogParseBolt } from './syslog-parse.js';
export type { StructuredData, SyslogEvent, SyslogFormat, Vendor } from './types.js';
export { SyslogReject } from './types.js';

/** `type: syslog-parse` bolt: raw syslog lines to structured events (EVENT_FIELDS), rejects to `error`. */
export const syslogParseBolt = defineBolt({
  spec: syslogParseSpec,
  outputs: () => ({ default: [...EVENT_FIELDS], error: [...ERROR_FIELDS] }),
  // An unknown zone fails validation at its line, not the run at start.
  checkConfig: (config) => {
    try {
      new TimeZone(config.timezone);
    } catch (err) {
      throw new ComponentConfigError(['timezone'], (err as Error).message);
    }
  },
  // A message field no input has would make every event unparsed (no_message), said only at run time.
  checkInputs: (config, inputs) =>
    inputs.some((i) => i.fields.includes(config.field))
      ? []
      : [{ path: ['field'], field: config.field, message: `the message is read from field "${config.field}", which no input stream declares` }],
  create: (config) => new SyslogParseBolt(config),
});
