/**
 * `qitian tap`: copies of the tuples a component emits on one stream, sampled, as JSON lines.
 * An executor holds a list of taps only while someone is tapping it; when none is, the cost on
 * its emit path is one check for an empty list.
 */

/** One tap on one executor: samples what it emits on `stream` and buffers JSON lines. */
export class Tap {
  private lines: string[] = [];
  /** Lines sampled but not kept because the buffer was full (the reader is slower than the stream). */
  skipped = 0;
  private taken = 0;

  constructor(
    readonly id: number,
    readonly component: string,
    readonly task: number,
    readonly stream: string,
    /** Fraction of tuples to copy, (0, 1]. */
    private readonly sample: number,
    /** Stop after this many (0: no limit); the main thread ends the tap, this only stops early. */
    private readonly limit: number,
  ) {}

  offer(stream: string, fields: readonly string[], values: readonly unknown[]): void {
    if (stream !== this.stream) return;
    if (this.sample < 1 && Math.random() >= this.sample) return;
    if (this.limit > 0 && this.taken >= this.limit) return;
    if (this.lines.length >= MAX_BUFFERED) {
      this.skipped++;
      return;
    }
    this.taken++;
    this.lines.push(tupleJson(this.component, this.task, stream, fields, values));
  }

  /** The lines buffered since the last call. */
  take(): string[] {
    const out = this.lines;
    this.lines = [];
    return out;
  }
}

/** Lines a tap holds between two flushes to the main thread (every 100 ms). */
const MAX_BUFFERED = 2000;

/** A tuple as one JSON line: `{"component", "task", "stream", "values": {field: value}}`. */
export function tupleJson(component: string, task: number, stream: string, fields: readonly string[], values: readonly unknown[]): string {
  const named: Record<string, unknown> = {};
  for (let i = 0; i < values.length; i++) named[fields[i] ?? `_${i}`] = values[i];
  try {
    return JSON.stringify({ component, task, stream, values: named }, jsonSafe);
  } catch (err) {
    return JSON.stringify({ component, task, stream, error: `values cannot be shown as JSON: ${(err as Error).message}` });
  }
}

function jsonSafe(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'function') return `[function ${v.name || 'anonymous'}]`;
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (v instanceof Map) return Object.fromEntries(v);
  if (v instanceof Set) return [...v];
  return v;
}
