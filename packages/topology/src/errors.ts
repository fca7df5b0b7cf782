import type { SourceLocation } from './types.js';

export interface TopologyIssue {
  /** Where, when known. */
  readonly location?: SourceLocation;
  /** The YAML path, e.g. ["bolts", 1, "config", "window"]. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export function formatIssue(issue: TopologyIssue): string {
  const where = issue.location ? `${issue.location.file}:${issue.location.line}:${issue.location.col}: ` : '';
  return `${where}${issue.message}`;
}

/** A topology that cannot run; `issues` lists every problem found, each with its place. */
export class InvalidTopologyError extends Error {
  override readonly name = 'InvalidTopologyError';
  constructor(
    readonly issues: readonly TopologyIssue[],
    options?: ErrorOptions,
  ) {
    super(issues.map(formatIssue).join('\n'), options);
  }
  /** The first issue's place, the one a user looks at first. */
  get file(): string | undefined {
    return this.issues[0]?.location?.file;
  }
  get line(): number | undefined {
    return this.issues[0]?.location?.line;
  }
  get col(): number | undefined {
    return this.issues[0]?.location?.col;
  }
}

/** A user module that could not be imported or does not export a component. */
export class ModuleLoadError extends Error {
  override readonly name = 'ModuleLoadError';
  constructor(
    readonly modulePath: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
