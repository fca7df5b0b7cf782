import type { Bolt, OutputCollector, TopologyContext, Tuple } from '@qitian/api';
import { SyslogParser } from './parser.js';
import type { SyslogParseConfig } from './spec.js';
import { SyslogReject } from './types.js';

/**
 * The `syslog-parse` bolt: one event per input message on `default` (EVENT_FIELDS order), or a
 * rejection on `error` (ERROR_FIELDS) in strict mode. Counters are kept per batch.
 */
export class SyslogParseBolt implements Bolt<SyslogParseConfig> {
  private readonly parser: SyslogParser;
  private readonly field: string;
  private ctx!: TopologyContext<SyslogParseConfig>;
  private collector!: OutputCollector;
  /** Field indexes of the last input stream seen (tuples of one stream share their fields array). */
  private lastFields: readonly string[] | null = null;
  private lineAt = -1;
  private peerAt = -1;
  private receivedAt = -1;
  /** Input fields of a file spout with `position: true`. */
  private fileAt = -1;
  private lineNumberAt = -1;
  private offsetAt = -1;
  private unparsed = 0;
  private readonly errors = new Map<string, number>();

  constructor(config: SyslogParseConfig) {
    this.field = config.field;
    this.parser = new SyslogParser({ strict: config.strict, timezone: config.timezone });
  }

  prepare(context: TopologyContext<SyslogParseConfig>, collector: OutputCollector): void {
    this.ctx = context;
    this.collector = collector;
  }

  execute(tuple: Tuple): void {
    this.one(tuple);
    this.flushCounts();
  }

  executeBatch(tuples: readonly Tuple[]): void {
    for (let i = 0; i < tuples.length; i++) this.one(tuples[i]!);
    this.flushCounts();
  }

  private one(t: Tuple): void {
    if (t.fields !== this.lastFields) {
      this.lastFields = t.fields;
      this.lineAt = t.fieldIndex(this.field);
      this.peerAt = t.fieldIndex('peer');
      this.receivedAt = t.fieldIndex('receivedAt');
      this.fileAt = t.fieldIndex('file');
      this.lineNumberAt = t.fieldIndex('lineNumber');
      this.offsetAt = t.fieldIndex('offset');
    }
    const v = t.values;
    const peerValue = this.peerAt >= 0 ? v[this.peerAt] : null;
    const peer = typeof peerValue === 'string' ? peerValue : null;
    const raw = this.lineAt >= 0 ? v[this.lineAt] : undefined;
    if (typeof raw !== 'string' && !(raw instanceof Uint8Array)) {
      const why =
        this.lineAt < 0
          ? `stream "${t.stream}" of "${t.sourceComponent}" has no field "${this.field}" (it has ${t.fields.join(', ')}); set config.field`
          : `field "${this.field}" holds ${raw === null ? 'null' : typeof raw}, not a string or bytes`;
      this.reject(t, raw === undefined ? null : String(raw), 'no_message', 0, peer, why);
      return;
    }
    const at = this.receivedAt >= 0 ? v[this.receivedAt] : undefined;
    const out = this.parser.parse(raw, typeof at === 'number' ? at : null, peer);
    const rawText = typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
    if (out instanceof SyslogReject) {
      this.reject(t, rawText, out.reason, out.column, peer, out.message);
      return;
    }
    if (!out.parsed) this.unparsed++;
    this.collector.emit(
      [
        out.time,
        out.host,
        out.facility,
        out.severity,
        out.app,
        out.procid,
        out.msgid,
        out.eventType,
        out.srcIp,
        out.dstIp,
        out.srcPort,
        out.dstPort,
        out.message,
        out.structured,
        out.vendor,
        out.format,
        out.parsed,
        rawText,
        peer,
      ],
      t,
    );
  }

  private reject(t: Tuple, raw: string | null, reason: string, column: number, peer: string | null, message: string): void {
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + 1);
    const location = this.locate(t.values, column);
    this.collector.emit([raw, reason, column, peer, location === null ? message : `${location}: ${message}`, location], t, 'error');
  }

  /** Where a rejected line is, when the input says (a file spout with `position: true`). */
  private locate(values: readonly unknown[], column: number): string | null {
    const file = this.fileAt >= 0 ? values[this.fileAt] : undefined;
    if (typeof file !== 'string') return null;
    const line = this.lineNumberAt >= 0 ? values[this.lineNumberAt] : undefined;
    if (typeof line === 'number') return column > 0 ? `${file}:${line}:${column}` : `${file}:${line}`;
    const offset = this.offsetAt >= 0 ? values[this.offsetAt] : undefined;
    return typeof offset === 'number' ? `${file}, byte offset ${offset}` : file;
  }

  private flushCounts(): void {
    if (this.unparsed > 0) {
      this.ctx.count('unparsed', this.unparsed);
      this.unparsed = 0;
    }
    if (this.errors.size > 0) {
      for (const [reason, n] of this.errors) this.ctx.count('errors', n, reason);
      this.errors.clear();
    }
  }
}
