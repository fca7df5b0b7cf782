import { defineSink } from '@qitian/api';
import { ConsoleReport } from './report.js';
import { consoleReportSpec } from './spec.js';

export { ConsoleReport } from './report.js';
export type { ConsoleReportConfig } from './spec.js';
export { consoleReportFields, consoleReportSpec } from './spec.js';

/** `type: console-report` sink: Top-N blocks per window and alert lines, for a terminal. */
export const consoleReportSink = defineSink({
  spec: consoleReportSpec,
  autoAck: false,
  create: (config) => new ConsoleReport(config),
});
