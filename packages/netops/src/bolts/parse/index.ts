import { defineBolt } from '@qitian/api';
import { ERROR_FIELDS, EVENT_FIELDS } from '../../syslog/event.js';
import { syslogParseSpec } from './spec.js';
import { SyslogParseBolt } from './syslog-parse.js';

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
  create: (config) => new SyslogParseBolt(config),
});
