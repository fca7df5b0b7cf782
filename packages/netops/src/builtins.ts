import type { ComponentDefinition } from '@qitian/api';
import { alertBolt } from './bolts/alert/index.js';
import { clusterBolt } from './bolts/cluster/index.js';
import { syslogParseBolt } from './bolts/parse/index.js';
import { priorityRouteBolt } from './bolts/priority-route/index.js';
import { topnBolt } from './bolts/topn/index.js';
import { consoleReportSink } from './sinks/console-report/index.js';
import { fileSink } from './sinks/file/index.js';
import { postgresSink } from './sinks/postgres/index.js';
import { severityFilesSink } from './sinks/severity-files/index.js';
import { stdoutSink } from './sinks/stdout/index.js';
import { deviceSyslogSpout } from './spouts/device-syslog/index.js';
import { fileSpout } from './spouts/file/index.js';
import { generatorSpout } from './spouts/generator/index.js';
import { syslogSpout } from './spouts/syslog/index.js';

/**
 * A built-in component: its type name in YAML, its definition, and the named export of the
 * package's entry module that holds the definition (so that a worker thread can import it).
 * Shaped like the topology package's RegisteredComponent, which this package may not import.
 */
export interface BuiltinComponent {
  readonly type: string;
  readonly definition: ComponentDefinition;
  readonly export: string;
  readonly ref: { readonly url: string; readonly export: string };
}

/** The built-ins without their module URL. Spout and sink types are separate name spaces. */
export const builtinEntries = [
  { type: 'file', definition: fileSpout, export: 'fileSpout' },
  { type: 'generator', definition: generatorSpout, export: 'generatorSpout' },
  { type: 'syslog', definition: syslogSpout, export: 'syslogSpout' },
  { type: 'device-syslog', definition: deviceSyslogSpout, export: 'deviceSyslogSpout' },
  { type: 'syslog-parse', definition: syslogParseBolt, export: 'syslogParseBolt' },
  { type: 'priority-route', definition: priorityRouteBolt, export: 'priorityRouteBolt' },
  { type: 'topn', definition: topnBolt, export: 'topnBolt' },
  { type: 'cluster', definition: clusterBolt, export: 'clusterBolt' },
  { type: 'alert', definition: alertBolt, export: 'alertBolt' },
  { type: 'file', definition: fileSink, export: 'fileSink' },
  { type: 'stdout', definition: stdoutSink, export: 'stdoutSink' },
  { type: 'severity-files', definition: severityFilesSink, export: 'severityFilesSink' },
  { type: 'postgres', definition: postgresSink, export: 'postgresSink' },
  { type: 'console-report', definition: consoleReportSink, export: 'consoleReportSink' },
] as const satisfies readonly Omit<BuiltinComponent, 'ref'>[];

/** The built-ins, each with a ref to `moduleUrl` (the package entry module) and its export. */
export function builtinsAt(moduleUrl: string): BuiltinComponent[] {
  return builtinEntries.map((e) => ({ ...e, ref: { url: moduleUrl, export: e.export } }));
}
