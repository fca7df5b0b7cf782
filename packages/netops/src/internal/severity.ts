import type { Tuple } from '@qitian/api';

/**
 * Reads a tuple's syslog severity by position: the index of the `severity` field is looked up
 * once per input stream (per distinct fields array), not per tuple.
 */
export class SeverityReader {
  private fields: readonly string[] | undefined;
  private index = -1;

  /** The severity 0..7, or -1 when it is missing, null or not an integer 0..7. */
  of(tuple: Tuple): number {
    const fields = tuple.fields;
    if (fields !== this.fields) {
      this.fields = fields;
      this.index = fields.indexOf('severity');
    }
    if (this.index < 0) return -1;
    const v = tuple.values[this.index];
    return typeof v === 'number' && v >= 0 && v <= 7 && Number.isInteger(v) ? v : -1;
  }

  /** True when the last stream read has no `severity` field at all. */
  get fieldMissing(): boolean {
    return this.fields !== undefined && this.index < 0;
  }
}
