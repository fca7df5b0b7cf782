/**
 * A custom stream grouping, named in YAML as `grouping: {type: custom, module: ./x.ts}`.
 * The module's default export is a factory returning one of these per sending task.
 */
export interface CustomGrouping {
  /** Called once with the global task ids of the consuming component. */
  prepare(targetTasks: readonly number[], fields: readonly string[]): void;
  /** The target task ids for one tuple (one or more; none drops it, counted). */
  chooseTasks(values: readonly unknown[]): readonly number[];
}

export type CustomGroupingFactory = (args: Record<string, unknown>) => CustomGrouping;
