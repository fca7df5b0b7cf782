/** The stream every component emits on when it names none. */
export const DEFAULT_STREAM = 'default';
/** The system stream tick tuples arrive on. */
export const TICK_STREAM = '__tick';

/** A tuple as a bolt sees it: values in the order of its stream's declared fields. */
export interface Tuple {
  readonly values: readonly unknown[];
  readonly stream: string;
  readonly sourceComponent: string;
  /** Global task id of the emitting task. */
  readonly sourceTask: number;
  readonly fields: readonly string[];
  /** The value of a declared field; throws on a field the stream does not declare. */
  get(field: string): unknown;
  /** Index of a declared field, -1 when absent. Resolve once, then read `values[i]`. */
  fieldIndex(field: string): number;
}

/** True for tick tuples, which a bolt receives every `tick` interval when it asks for them. */
export function isTick(tuple: Tuple): boolean {
  return tuple.stream === TICK_STREAM;
}
