import { type Bolt, describe, isTick, type OutputCollector, type StreamDeclarations, type TopologyContext, type Tuple } from '@qitian/api';
import { ERROR_FIELDS, EVENT_FIELDS, SEVERITY_NAMES } from '../../syslog/event.js';
import type { PriorityRouteConfig } from './spec.js';

/** A priority-route config that cannot work: a bad group name or severity list. */
export class PriorityRouteConfigError extends Error {
  override readonly name = 'PriorityRouteConfigError';
  /** The group at fault, when the problem is one group. */
  readonly group: string | undefined;
  /** The entry of the group's list at fault, when the problem is one entry. */
  readonly index: number | undefined;

  constructor(message: string, group?: string, options?: ErrorOptions & { index?: number }) {
    super(message, options);
    this.group = group;
    this.index = options?.index;
  }

  /** Read by validation to put the error at the group's place in the YAML (file:line:col). */
  get configPath(): readonly (string | number)[] | undefined {
    if (this.group === undefined) return undefined;
    return this.index === undefined ? ['groups', this.group] : ['groups', this.group, this.index];
  }
}

const GROUP_NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const RESERVED = new Set<string>([...SEVERITY_NAMES, 'error', 'default']);

/**
 * Checks `groups` and resolves it to severity numbers: `{ urgent: [0, 1, 'crit'] }` ->
 * `[['urgent', [0, 1, 2]]]`. Throws a PriorityRouteConfigError naming the group and the problem.
 */
export function resolveGroups(groups: Readonly<Record<string, unknown>>): [string, number[]][] {
  const out: [string, number[]][] = [];
  // Every problem at once, each at its place: fixing them one run at a time is no way to work.
  const problems: PriorityRouteConfigError[] = [];
  for (const [name, list] of Object.entries(groups)) {
    const where = `priority-route: groups.${name}`;
    if (RESERVED.has(name)) {
      problems.push(
        new PriorityRouteConfigError(
          `${where}: "${name}" is already a stream of priority-route (the severities ${SEVERITY_NAMES.join(', ')}, and error); choose another group name`,
          name,
        ),
      );
      continue;
    }
    if (!GROUP_NAME_RE.test(name)) {
      problems.push(new PriorityRouteConfigError(`${where}: a group name must start with a letter and hold only letters, digits, _ and -`, name));
      continue;
    }
    if (!Array.isArray(list) || list.length === 0) {
      problems.push(
        new PriorityRouteConfigError(`${where}: expected a non-empty list of severities (0..7 or names such as crit), got ${describe(list)}`, name),
      );
      continue;
    }
    const severities = new Set<number>();
    for (let i = 0; i < list.length; i++) {
      const s = severityOf(list[i]);
      if (s < 0) {
        problems.push(
          new PriorityRouteConfigError(`${where}[${i}]: ${describe(list[i])} is not a severity; write 0..7 or one of ${SEVERITY_NAMES.join(', ')}`, name, {
            index: i,
          }),
        );
      } else severities.add(s);
    }
    out.push([name, [...severities].sort((a, b) => a - b)]);
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) throw new AggregateError(problems, problems.map((p) => p.message).join('; '));
  return out;
}

function severityOf(v: unknown): number {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 7 ? v : -1;
  if (typeof v === 'string') return (SEVERITY_NAMES as readonly string[]).indexOf(v);
  return -1;
}

/** The streams priority-route declares for a config: severities (unless turned off), groups, error. */
export function priorityRouteOutputs(config: PriorityRouteConfig): StreamDeclarations {
  const out: Record<string, readonly string[]> = {};
  if (config.severityStreams) for (const s of SEVERITY_NAMES) out[s] = EVENT_FIELDS;
  for (const [name] of resolveGroups(config.groups)) out[name] = EVENT_FIELDS;
  out.error = ERROR_FIELDS;
  return out;
}

/** Field positions of one input stream, resolved once per distinct fields array. */
interface InputPlan {
  fields: readonly string[];
  severity: number;
  raw: number;
  peer: number;
}

/**
 * Emits each event on its severity's stream and on every group holding that severity. Counts
 * are kept in arrays and reported once per batch.
 */
export class PriorityRouteBolt implements Bolt<PriorityRouteConfig> {
  private context!: TopologyContext<PriorityRouteConfig>;
  private collector!: OutputCollector;
  /** For each severity 0..7, the streams its events go to. */
  private readonly routes: string[][];
  private readonly groupNames: string[];
  /** For each severity 0..7, the indexes in groupNames of the groups holding it. */
  private readonly groupsOf: number[][];
  private readonly routed = new Array<number>(8).fill(0);
  private readonly grouped: number[];
  private noSeverity = 0;
  private plan: InputPlan | undefined;
  private warnedNoField = false;

  constructor(config: PriorityRouteConfig) {
    const groups = resolveGroups(config.groups);
    this.groupNames = groups.map(([n]) => n);
    this.grouped = new Array<number>(groups.length).fill(0);
    this.routes = [];
    this.groupsOf = [];
    for (let s = 0; s < 8; s++) {
      const streams: string[] = config.severityStreams ? [SEVERITY_NAMES[s]!] : [];
      const gi: number[] = [];
      for (let g = 0; g < groups.length; g++) {
        if (groups[g]![1].includes(s)) {
          streams.push(groups[g]![0]);
          gi.push(g);
        }
      }
      this.routes.push(streams);
      this.groupsOf.push(gi);
    }
  }

  prepare(context: TopologyContext<PriorityRouteConfig>, collector: OutputCollector): void {
    this.context = context;
    this.collector = collector;
  }

  execute(tuple: Tuple): void {
    this.route(tuple);
    this.report();
  }

  executeBatch(tuples: readonly Tuple[]): void {
    for (let i = 0; i < tuples.length; i++) {
      const t = tuples[i]!;
      if (!isTick(t)) this.route(t);
    }
    this.report();
  }

  private planFor(fields: readonly string[]): InputPlan {
    const p = this.plan;
    if (p !== undefined && p.fields === fields) return p;
    const plan: InputPlan = {
      fields,
      severity: fields.indexOf('severity'),
      // The message as received: parse's `raw`, else a line or message field (an unparsed input).
      raw: ['raw', 'line', 'message'].map((f) => fields.indexOf(f)).find((i) => i >= 0) ?? -1,
      peer: fields.indexOf('peer'),
    };
    if (plan.severity < 0 && !this.warnedNoField) {
      this.warnedNoField = true;
      this.context.logger.warn('priority-route: the input stream has no "severity" field; every tuple goes to stream error', { fields: [...fields] });
    }
    this.plan = plan;
    return plan;
  }

  private route(t: Tuple): void {
    const plan = this.planFor(t.fields);
    const values = t.values;
    const sev = plan.severity < 0 ? undefined : values[plan.severity];
    if (typeof sev === 'number' && sev >= 0 && sev <= 7 && Number.isInteger(sev)) {
      const streams = this.routes[sev]!;
      const out = values as unknown[];
      for (let k = 0; k < streams.length; k++) this.collector.emit(out, t, streams[k]);
      this.routed[sev]!++;
      const gi = this.groupsOf[sev]!;
      for (let k = 0; k < gi.length; k++) this.grouped[gi[k]!]!++;
      return;
    }
    this.noSeverity++;
    const message =
      plan.severity < 0
        ? `priority-route: the input stream of "${t.sourceComponent}" has no severity field`
        : `priority-route: severity is ${describe(sev)}, not an integer 0..7`;
    this.collector.emit(
      [plan.raw < 0 ? null : (values[plan.raw] ?? null), 'no_severity', 0, plan.peer < 0 ? null : (values[plan.peer] ?? null), message, null],
      t,
      'error',
    );
  }

  /** Reports what was counted since the last report: one count() per non-zero counter. */
  private report(): void {
    const ctx = this.context;
    const routed = this.routed;
    for (let s = 0; s < 8; s++) {
      if (routed[s] !== 0) {
        ctx.count('routed', routed[s]!, SEVERITY_NAMES[s]);
        routed[s] = 0;
      }
    }
    const grouped = this.grouped;
    for (let g = 0; g < grouped.length; g++) {
      if (grouped[g] !== 0) {
        ctx.count('grouped', grouped[g]!, this.groupNames[g]);
        grouped[g] = 0;
      }
    }
    if (this.noSeverity !== 0) {
      ctx.count('errors', this.noSeverity, 'no_severity');
      this.noSeverity = 0;
    }
  }
}
