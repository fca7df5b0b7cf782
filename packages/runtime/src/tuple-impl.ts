import { TICK_STREAM, type Tuple } from '@qitian/api';

/** What all tuples from one (task, stream) share: allocated once, referenced by each tuple. */
export class SourceStream {
  readonly index: Map<string, number>;
  /** The runtime's tick stream: its tuples are not input, so executing them is not counted as executed. */
  readonly tick: boolean;
  /** Sender side: the transfer's batch buffers for this stream, by destination task. */
  buffers: unknown[] | undefined;
  constructor(
    readonly component: string,
    readonly task: number,
    readonly stream: string,
    readonly fields: readonly string[],
  ) {
    this.index = new Map(fields.map((f, i) => [f, i]));
    this.tick = component === '__system' && stream === TICK_STREAM;
  }
}

/** TupleImpl.state once acked or failed; a second ack or fail is then ignored. */
export const STATE_ACKED = 1;
export const STATE_FAILED = 2;

export const NO_ROOTS: readonly number[] = Object.freeze([]);

/**
 * A tuple in flight. `roots` are the spout tuple trees it belongs to, `edge*` its own 64-bit
 * edge id (two int32 halves), `ack*` the XOR of the edge ids of tuples emitted anchored to it.
 */
export class TupleImpl implements Tuple {
  ackLo = 0;
  ackHi = 0;
  /** 0 while open; set once acked or failed, so a second ack or fail is ignored. */
  state = 0;
  constructor(
    readonly values: unknown[],
    readonly src: SourceStream,
    readonly roots: readonly number[],
    readonly edgeLo: number,
    readonly edgeHi: number,
  ) {}

  get stream(): string {
    return this.src.stream;
  }
  get sourceComponent(): string {
    return this.src.component;
  }
  get sourceTask(): number {
    return this.src.task;
  }
  get fields(): readonly string[] {
    return this.src.fields;
  }
  fieldIndex(field: string): number {
    return this.src.index.get(field) ?? -1;
  }
  get(field: string): unknown {
    const i = this.src.index.get(field);
    if (i === undefined) {
      throw new RangeError(`stream "${this.src.stream}" of "${this.src.component}" has no field "${field}" (fields: ${this.src.fields.join(', ')})`);
    }
    return this.values[i];
  }
  toJSON(): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < this.src.fields.length; i++) o[this.src.fields[i]!] = this.values[i];
    return o;
  }
}
