/**
 * Topology YAML -> validated TopologySpec.
 *
 * Every problem found is collected, with the file, line and column of the YAML node it is about,
 * and thrown together as one InvalidTopologyError: an operator fixes a file in one pass, not one
 * error per run. Checks that depend on the whole graph (unknown components, missing inputs,
 * cycles) are skipped when a file could not be parsed, so that one syntax error does not bring
 * a cascade of false ones.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type ComponentDefinition,
  configPathOf,
  DEFAULT_STREAM,
  type Fields,
  type InputProblem,
  type InputStream,
  type StreamDeclarations,
  describe,
  exactDurationMs,
  field,
  isComponentDefinition,
  MAX_DURATION_MS,
  nearest,
  parseDuration,
} from '@qitian/api';
import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  Scalar,
  type ScalarTag,
  visit,
  type YAMLError,
  type YAMLMap,
} from 'yaml';
import { durationBelowMinimum, validateConfigExact } from './durations.js';
import { InvalidTopologyError, type TopologyIssue } from './errors.js';
import { importModule } from './module-loader.js';
import { expandMergeKeys, isMergeKey } from './merge-keys.js';
import { MAX_TASKS } from './plan.js';
import type { ComponentRegistry } from './registry.js';
import { expandVariables, hasReference, isWholeReference, maskReferences, SubstitutionSyntaxError, unmaskReferences } from './substitute.js';
import {
  type ComponentKind,
  type ComponentNode,
  DEFAULT_TOPOLOGY_CONFIG,
  GROUPING_TYPES,
  type Grouping,
  type GroupingType,
  type ModuleRef,
  type SourceLocation,
  type StreamEdge,
  type TopologyConfig,
  type TopologySpec,
} from './types.js';

export interface LoadOptions {
  /** The component types a topology may name. */
  readonly registry: ComponentRegistry;
  /** Values for `${NAME}` (from `qitian run --set NAME=VALUE`); looked up before `env`. */
  readonly vars?: Readonly<Record<string, string>>;
  /** The environment for `${NAME}`; process.env when omitted. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The topology-level `config:` keys as written in YAML (durations as `30s`), declared once: the
 * loader validates with it and docs can be generated from it.
 */
export const TOPOLOGY_CONFIG_FIELDS = {
  maxParallelism: field.int({
    description: 'Number of key groups that fields-grouped keys hash into; fixed for the life of the topology and the upper bound of any parallelism',
    min: 1,
    max: 32768,
    default: DEFAULT_TOPOLOGY_CONFIG.maxParallelism,
  }),
  workers: field.int({ description: 'Worker threads; one per core when unset', min: 1 }),
  acking: field.boolean({
    description: 'At-least-once tracking with the XOR acker (true) or at-most-once (false)',
    default: DEFAULT_TOPOLOGY_CONFIG.acking,
  }),
  messageTimeout: field.duration({
    description: 'A tuple tree not completed within this time fails and its spout may replay it',
    min: 1,
    default: DEFAULT_TOPOLOGY_CONFIG.messageTimeoutMs,
  }),
  maxSpoutPending: field.int({
    description: 'Un-acked tuple trees per spout task before the spout is paused',
    min: 1,
    default: DEFAULT_TOPOLOGY_CONFIG.maxSpoutPending,
  }),
  maxRetries: field.int({
    description:
      'Times a tuple tree of one message id may fail and be replayed; at the next failure the engine gives up on it: ' +
      'it is acked to its spout (so that a file spout moves past a poison line), counted (`qitian_spout_given_up_total`) ' +
      'and logged. -1: replay for ever',
    min: -1,
    default: DEFAULT_TOPOLOGY_CONFIG.maxRetries,
  }),
  batchSize: field.int({ description: 'Tuples per transfer batch', min: 1, max: 100_000, default: DEFAULT_TOPOLOGY_CONFIG.batchSize }),
  batchBytes: field.int({
    description:
      'A batch also leaves once its values reach about this many bytes (strings by length, bytes by size, other values 8), ' +
      'so that what is in flight (credits batches per edge, one waiting local batch per task) stays bounded in memory when tuples are large',
    min: 1024,
    default: DEFAULT_TOPOLOGY_CONFIG.batchBytes,
  }),
  batchLinger: field.duration({
    description: 'A partly filled batch leaves after at most this long',
    min: 0,
    default: DEFAULT_TOPOLOGY_CONFIG.batchLingerMs,
  }),
  credits: field.int({
    description:
      "Batches in flight per edge to a task in another thread before the sender waits (backpressure); a task in the sender's own thread takes one waiting batch",
    min: 1,
    default: DEFAULT_TOPOLOGY_CONFIG.credits,
  }),
  loadAware: field.boolean({
    description:
      "Shuffle groupings send more to the consumer's tasks in other threads while the sender's thread is saturated and theirs are not, and fewer the other way round; when no thread is short of time the spread is even again. false: plain round-robin",
    default: DEFAULT_TOPOLOGY_CONFIG.loadAware,
  }),
  drainTimeout: field.duration({
    description: 'How long a graceful stop waits for in-flight tuples',
    min: 0,
    default: DEFAULT_TOPOLOGY_CONFIG.drainTimeoutMs,
  }),
  latencySampling: field.int({
    description:
      'Bolts time the execute of 1 in this many tuples (execute and process latency histograms, capacity of directly called bolts); 0 turns the sampling off. Counters are never sampled',
    min: 0,
    default: DEFAULT_TOPOLOGY_CONFIG.latencySampling,
  }),
  stateSnapshotInterval: field.duration({
    description:
      "How often each bolt's keyed state is copied to the main thread, so that a thread that dies is replaced with its tasks' state as of the last copy (changes made after it are lost unless their tuples are replayed); 0 turns it off",
    min: 0,
    default: DEFAULT_TOPOLOGY_CONFIG.stateSnapshotIntervalMs,
  }),
  stateAcks: field.enum({
    values: ['immediate', 'after-copy'],
    description:
      "`immediate`: a bolt acks a tuple once it has executed it, so a thread that dies loses its keyed state's updates made " +
      'since the last copy for tuples already acked. `after-copy`: a bolt with keyed state holds the acks of what it executed ' +
      "until its next state copy (`stateSnapshotInterval`), as Storm's stateful bolts ack on checkpoint: a thread that dies " +
      'comes back with every acked update, and the tuples after the copy are replayed (some may count twice: at least ' +
      'once). Trees then take up to one interval longer to complete: keep the interval under `messageTimeout`, and ' +
      '`maxSpoutPending` above the rate times the interval. Needs `acking: true`',
    default: DEFAULT_TOPOLOGY_CONFIG.stateAcks,
  }),
} satisfies Fields;

/** Reads, validates and resolves a topology file (and the files it includes). */
export async function loadTopology(file: string, opts: LoadOptions): Promise<TopologySpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InvalidTopologyError([{ path: [], message: `cannot read topology file ${file}: ${ioReason(err)}` }], { cause: err });
  }
  return parseTopology(text, file, opts);
}

/**
 * Validates and resolves topology YAML given as text; `file` names it in errors, and includes and
 * module paths resolve relative to it.
 */
export async function parseTopology(text: string, file: string, opts: LoadOptions): Promise<TopologySpec> {
  const vars = opts.vars ?? {};
  const env = opts.env ?? process.env;
  const ctx: LoadContext = {
    registry: opts.registry,
    lookup: (name) => (Object.hasOwn(vars, name) ? vars[name] : env[name]),
    uses: [],
    issues: new IssueList(),
    seen: new Set(),
    incomplete: false,
    nextOrder: 0,
    modules: new Map(),
  };
  const abs = resolvePath(file);
  ctx.seen.add(abs);
  const root = parseSource(ctx, text, abs, file);
  const merged = await loadTree(ctx, root, [{ abs, file }]);
  // Every ${name} the topology uses, as merged: a variable given (--set) that none uses is
  // misspelt. One that only a replaced part of an include used is not used, nor must it be set.
  const referenced = new Set<string>();
  for (const use of ctx.uses) {
    if (!survives(use, merged, root)) continue;
    for (const name of use.names) referenced.add(name);
    for (const name of new Set(use.missing)) {
      // At its place, though silenced: nothing else is said about the value it left empty.
      ctx.issues.addAt(use.src, rangeStart(use.node), use.path, `variable \${${name}} is not set; pass --set ${name}=... or export ${name}`);
    }
  }

  const name = merged.name?.value ?? '';
  const { config, maxParallelism } = topologyConfig(ctx, root, merged);
  const sorted = [...merged.components].sort((a, b) => SECTION_RANK[a.kind] - SECTION_RANK[b.kind]);
  const resolved = await Promise.all(sorted.map((raw) => resolveComponent(ctx, raw, maxParallelism)));
  const byId = checkIds(ctx, resolved);
  const edges = await Promise.all(merged.streams.map((s) => resolveStream(ctx, s, byId)));
  const order = checkGraph(ctx, root, resolved, merged.streams, byId);
  checkInputs(ctx, resolved, edges, byId);
  if (!ctx.incomplete) {
    for (const name of Object.keys(vars)) {
      if (referenced.has(name)) continue;
      const near = nearest(name, [...referenced]);
      const known = referenced.size > 0 ? `its variables: ${[...referenced].sort().join(', ')}` : 'it uses none';
      ctx.issues.addAt(
        root,
        0,
        [],
        `variable "${name}" is given a value, but the topology uses no \${${name}}${near ? `; did you mean "${near}"?` : ''} (${known})`,
      );
    }
  }

  if (ctx.issues.size > 0) throw new InvalidTopologyError(ctx.issues.sorted());
  return {
    name,
    file,
    config,
    components: order.map((r) => r.node!),
    streams: edges.map((e) => e!),
  };
}

// ---------------------------------------------------------------------------------------------
// Sources, locations, issues

type YamlPath = (string | number)[];

interface Source {
  /** The path shown in messages: as given for the root file, joined onto it for includes. */
  readonly file: string;
  readonly abs: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
  /** The file's text, as parsed. */
  readonly text: string;
  /** Files are numbered in the order they are read; issues are sorted by it. */
  readonly order: number;
  readonly ok: boolean;
}

interface LoadContext {
  readonly registry: ComponentRegistry;
  readonly lookup: (name: string) => string | undefined;
  readonly issues: IssueList;
  /** Absolute paths of every file read, so that a file included twice is read once. */
  readonly seen: Set<string>;
  /** Some file could not be read or parsed: whole-graph checks would report false problems. */
  incomplete: boolean;
  nextOrder: number;
  readonly modules: Map<string, Promise<Record<string, unknown>>>;
  /** Where each file used variables, and which of them were not set. */
  readonly uses: VariableUse[];
}

interface VariableUse {
  readonly src: Source;
  readonly node: Node;
  readonly path: YamlPath;
  readonly names: readonly string[];
  readonly missing: readonly string[];
}

function rangeStart(node: unknown): number | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const range = (node as { range?: readonly number[] | null }).range;
  return range ? range[0] : undefined;
}

function locate(src: Source, offset: number | undefined): SourceLocation {
  if (offset === undefined) return { file: src.file, line: 1, col: 1 };
  const { line, col } = src.lines.linePos(offset);
  return { file: src.file, line, col };
}

class IssueList {
  private readonly entries: { issue: TopologyIssue; order: number; offset: number; seq: number }[] = [];
  /** Nodes already reported (an unset variable): later checks of the same value stay quiet. */
  private readonly silenced = new WeakSet<object>();

  get size(): number {
    return this.entries.length;
  }

  silence(node: object): void {
    this.silenced.add(node);
  }

  isSilenced(node: unknown): boolean {
    return node !== null && typeof node === 'object' && this.silenced.has(node);
  }

  /** An issue about a YAML node (or, when the node has no place, the start of its file). */
  add(src: Source | undefined, node: unknown, path: YamlPath, message: string): void {
    if (node !== null && typeof node === 'object' && this.silenced.has(node)) return;
    this.addAt(src, rangeStart(node), path, message);
  }

  addAt(src: Source | undefined, offset: number | undefined, path: YamlPath, message: string): void {
    const issue: TopologyIssue = src ? { location: locate(src, offset), path, message } : { path, message };
    this.entries.push({ issue, order: src ? src.order : Number.MAX_SAFE_INTEGER, offset: offset ?? 0, seq: this.entries.length });
  }

  /** In file order, then by position: the order an operator reads the file in. */
  sorted(): TopologyIssue[] {
    return [...this.entries].sort((a, b) => a.order - b.order || a.offset - b.offset || a.seq - b.seq).map((e) => e.issue);
  }
}

function ioReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** "a mapping", "a list", "nothing", `"text"`, "number 3": for "expected X, got Y" messages. */
function describeNode(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return node.items.length === 0 ? 'an empty list' : 'a list';
  if (isScalar(node)) return node.value === null ? 'nothing' : describe(node.value);
  return 'an unknown node';
}

/** A hint for values YAML read as a number or boolean where a name was meant. */
function quoteHint(node: unknown): string {
  return isScalar(node) && (typeof node.value === 'number' || typeof node.value === 'boolean') ? `; quote it: "${String(node.value)}"` : '';
}

// ---------------------------------------------------------------------------------------------
// Parsing one file: YAML, then ${...} substitution on its scalars

function parseSource(ctx: LoadContext, text: string, abs: string, file: string): Source {
  const lines = new LineCounter();
  const masked = maskReferences(text);
  const doc = parseDocument(masked, { lineCounter: lines, prettyErrors: false });
  const src: Source = { file, abs, doc, lines, text: masked, order: ctx.nextOrder++, ok: doc.errors.length === 0 };
  for (const e of doc.errors) ctx.issues.addAt(src, e.pos[0], [], yamlErrorMessage(text, e));
  for (const w of doc.warnings) ctx.issues.addAt(src, w.pos[0], [], `YAML: ${unmaskReferences(w.message)}`);
  if (!src.ok) ctx.incomplete = true;
  else {
    replaceUnknownAliases(ctx, src);
    substitute(ctx, src);
    expandMergeKeys(doc, (node, message) => ctx.issues.add(src, node, [], message));
  }
  return src;
}

/** A YAML error as said to the user; the library's own words except where they name its API. */
function yamlErrorMessage(text: string, e: YAMLError): string {
  if (e.code === 'MULTIPLE_DOCS') {
    // The second document starts at its "---", or after a "..." that ends the first.
    const at = e.pos[0];
    const how = text.startsWith('---', at)
      ? ' ("---")'
      : /(^|\n)\.\.\.[ \t]*(#[^\n]*)?\s*$/.test(text.slice(0, at))
        ? ' (after the "..." that ends the first)'
        : '';
    return `a topology file holds one YAML document; found a second one here${how}`;
  }
  return `invalid YAML: ${unmaskReferences(e.message)}`;
}

function substitute(ctx: LoadContext, src: Source): void {
  visit(src.doc, {
    Scalar(key, node, ancestors) {
      if (typeof node.value !== 'string') return;
      const text = unmaskReferences(node.value);
      node.value = text;
      if (key === 'key' || !hasReference(text)) return;
      const path = yamlPathOf(ancestors, node);
      const names: string[] = [];
      try {
        const { value, missing } = expandVariables(text, (name) => {
          names.push(name);
          return ctx.lookup(name);
        });
        // Reported once the includes are merged: an included part that is replaced needs none.
        ctx.uses.push({ src, node, path, names, missing });
        if (missing.length > 0) {
          ctx.issues.silence(node);
          return;
        }
        // An empty result stays the empty string the docs promise, not YAML's null ("not given"),
        // which would quietly make the field its default: `seed: ${SEED}` with SEED= is an error.
        node.value = node.type === Scalar.PLAIN && isWholeReference(text) && value !== '' ? resolvePlainScalar(src.doc, value) : value;
      } catch (err) {
        if (!(err instanceof SubstitutionSyntaxError)) throw err;
        ctx.issues.add(src, node, path, err.message);
        ctx.issues.silence(node);
      }
    },
  });
}

/**
 * Whether the part of a file where variables were used is in the merged topology: not a
 * component, stream or config key of an include that the including file replaced, nor an
 * included file's name.
 */
function survives(use: VariableUse, merged: Merged, root: Source): boolean {
  const [head, at] = use.path;
  // An included file's name is ignored.
  if (head === 'name') return use.src === root;
  if ((head === 'spouts' || head === 'bolts' || head === 'sinks' || head === 'streams') && typeof at === 'number') {
    const parts: readonly { src: Source; path: YamlPath }[] = head === 'streams' ? merged.streams : merged.components;
    return parts.some((p) => p.src === use.src && p.path[0] === head && p.path[1] === at);
  }
  if (head === 'config' && at !== undefined) return merged.config.get(String(at))?.src === use.src;
  return true;
}

/**
 * Reports each alias with no anchor before it (`*nope`), at the alias, and puts an empty value in
 * its place that later checks stay quiet about: what the alias stood for is unknown, so "got
 * nothing" or "must be a string" about it would only mislead. A mapping that merges an unknown
 * alias (`<<: *nope`) is silenced too (what it lacks may be what the merge would have given), and
 * where the alias may hold ids or graph edges, the whole-graph checks are skipped.
 */
function replaceUnknownAliases(ctx: LoadContext, src: Source): void {
  visit(src.doc, {
    Alias(_key, alias, ancestors) {
      if (alias.resolve(src.doc)) return undefined;
      const name = alias.source;
      const path = yamlPathOf(ancestors, alias);
      const later = anchorAfter(src, name);
      const where = later !== undefined ? `; &${name} is set later, at line ${src.lines.linePos(later).line}: an anchor must come before its aliases` : '';
      ctx.issues.add(src, alias, path, `unknown alias "*${name}" (no anchor &${name} before it${where})`);
      const stand = new Scalar(null);
      if (alias.range) stand.range = alias.range;
      ctx.issues.silence(stand);
      // `<<: *nope` or `<<: [*a, *nope]`: the mapping with that `<<` pair.
      const parent = ancestors[ancestors.length - 1];
      const inList = isSeq(parent);
      const pair = inList ? ancestors[ancestors.length - 2] : parent;
      const merged = isPair(pair) && pair.value === (inList ? parent : alias) && isMergeKey(pair.key);
      if (merged) {
        const map = ancestors[ancestors.length - (inList ? 3 : 2)];
        if (isMap(map)) ctx.issues.silence(map);
      }
      if (shapesGraph(merged ? path.slice(0, inList ? -2 : -1) : path, merged)) ctx.incomplete = true;
      return stand;
    },
  });
}

/**
 * Whether what is at `path` may hold ids or edges: the file itself, a section or one of its
 * entries, an id, from or to (or, merged, a mapping at one of those places).
 */
function shapesGraph(path: YamlPath, merged: boolean): boolean {
  if (path.length === 0) return true;
  const section = path[0] === 'streams' || SECTIONS.some(([name]) => name === path[0]);
  if (!section) return path[0] === 'includes';
  if (path.length <= 2) return true;
  return !merged && path.length === 3 && (path[2] === 'id' || path[2] === 'from' || path[2] === 'to');
}

/** The offset of an anchor `&name` anywhere in the document, for an alias that comes before it. */
function anchorAfter(src: Source, name: string): number | undefined {
  let at: number | undefined;
  visit(src.doc, {
    Node(_key, node) {
      if (node.anchor === name && !isAlias(node)) {
        at = rangeStart(node);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  if (at === undefined) return undefined;
  // A block mapping's range starts at its first key, the line after its `&name`: point at the anchor.
  const anchor = src.text.lastIndexOf(`&${name}`, at);
  return anchor >= 0 && src.lines.linePos(at).line - src.lines.linePos(anchor).line <= 1 ? anchor : at;
}

/** Types a substituted plain scalar as YAML would have (`2` -> 2, `true` -> true, `` -> null). */
function resolvePlainScalar(doc: Document.Parsed, text: string): unknown {
  for (const tag of doc.schema.tags) {
    if (tag.collection) continue;
    const t = tag as ScalarTag;
    if (!(t.test instanceof RegExp) || !t.test.test(text)) continue;
    let failed = false;
    const v: unknown = t.resolve(
      text,
      () => {
        failed = true;
      },
      doc.options,
    );
    if (!failed) return isScalar(v) ? v.value : v;
  }
  return text;
}

function yamlPathOf(ancestors: readonly unknown[], node: unknown): YamlPath {
  const out: YamlPath = [];
  for (let i = 0; i < ancestors.length; i++) {
    const a = ancestors[i];
    if (isPair(a)) out.push(isScalar(a.key) ? String(a.key.value) : '?');
    else if (isSeq(a)) out.push(a.items.indexOf(ancestors[i + 1] ?? node));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The shape of a file: keys, sections, entries

const TOP_KEYS = ['name', 'includes', 'config', 'spouts', 'bolts', 'sinks', 'streams'] as const;
const COMPONENT_KEYS = ['id', 'type', 'module', 'parallelism', 'tick', 'config'] as const;
const STREAM_KEYS = ['from', 'to', 'grouping', 'select'] as const;
const GROUPING_KEYS = ['type', 'stream', 'fields', 'module', 'args'] as const;
const SECTIONS = [
  ['spouts', 'spout'],
  ['bolts', 'bolt'],
  ['sinks', 'sink'],
] as const;
type Section = (typeof SECTIONS)[number][0];
const SECTION_RANK: Record<ComponentKind, number> = { spout: 0, bolt: 1, sink: 2 };
const NAME_RE = /^[A-Za-z0-9_.-]+$/;
const ID_RE = /^[A-Za-z0-9_-]+$/;
const MODULE_EXT_RE = /\.[cm]?[jt]s$/;

type Fieldset = Map<string, Pair>;

interface ConfigEntry {
  readonly src: Source;
  readonly key: string;
  readonly keyNode: Node;
  readonly valueNode: Node | null;
  readonly path: YamlPath;
}

interface RawComponent {
  readonly src: Source;
  readonly kind: ComponentKind;
  readonly section: Section;
  readonly path: YamlPath;
  readonly node: YAMLMap;
  readonly fields: Fieldset;
  /** The id as written when it is a string (even a malformed one, so streams still find it). */
  readonly id?: string;
  readonly label: string;
}

interface RawStream {
  readonly src: Source;
  readonly path: YamlPath;
  readonly node: YAMLMap;
  readonly fields: Fieldset;
  readonly from?: { readonly value: string; readonly node: Node };
  readonly to?: { readonly value: string; readonly node: Node };
  readonly grouping?: { readonly node: YAMLMap; readonly fields: Fieldset };
  readonly stream: string;
  readonly streamNode?: Node;
  readonly label: string;
}

interface FileParts {
  name?: { readonly value: string; readonly node: Node };
  readonly includes: { readonly value: string; readonly node: Node; readonly path: YamlPath }[];
  readonly config: ConfigEntry[];
  readonly components: RawComponent[];
  readonly streams: RawStream[];
}

interface Merged {
  readonly name?: { readonly value: string; readonly node: Node };
  readonly config: Map<string, ConfigEntry>;
  readonly components: RawComponent[];
  readonly streams: RawStream[];
}

function deref(ctx: LoadContext, src: Source, node: unknown, path: YamlPath): Node | null {
  if (isAlias(node)) {
    const target = node.resolve(src.doc);
    if (!target) {
      ctx.issues.add(src, node, path, `unknown alias "*${node.source}" (no anchor &${node.source} before it)`);
      return null;
    }
    return target;
  }
  return isNode(node) ? node : null;
}

/** The value of `key` in a mapping when it is a string scalar, for labels; no issues. */
function peekString(map: YAMLMap, key: string): string | undefined {
  for (const p of map.items) {
    if (isScalar(p.key) && p.key.value === key && isScalar(p.value) && typeof p.value.value === 'string') return p.value.value;
  }
  return undefined;
}

/** The pairs of a mapping by key; unknown keys are issues, with the nearest known key suggested. */
function fieldsOf(
  ctx: LoadContext,
  src: Source,
  map: YAMLMap,
  known: readonly string[],
  path: YamlPath,
  where: string,
  ignored: (name: string) => boolean = () => false,
): Fieldset {
  const out: Fieldset = new Map();
  for (const pair of map.items) {
    const key = pair.key;
    if (!isNameKey(key)) {
      ctx.issues.add(src, key ?? map, path, `keys in ${where} must be names, got ${describeNode(key)}`);
      continue;
    }
    const name = String(key.value);
    if (ignored(name)) continue;
    if (!known.includes(name)) {
      const near = nearest(name, known);
      ctx.issues.add(
        src,
        key,
        [...path, name],
        `unknown key "${name}" in ${where}; ${near ? `did you mean "${near}"?` : `expected one of: ${known.join(', ')}`}`,
      );
      continue;
    }
    out.set(name, pair);
  }
  return out;
}

/** A string-valued field; anything else is an issue. */
function stringField(ctx: LoadContext, src: Source, fields: Fieldset, key: string, path: YamlPath, label: string): { value: string; node: Node } | undefined {
  const pair = fields.get(key);
  if (!pair) return undefined;
  const node = deref(ctx, src, pair.value, [...path, key]);
  if (isScalar(node) && typeof node.value === 'string') return { value: node.value, node };
  ctx.issues.add(src, node ?? pair.key, [...path, key], `"${key}" of ${label} must be a string, got ${describeNode(node)}${quoteHint(node)}`);
  return undefined;
}

/** Reads one file's structure; reports what is malformed within that file. */
function interpret(ctx: LoadContext, src: Source, isRoot: boolean): FileParts {
  const parts: FileParts = { includes: [], config: [], components: [], streams: [] };
  if (!src.ok) return parts;
  const root = deref(ctx, src, src.doc.contents, []);
  if (ctx.issues.isSilenced(root)) {
    // The whole file is an alias with no anchor: said already.
    ctx.incomplete = true;
    return parts;
  }
  if (root === null || (isScalar(root) && root.value === null)) {
    ctx.issues.addAt(src, 0, [], `the file is empty; a topology has a name, spouts, bolts and streams`);
    if (isRoot) ctx.incomplete = true;
    return parts;
  }
  if (!isMap(root)) {
    ctx.issues.add(src, root, [], `a topology file is a mapping of ${TOP_KEYS.join(', ')}; got ${describeNode(root)}`);
    ctx.incomplete = true;
    return parts;
  }
  // `x-` keys hold what anchors are made of (`x-defaults: &defaults ...`), as in docker-compose.
  const top = fieldsOf(ctx, src, root, TOP_KEYS, [], 'the topology file', (key) => key.startsWith('x-'));

  const name = stringField(ctx, src, top, 'name', [], 'the topology');
  if (name) {
    if (NAME_RE.test(name.value)) parts.name = name;
    else ctx.issues.add(src, name.node, ['name'], `topology name "${name.value}" may contain only ASCII letters, digits, ".", "_" and "-"`);
  } else if (isRoot && !top.has('name')) {
    ctx.issues.add(src, root, [], `the topology has no "name"; add e.g. name: my-topology`);
  }

  const includes = top.get('includes');
  if (includes) {
    const list = deref(ctx, src, includes.value, ['includes']);
    if (isSeq(list)) {
      list.items.forEach((item, i) => {
        const node = deref(ctx, src, item, ['includes', i]);
        if (isScalar(node) && typeof node.value === 'string' && node.value !== '') {
          parts.includes.push({ value: node.value, node, path: ['includes', i] });
        } else {
          ctx.issues.add(src, node ?? list, ['includes', i], `includes must list file paths, got ${describeNode(node)}`);
          ctx.incomplete = true;
        }
      });
    } else if (!(isScalar(list) && list.value === null)) {
      ctx.issues.add(src, list ?? includes.key, ['includes'], `includes must be a list of file paths, e.g. includes: [common.yaml]; got ${describeNode(list)}`);
      ctx.incomplete = true;
    }
  }

  const config = top.get('config');
  if (config) {
    const map = deref(ctx, src, config.value, ['config']);
    if (isMap(map)) {
      for (const pair of map.items) {
        if (!isScalar(pair.key) || typeof pair.key.value !== 'string') {
          ctx.issues.add(src, pair.key ?? map, ['config'], `keys in config must be names, got ${describeNode(pair.key)}`);
          continue;
        }
        const key = pair.key.value;
        parts.config.push({ src, key, keyNode: pair.key, valueNode: deref(ctx, src, pair.value, ['config', key]), path: ['config', key] });
      }
    } else if (!(isScalar(map) && map.value === null)) {
      ctx.issues.add(src, map ?? config.key, ['config'], `config must be a mapping of topology settings, got ${describeNode(map)}`);
    }
  }

  for (const [section, kind] of SECTIONS) {
    for (const { node, path } of listOf(ctx, src, top, section)) {
      const label0 = `${section}[${path[1]}]`;
      if (!isMap(node)) {
        ctx.issues.add(src, node, path, `${label0} must be a mapping with an id and a type (or module), got ${describeNode(node)}`);
        continue;
      }
      const idText = peekString(node, 'id');
      const label = idText !== undefined ? `${kind} "${idText}"` : label0;
      const fields = fieldsOf(ctx, src, node, COMPONENT_KEYS, path, label);
      const id = stringField(ctx, src, fields, 'id', path, label0);
      if (!fields.has('id')) {
        ctx.issues.add(src, node, path, `${label0} has no "id"; every component needs an id, unique in the topology`);
      } else if (id && !ID_RE.test(id.value)) {
        ctx.issues.add(src, id.node, [...path, 'id'], `id "${id.value}" may contain only ASCII letters, digits, "_" and "-"`);
      } else if (id?.value.startsWith('__')) {
        ctx.issues.add(src, id.node, [...path, 'id'], `id "${id.value}" starts with "__", which is reserved for the engine's own components`);
      }
      parts.components.push({ src, kind, section, path, node, fields, label, ...(id ? { id: id.value } : {}) });
    }
  }

  for (const { node, path } of listOf(ctx, src, top, 'streams')) {
    const label0 = `streams[${path[1]}]`;
    if (!isMap(node)) {
      ctx.issues.add(src, node, path, `${label0} must be a mapping with from, to and grouping, got ${describeNode(node)}`);
      continue;
    }
    const fromText = peekString(node, 'from');
    const toText = peekString(node, 'to');
    const label = fromText !== undefined || toText !== undefined ? `stream ${fromText ?? '?'} -> ${toText ?? '?'}` : label0;
    const fields = fieldsOf(ctx, src, node, STREAM_KEYS, path, label);
    const from = stringField(ctx, src, fields, 'from', path, label);
    const to = stringField(ctx, src, fields, 'to', path, label);
    let grouping: RawStream['grouping'];
    let stream: string = DEFAULT_STREAM;
    let streamNode: Node | undefined;
    const g = fields.get('grouping');
    if (g) {
      const gnode = deref(ctx, src, g.value, [...path, 'grouping']);
      if (isMap(gnode)) {
        const gfields = fieldsOf(ctx, src, gnode, GROUPING_KEYS, [...path, 'grouping'], `the grouping of ${label}`);
        grouping = { node: gnode, fields: gfields };
        const s = stringField(ctx, src, gfields, 'stream', [...path, 'grouping'], `the grouping of ${label}`);
        if (s) {
          stream = s.value;
          streamNode = s.node;
        }
      } else {
        ctx.issues.add(
          src,
          gnode ?? g.key,
          [...path, 'grouping'],
          `the grouping of ${label} must be a mapping such as { type: shuffle }, got ${describeNode(gnode)}`,
        );
      }
    }
    parts.streams.push({
      src,
      path,
      node,
      fields,
      label,
      stream,
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(grouping ? { grouping } : {}),
      ...(streamNode ? { streamNode } : {}),
    });
  }
  return parts;
}

/** The items of a top-level list section; a missing or empty section is an empty list. */
function listOf(ctx: LoadContext, src: Source, top: Fieldset, section: string): { node: Node | null; path: YamlPath }[] {
  const pair = top.get(section);
  if (!pair) return [];
  const list = deref(ctx, src, pair.value, [section]);
  if (isScalar(list) && list.value === null) return [];
  if (!isSeq(list)) {
    ctx.issues.add(src, list ?? pair.key, [section], `${section} must be a list (each item starting with "- "), got ${describeNode(list)}`);
    ctx.incomplete = true;
    return [];
  }
  return list.items.map((item, i) => ({ node: deref(ctx, src, item, [section, i]), path: [section, i] }));
}

// ---------------------------------------------------------------------------------------------
// Includes

interface Frame {
  readonly abs: string;
  readonly file: string;
}

async function loadTree(ctx: LoadContext, src: Source, stack: readonly Frame[]): Promise<Merged> {
  const parts = interpret(ctx, src, stack.length === 1);
  const included: Merged[] = [];
  for (const inc of parts.includes) {
    const abs = resolvePath(dirname(src.abs), inc.value);
    const file = isAbsolute(inc.value) ? inc.value : join(dirname(src.file), inc.value);
    if (stack.some((f) => f.abs === abs)) {
      const start = stack.findIndex((f) => f.abs === abs);
      const chain = [...stack.slice(start).map((f) => f.file), file].join(' -> ');
      ctx.issues.add(src, inc.node, inc.path, `include cycle: ${chain}`);
      continue;
    }
    // A file included along two paths (a diamond) is read once.
    if (ctx.seen.has(abs)) continue;
    ctx.seen.add(abs);
    let text: string;
    try {
      text = await readFile(abs, 'utf8');
    } catch (err) {
      ctx.issues.add(src, inc.node, inc.path, `cannot read included file ${file}: ${ioReason(err)}`);
      ctx.incomplete = true;
      continue;
    }
    const child = parseSource(ctx, text, abs, file);
    included.push(await loadTree(ctx, child, [...stack, { abs, file }]));
  }
  return merge(parts, included);
}

function edgeKey(s: RawStream): string | undefined {
  return s.from && s.to ? `${s.from.value}\u0000${s.to.value}\u0000${s.stream}` : undefined;
}

/**
 * Appends the included files' components and streams to the including file's, and merges their
 * config (later includes over earlier ones, the including file over all). A component or stream
 * of the including file replaces an included one with the same id (or the same from, to and
 * stream): an include is a base that the including file may override.
 */
function merge(own: FileParts, included: readonly Merged[]): Merged {
  const ownIds = new Set(own.components.flatMap((c) => (c.id === undefined ? [] : [c.id])));
  const ownEdges = new Set(own.streams.flatMap((s) => edgeKey(s) ?? []));
  const config = new Map<string, ConfigEntry>();
  for (const m of included) for (const [k, e] of m.config) config.set(k, e);
  for (const e of own.config) config.set(e.key, e);
  return {
    ...(own.name ? { name: own.name } : {}),
    config,
    components: [...own.components, ...included.flatMap((m) => m.components).filter((c) => c.id === undefined || !ownIds.has(c.id))],
    streams: [
      ...own.streams,
      ...included
        .flatMap((m) => m.streams)
        .filter((s) => {
          const k = edgeKey(s);
          return k === undefined || !ownEdges.has(k);
        }),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Topology config

/** A mapping key that is a name: a scalar string or number, not null, a list or a mapping. */
function isNameKey(key: unknown): key is Scalar {
  return isScalar(key) && key.value !== null && typeof key.value !== 'object';
}

/**
 * Checks that every mapping key under `node` is a name (a string or number scalar), reporting
 * each one that is not (null, a list, a mapping) at its place; false when there was one.
 */
function namedKeys(ctx: LoadContext, src: Source, node: unknown, path: YamlPath, where: string): boolean {
  let ok = true;
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key;
      if (!isNameKey(key)) {
        const got = isScalar(key) && key.value === null && key.source !== '' ? 'null' : describeNode(key);
        ctx.issues.add(src, (isNode(key) ? key : null) ?? (isNode(pair.value) ? pair.value : node), path, `keys in ${where} must be names, got ${got}`);
        ok = false;
        continue;
      }
      if (!namedKeys(ctx, src, pair.value, [...path, String(key.value)], where)) ok = false;
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      if (!namedKeys(ctx, src, item, [...path, i], where)) ok = false;
    });
  }
  return ok;
}

function toPlain(ctx: LoadContext, src: Source, node: Node | null, path: YamlPath): unknown {
  if (node === null) return undefined;
  try {
    return node.toJS(src.doc);
  } catch (err) {
    ctx.issues.add(src, node, path, `cannot read this value: ${errorMessage(err)}`);
    return undefined;
  }
}

function topologyConfig(ctx: LoadContext, root: Source, merged: Merged): { config: TopologyConfig; maxParallelism?: number } {
  const raw: Record<string, unknown> = {};
  for (const [k, e] of merged.config) raw[k] = toPlain(ctx, e.src, e.valueNode, e.path);
  const { value: c, issues } = validateConfigExact(TOPOLOGY_CONFIG_FIELDS, raw);
  const bad = new Set<string>();
  for (const issue of issues) {
    const key = String(issue.path[0] ?? '');
    bad.add(key);
    const e = merged.config.get(key);
    if (e) ctx.issues.add(e.src, key in TOPOLOGY_CONFIG_FIELDS ? (e.valueNode ?? e.keyNode) : e.keyNode, e.path, `config: ${issue.message}`);
    else ctx.issues.add(root, root.doc.contents, ['config'], `config: ${issue.message}`);
  }
  const config: TopologyConfig = {
    maxParallelism: c.maxParallelism,
    ...(c.workers !== undefined ? { workers: c.workers } : {}),
    acking: c.acking,
    messageTimeoutMs: c.messageTimeout,
    maxSpoutPending: c.maxSpoutPending,
    maxRetries: c.maxRetries,
    batchSize: c.batchSize,
    batchBytes: c.batchBytes,
    batchLingerMs: c.batchLinger,
    credits: c.credits,
    loadAware: c.loadAware,
    drainTimeoutMs: c.drainTimeout,
    latencySampling: c.latencySampling,
    stateSnapshotIntervalMs: c.stateSnapshotInterval,
    stateAcks: c.stateAcks,
  };
  if (config.stateAcks === 'after-copy' && !bad.has('stateAcks')) {
    // Held acks are released by copies: without acking, copies, or with copies rarer than the
    // message timeout, they would never or too late complete a tree.
    const e = merged.config.get('stateAcks')!;
    const at = e.valueNode ?? e.keyNode;
    if (!config.acking)
      ctx.issues.add(e.src, at, e.path, 'config: stateAcks: after-copy holds acks, and acking is off (acking: false): set acking: true, or drop stateAcks');
    else if (config.stateSnapshotIntervalMs === 0)
      ctx.issues.add(e.src, at, e.path, 'config: stateAcks: after-copy releases acks at each state copy, and stateSnapshotInterval is 0 (no copies)');
    else if (config.stateSnapshotIntervalMs >= config.messageTimeoutMs)
      ctx.issues.add(
        e.src,
        at,
        e.path,
        `config: stateAcks: after-copy holds acks up to stateSnapshotInterval (${config.stateSnapshotIntervalMs}ms), which is not under messageTimeout (${config.messageTimeoutMs}ms): every tree would time out`,
      );
  }
  return bad.has('maxParallelism') ? { config } : { config, maxParallelism: c.maxParallelism };
}

// ---------------------------------------------------------------------------------------------
// Components

interface Resolved {
  readonly raw: RawComponent;
  /** Set when the component's definition was found; meaningful only when the load has no issues. */
  readonly node?: ComponentNode;
  /** The declared output streams, when the definition and its config are valid. */
  readonly outputs?: StreamDeclarations;
  /** With outputs: the definition and the YAML node of its config, for checkInputs. */
  readonly def?: ComponentDefinition;
  readonly configNode?: Node | null;
}

async function resolveComponent(ctx: LoadContext, raw: RawComponent, maxParallelism: number | undefined): Promise<Resolved> {
  const { src, path, fields, label, kind } = raw;
  const type = stringField(ctx, src, fields, 'type', path, label);
  const mod = stringField(ctx, src, fields, 'module', path, label);
  let found: { def: ComponentDefinition; ref: ModuleRef } | undefined;
  if (fields.has('type') && fields.has('module')) {
    ctx.issues.add(
      src,
      fields.get('module')!.key,
      [...path, 'module'],
      `${label} has both "type" and "module"; use type for a built-in ${kind} or module for your own code, not both`,
    );
  } else if (!fields.has('type') && !fields.has('module')) {
    const known = ctx.registry.types(kind);
    ctx.issues.add(
      src,
      raw.node,
      path,
      `${label} needs a "type" (a built-in ${kind}${known.length ? `: ${known.join(', ')}` : ''}) or a "module" (the path of your own .ts or .js file)`,
    );
  } else if (type) {
    found = builtIn(ctx, raw, type.value, type.node);
  } else if (mod) {
    found = await userComponent(ctx, raw, mod.value, mod.node);
  }

  let parallelism = 1;
  const p = fields.get('parallelism');
  /** Where a parallelism error points: the value, else the key, else the component. */
  let parallelismAt: unknown = raw.node;
  if (p) {
    const node = deref(ctx, src, p.value, [...path, 'parallelism']);
    parallelismAt = node ?? p.key;
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      ctx.issues.add(src, node ?? p.key, [...path, 'parallelism'], `parallelism of ${label} must be an integer >= 1, got ${describeNode(node)}`);
    } else if (maxParallelism !== undefined && v > maxParallelism) {
      ctx.issues.add(
        src,
        node,
        [...path, 'parallelism'],
        `parallelism ${v} of ${label} exceeds maxParallelism ${maxParallelism} (the number of key groups); lower it or raise config.maxParallelism`,
      );
    } else {
      parallelism = v;
    }
  }

  let tickMs: number | undefined;
  const t = fields.get('tick');
  if (t) {
    const node = deref(ctx, src, t.value, [...path, 'tick']);
    if (kind === 'spout') {
      ctx.issues.add(src, t.key, [...path, 'tick'], `tick is for bolts and sinks; ${label} is a spout and is never sent tick tuples`);
    } else {
      const v = isScalar(node) ? node.value : undefined;
      const ms = typeof v === 'string' ? parseDuration(v) : undefined;
      // Zero, bare as for any duration or with a unit, means no ticks: tickMs stays unset and, the
      // key being present, the component's own tickMs() is not asked below. "0.4ms" would round
      // to 0 and "0.5ms" up to 1ms: both are mistakes, neither a request for no ticks nor for 1ms.
      const zero = v === 0 || v === '0' || (typeof v === 'string' && exactDurationMs(v) === 0);
      const low = zero ? undefined : durationBelowMinimum(v, 1);
      if (zero) {
        tickMs = undefined;
      } else if (typeof v === 'number' && v > 0 && Number.isFinite(v)) {
        ctx.issues.add(src, node, [...path, 'tick'], `tick of ${label} needs a unit, e.g. "${v}s" or "${v}ms"`);
      } else if (ms === undefined) {
        ctx.issues.add(
          src,
          node ?? t.key,
          [...path, 'tick'],
          `tick of ${label} must be a duration: a number and a unit (ms, s, m, h, d) such as "1s", or 0 for no ticks; got ${describeNode(node)}`,
        );
      } else if (low) {
        ctx.issues.add(src, node, [...path, 'tick'], `tick of ${label} must be at least 1ms, or 0 for no ticks; got ${JSON.stringify(v)}`);
      } else if (ms > MAX_DURATION_MS) {
        ctx.issues.add(src, node, [...path, 'tick'], `tick of ${label} must be at most 24.8 days (${MAX_DURATION_MS}ms, the longest a timer can wait)`);
      } else {
        tickMs = ms;
      }
    }
  }

  if (!found) return { raw };
  const { def, ref } = found;

  const c = fields.get('config');
  const configNode = c ? deref(ctx, src, c.value, [...path, 'config']) : null;
  // A key that is no name (null, a list) would be read as "" or "[ a, b ]", and said elsewhere.
  const keysOk = configNode === null || namedKeys(ctx, src, configNode, [...path, 'config'], `the config of ${raw.label}`);
  const rawConfig = keysOk ? toPlain(ctx, src, configNode, [...path, 'config']) : {};
  const result = keysOk ? validateConfigExact(def.spec.fields, rawConfig) : { value: {}, issues: [] };
  for (const issue of result.issues) {
    const target = locateConfigIssue(configNode, issue.path, def.spec.fields) ?? c?.key ?? raw.node;
    ctx.issues.add(src, target, [...path, 'config', ...issue.path], `${label} config: ${issue.message}`);
  }
  const config = result.value as Record<string, unknown>;

  const hookFailed = (hook: string, err: unknown) => reportHookError(ctx, raw, configNode, def.spec.fields, hook, err);
  let outputs: StreamDeclarations | undefined;
  // Unknown keys are left out of the value, whose known keys are valid: the component's own
  // checks can still run, so that one pass reports everything.
  const checkable = keysOk && result.issues.every((i) => i.unknownKey === true);
  if (checkable && def.checkConfig) {
    try {
      def.checkConfig(config as never);
    } catch (err) {
      hookFailed('checkConfig()', err);
    }
  }
  if (checkable) outputs = declaredOutputs(ctx, raw, def, config, hookFailed);
  // The other hooks check the same config: after outputs() found it wrong they would say it again.
  if (outputs !== undefined) {
    try {
      const limit = def.parallelismLimit?.(config as never);
      if (limit && parallelism > limit.max) {
        ctx.issues.add(
          src,
          parallelismAt,
          [...path, 'parallelism'],
          `parallelism ${parallelism} of ${label} is more than it can run as (${limit.max}): ${limit.why}`,
        );
      }
    } catch (err) {
      hookFailed('parallelismLimit()', err);
    }
    // Any `tick:` key, `tick: 0` included, overrides what the component asks for.
    if (!t && def.tickMs) {
      try {
        const v = def.tickMs(config);
        if (typeof v === 'number' && Number.isFinite(v) && v > 0) tickMs = v;
      } catch (err) {
        hookFailed('tickMs()', err);
      }
    }
    try {
      structuredClone(config);
    } catch (err) {
      ctx.issues.add(src, configNode ?? raw.node, [...path, 'config'], `${label}: its config is not plain data (${errorMessage(err)})`);
    }
  }

  const node: ComponentNode = {
    id: raw.id ?? '',
    kind,
    ...(type ? { type: type.value } : {}),
    ...(mod ? { module: mod.value } : {}),
    ref,
    parallelism,
    config,
    outputs: outputs ?? {},
    ...(tickMs !== undefined ? { tickMs } : {}),
    autoAck: def.kind === 'spout' ? false : (def.autoAck ?? true),
    location: locate(src, rangeStart(raw.node)),
  };
  return outputs ? { raw, node, outputs, def, configNode } : { raw, node };
}

function builtIn(ctx: LoadContext, raw: RawComponent, type: string, node: Node): { def: ComponentDefinition; ref: ModuleRef } | undefined {
  const entry = ctx.registry.get(raw.kind, type);
  if (entry) return { def: entry.definition, ref: entry.ref };
  const other = (['spout', 'bolt', 'sink'] as const).find((k) => k !== raw.kind && ctx.registry.get(k, type));
  const known = ctx.registry.types(raw.kind);
  const near = nearest(type, known);
  const message = other
    ? `"${type}" is a ${other} type, not a ${raw.kind}; move ${raw.label} under ${other}s:`
    : `unknown ${raw.kind} type "${type}"${near ? `; did you mean "${near}"?` : ''}; known ${raw.kind} types: ${known.join(', ') || '(none)'}`;
  ctx.issues.add(raw.src, node, [...raw.path, 'type'], message);
  return undefined;
}

/** Resolves a user module path against the YAML file that names it and checks that it exists. */
async function moduleFile(ctx: LoadContext, src: Source, written: string, node: Node, path: YamlPath): Promise<string | undefined> {
  const abs = resolvePath(dirname(src.abs), written);
  if (!MODULE_EXT_RE.test(abs)) {
    ctx.issues.add(src, node, path, `module "${written}" must be a .ts or .js file`);
    return undefined;
  }
  const st = await stat(abs).catch(() => undefined);
  if (!st?.isFile()) {
    ctx.issues.add(src, node, path, `module file not found: ${written} (looked for ${abs})`);
    return undefined;
  }
  return abs;
}

function importOnce(ctx: LoadContext, abs: string): Promise<Record<string, unknown>> {
  let p = ctx.modules.get(abs);
  if (!p) {
    p = importModule(abs);
    ctx.modules.set(abs, p);
  }
  return p;
}

async function importAt(ctx: LoadContext, src: Source, abs: string, node: Node, path: YamlPath): Promise<Record<string, unknown> | undefined> {
  try {
    return await importOnce(ctx, abs);
  } catch (err) {
    ctx.issues.add(src, node, path, errorMessage(err));
    return undefined;
  }
}

async function userComponent(
  ctx: LoadContext,
  raw: RawComponent,
  written: string,
  node: Node,
): Promise<{ def: ComponentDefinition; ref: ModuleRef } | undefined> {
  const { src, kind, label } = raw;
  const path = [...raw.path, 'module'];
  // `./file.ts#name` picks a named export, as Flux names a class.
  const hash = written.lastIndexOf('#');
  const wanted = hash > 0 ? written.slice(hash + 1) : undefined;
  const file = hash > 0 ? written.slice(0, hash) : written;
  const abs = await moduleFile(ctx, src, file, node, path);
  if (!abs) return undefined;
  const mod = await importAt(ctx, src, abs, node, path);
  if (!mod) return undefined;

  let exportName: string | undefined;
  if (wanted !== undefined) {
    if (!isComponentDefinition(mod[wanted])) {
      const named = Object.keys(mod).filter((k) => isComponentDefinition(mod[k]));
      const near = nearest(wanted, named);
      ctx.issues.add(
        src,
        node,
        path,
        `module ${file} has no component definition exported as "${wanted}"${near ? `; did you mean "${near}"?` : ''}${named.length ? ` (definitions: ${named.join(', ')})` : ''}`,
      );
      return undefined;
    }
    exportName = wanted;
  } else if (isComponentDefinition(mod.default)) exportName = 'default';
  else {
    const named = Object.keys(mod).filter((k) => k !== 'default' && isComponentDefinition(mod[k]));
    if (named.length === 1) exportName = named[0];
    else if (named.length > 1) {
      // Suggest one of the kind the entry is (a bolt entry: a bolt), not merely the first.
      const fits = named.find((k) => (mod[k] as { kind?: unknown }).kind === kind) ?? named[0];
      ctx.issues.add(
        src,
        node,
        path,
        `module ${written} exports several component definitions (${named.join(', ')}) and none as default; export the one ${label} uses as default, or name it: ${written}#${fits}`,
      );
      return undefined;
    }
  }
  if (exportName === undefined) {
    ctx.issues.add(
      src,
      node,
      path,
      `module ${written} exports no component definition; export default define${capitalize(kind)}({ spec, create }) from @qitian/api`,
    );
    return undefined;
  }
  const def = mod[exportName] as ComponentDefinition;
  if (def.kind !== kind) {
    ctx.issues.add(src, node, path, `module ${written} defines a ${def.kind}, but ${label} is listed under ${raw.section}:; move it under ${def.kind}s:`);
    return undefined;
  }
  return { def, ref: { url: pathToFileURL(abs).href, export: exportName } };
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The component's output streams as a fresh plain record; sinks declare none. */
function declaredOutputs(
  ctx: LoadContext,
  raw: RawComponent,
  def: ComponentDefinition,
  config: Record<string, unknown>,
  hookFailed: (hook: string, err: unknown) => void,
): StreamDeclarations | undefined {
  if (raw.kind === 'sink' || !def.outputs) return {};
  let declared: unknown;
  try {
    declared = def.outputs(config);
  } catch (err) {
    hookFailed('outputs()', err);
    return undefined;
  }
  const out: Record<string, string[]> = {};
  if (declared === null || typeof declared !== 'object' || Array.isArray(declared)) {
    ctx.issues.add(raw.src, raw.node, raw.path, `${raw.label}: its definition's outputs() must return { stream: [fields] }, got ${describe(declared)}`);
    return undefined;
  }
  for (const [stream, fieldNames] of Object.entries(declared)) {
    if (!Array.isArray(fieldNames) || fieldNames.some((f) => typeof f !== 'string')) {
      ctx.issues.add(raw.src, raw.node, raw.path, `${raw.label}: its definition declares stream "${stream}" with fields that are not a list of names`);
      return undefined;
    }
    out[stream] = [...(fieldNames as string[])];
  }
  return out;
}

/**
 * An error a definition's hook threw while checking its config. One that names its place
 * (`configPath`, see configPathOf) is reported there, as a config issue; an AggregateError is
 * each of its errors. Anything else is a fault of the hook, reported at the component.
 */
function reportHookError(ctx: LoadContext, raw: RawComponent, configNode: Node | null, fields: Fields, hook: string, err: unknown): void {
  const errors = err instanceof AggregateError && err.errors.length > 0 ? err.errors : [err];
  for (const e of errors) {
    const at = configPathOf(e);
    if (at) {
      const node = locateConfigIssue(configNode, at, fields) ?? raw.node;
      ctx.issues.add(raw.src, node, [...raw.path, 'config', ...at], `${raw.label} config: ${errorMessage(e)}`);
    } else {
      ctx.issues.add(raw.src, raw.node, raw.path, `${raw.label}: its definition's ${hook} threw: ${errorMessage(e)}`);
    }
  }
}

/**
 * The YAML node a config issue is about: the deepest node along its path; the key itself for
 * an unknown key.
 */
function locateConfigIssue(configNode: Node | null, path: readonly (string | number)[], fields: Fields): Node | undefined {
  let node: unknown = configNode;
  if (!node) return undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      if (i === 0 && path.length === 1 && !(String(seg) in fields)) return pair.key as Node;
      if (!isNode(pair.value)) return pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && isNode(node.items[seg])) {
      node = node.items[seg];
    } else break;
  }
  return node as Node;
}

/**
 * Each component's checkInputs hook, with the streams it consumes (their fields, or the ones a
 * `select` keeps), once every one of those streams resolved: config naming input fields that no
 * input declares, reported where the config says them.
 */
function checkInputs(ctx: LoadContext, resolved: readonly Resolved[], edges: readonly (StreamEdge | undefined)[], byId: Map<string, Resolved>): void {
  for (const r of resolved) {
    const def = r.def;
    if (!def?.checkInputs || !r.node || r.raw.id === undefined) continue;
    const inputs: InputStream[] = [];
    let complete = true;
    for (const e of edges) {
      if (e === undefined) {
        complete = false;
        continue;
      }
      if (e.to !== r.raw.id) continue;
      const declared = byId.get(e.from)?.outputs?.[e.grouping.stream];
      if (declared === undefined) {
        complete = false;
        continue;
      }
      const fields = e.select ?? declared;
      inputs.push({
        from: e.from,
        stream: e.grouping.stream,
        fields,
        indexOf: (f) => fields.indexOf(f),
        grouping: { type: e.grouping.type, fields: e.grouping.fields ?? [] },
        parallelism: r.node.parallelism,
      });
    }
    // An input that did not resolve was reported already; what it would declare is unknown.
    if (!complete || inputs.length === 0) continue;
    let problems: readonly InputProblem[];
    try {
      problems = def.checkInputs(r.node.config as never, inputs);
    } catch (err) {
      reportHookError(ctx, r.raw, r.configNode ?? null, def.spec.fields, 'checkInputs()', err);
      continue;
    }
    const all = [...new Set(inputs.flatMap((i) => i.fields))];
    const listed = inputs.map((i) => `"${i.stream}" of "${i.from}" (${i.fields.join(', ') || 'no fields'})`).join('; ');
    for (const p of problems) {
      let message = p.message;
      if (p.field !== undefined) {
        const near = nearest(p.field, all);
        message += `${near ? `; did you mean "${near}"?` : ''}; ${inputs.length === 1 ? 'its input declares' : 'its inputs declare'}: ${listed}`;
      }
      const target = locateConfigIssue(r.configNode ?? null, p.path, def.spec.fields) ?? r.configNode ?? r.raw.node;
      ctx.issues.add(r.raw.src, target, [...r.raw.path, 'config', ...p.path], `${r.raw.label} config: ${message}`);
    }
  }
}

function checkIds(ctx: LoadContext, resolved: readonly Resolved[]): Map<string, Resolved> {
  const byId = new Map<string, Resolved>();
  for (const r of resolved) {
    const id = r.raw.id;
    if (id === undefined) continue;
    const first = byId.get(id);
    if (first) {
      const at = locate(first.raw.src, rangeStart(first.raw.node));
      ctx.issues.add(
        r.raw.src,
        r.raw.fields.get('id')?.value ?? r.raw.node,
        [...r.raw.path, 'id'],
        `duplicate component id "${id}"; ${first.raw.kind} "${id}" is already defined at ${at.file}:${at.line}:${at.col}`,
      );
    } else byId.set(id, r);
  }
  let tasks = 0;
  for (const r of resolved) {
    tasks += r.node?.parallelism ?? 0;
    if (tasks > MAX_TASKS) {
      ctx.issues.add(
        r.raw.src,
        r.raw.fields.get('parallelism')?.value ?? r.raw.node,
        [...r.raw.path, 'parallelism'],
        `the topology has more than ${MAX_TASKS} tasks from ${r.raw.kind} "${r.raw.id}" on (parallelism summed over all components); lower some parallelism`,
      );
      break;
    }
  }
  return byId;
}

// ---------------------------------------------------------------------------------------------
// Streams and groupings

function normalizeGroupingType(text: string): string {
  return text.trim().toLowerCase().replace(/_/g, '-');
}

async function resolveStream(ctx: LoadContext, s: RawStream, byId: Map<string, Resolved>): Promise<StreamEdge | undefined> {
  const { src, path, label } = s;
  const ids = [...byId.keys()];
  const endpoint = (which: 'from' | 'to'): Resolved | undefined => {
    const ref = s[which];
    if (!s.fields.has(which)) {
      ctx.issues.add(src, s.node, path, `${label} has no "${which}": the id of the component it ${which === 'from' ? 'reads from' : 'feeds'}`);
      return undefined;
    }
    if (!ref) return undefined;
    const r = byId.get(ref.value);
    if (!r && !ctx.incomplete) {
      const near = nearest(ref.value, ids);
      ctx.issues.add(
        src,
        ref.node,
        [...path, which],
        `${label}: "${which}" names no component "${ref.value}"${near ? `; did you mean "${near}"?` : ''}; components: ${ids.join(', ') || '(none)'}`,
      );
    }
    return r;
  };
  const from = endpoint('from');
  const to = endpoint('to');
  if (to?.raw.kind === 'spout') {
    ctx.issues.add(src, s.to!.node, [...path, 'to'], `${label}: "to" names spout "${to.raw.id}"; spouts take no input`);
  }
  if (from?.raw.kind === 'sink') {
    ctx.issues.add(src, s.from!.node, [...path, 'from'], `${label}: "from" names sink "${from.raw.id}"; sinks emit nothing`);
  }

  if (!s.fields.has('grouping')) {
    ctx.issues.add(src, s.node, path, `${label} has no "grouping"; e.g. grouping: { type: shuffle }`);
    return undefined;
  }
  if (!s.grouping) return undefined;
  const g = s.grouping;
  const gpath = [...path, 'grouping'];
  const where = `the grouping of ${label}`;

  let type: GroupingType | undefined;
  const typeField = stringField(ctx, src, g.fields, 'type', gpath, where);
  if (!g.fields.has('type')) {
    ctx.issues.add(src, g.node, gpath, `${where} has no "type"; one of: ${GROUPING_TYPES.join(', ')}`);
  } else if (typeField) {
    const normalized = normalizeGroupingType(typeField.value);
    if ((GROUPING_TYPES as readonly string[]).includes(normalized)) type = normalized as GroupingType;
    else {
      // Flux's NONE means "don't care", which Storm runs as shuffle.
      const near = normalized === 'none' ? 'shuffle' : nearest(normalized, GROUPING_TYPES);
      ctx.issues.add(
        src,
        typeField.node,
        [...gpath, 'type'],
        `unknown grouping type "${typeField.value}" in ${label}${near ? `; did you mean "${near}"?` : ''}; known: ${GROUPING_TYPES.join(', ')}`,
      );
    }
  }

  // The stream must be one the upstream declares. A "stream" that is not a name is reported
  // already: it is not checked as the default stream.
  const stream = s.stream;
  let streamFields: readonly string[] | undefined;
  const streamUnknown = g.fields.has('stream') && !s.streamNode;
  if (from && from.raw.kind !== 'sink' && from.outputs && !streamUnknown) {
    const declared = Object.keys(from.outputs);
    if (Object.hasOwn(from.outputs, stream)) streamFields = from.outputs[stream];
    else {
      const near = nearest(stream, declared);
      const what = declared.length ? `it declares: ${declared.join(', ')}` : 'it declares no output streams';
      ctx.issues.add(
        src,
        s.streamNode ?? g.node,
        [...gpath, 'stream'],
        `${from.raw.label} declares no stream "${stream}"${s.streamNode ? '' : ' (the default when grouping has no "stream")'}${near ? `; did you mean "${near}"?` : ''}; ${what}`,
      );
    }
  }

  let fields: string[] | undefined;
  const fpair = g.fields.get('fields');
  if (type === 'fields') {
    if (!fpair) {
      ctx.issues.add(src, g.node, gpath, `fields grouping in ${label} needs "fields": the upstream fields to hash on, e.g. fields: [key]`);
    } else fields = groupingFields(ctx, s, fpair, from, stream, streamFields);
  } else if (fpair && type) {
    ctx.issues.add(src, fpair.key, [...gpath, 'fields'], `"fields" is only for fields grouping; the grouping of ${label} is ${type}`);
  }

  let custom: Grouping['custom'];
  const mpair = g.fields.get('module');
  const apair = g.fields.get('args');
  if (type === 'custom') {
    let args: Record<string, unknown> = {};
    if (apair) {
      const anode = deref(ctx, src, apair.value, [...gpath, 'args']);
      if (isMap(anode)) args = toPlain(ctx, src, anode, [...gpath, 'args']) as Record<string, unknown>;
      else if (!(isScalar(anode) && anode.value === null)) {
        ctx.issues.add(src, anode ?? apair.key, [...gpath, 'args'], `args of ${where} must be a mapping, got ${describeNode(anode)}`);
      }
    }
    const m = stringField(ctx, src, g.fields, 'module', gpath, where);
    if (!mpair) {
      ctx.issues.add(src, g.node, gpath, `custom grouping in ${label} needs "module": a .ts or .js file whose default export is a grouping factory`);
    } else if (m) {
      const ref = await groupingModule(ctx, src, m.value, m.node, [...gpath, 'module']);
      if (ref) custom = { ref, args };
    }
  } else if (type) {
    if (mpair) ctx.issues.add(src, mpair.key, [...gpath, 'module'], `"module" is only for custom grouping; the grouping of ${label} is ${type}`);
    if (apair) ctx.issues.add(src, apair.key, [...gpath, 'args'], `"args" is only for custom grouping; the grouping of ${label} is ${type}`);
  }

  // `select`: the consumer gets only these fields (grouping still sees every field).
  let select: string[] | undefined;
  const spair = s.fields.get('select');
  if (spair) {
    if (type === 'direct') {
      ctx.issues.add(
        src,
        spair.key,
        [...path, 'select'],
        `"select" does not apply to direct grouping (emitDirect sends whole tuples); remove it from ${label}`,
      );
    } else select = groupingFields(ctx, s, spair, from, stream, streamFields, 'select');
  }

  if (!from || !to || !type) return undefined;
  const grouping: Grouping = {
    type,
    stream,
    ...(fields ? { fields } : {}),
    ...(custom ? { custom } : {}),
  };
  return { from: from.raw.id!, to: to.raw.id!, grouping, ...(select ? { select } : {}), location: locate(src, rangeStart(s.node)) };
}

function groupingFields(
  ctx: LoadContext,
  s: RawStream,
  pair: Pair,
  from: Resolved | undefined,
  stream: string,
  declared: readonly string[] | undefined,
  key: 'fields' | 'select' = 'fields',
): string[] | undefined {
  const { src, label } = s;
  const fpath = key === 'fields' ? [...s.path, 'grouping', 'fields'] : [...s.path, 'select'];
  const list = deref(ctx, src, pair.value, fpath);
  if (!isSeq(list) || list.items.length === 0) {
    ctx.issues.add(src, list ?? pair.key, fpath, `"${key}" of ${label} must be a non-empty list of field names, e.g. [key]; got ${describeNode(list)}`);
    return undefined;
  }
  const out: string[] = [];
  list.items.forEach((item, i) => {
    const node = deref(ctx, src, item, [...fpath, i]);
    if (!isScalar(node) || typeof node.value !== 'string') {
      ctx.issues.add(src, node ?? list, [...fpath, i], `"${key}" of ${label} must list field names, got ${describeNode(node)}${quoteHint(node)}`);
      return;
    }
    const f = node.value;
    if (out.includes(f)) ctx.issues.add(src, node, [...fpath, i], `field "${f}" is listed twice in ${label}`);
    else if (declared && !declared.includes(f)) {
      const near = nearest(f, declared);
      ctx.issues.add(
        src,
        node,
        [...fpath, i],
        `field "${f}" is not declared by stream "${stream}" of ${from!.raw.label}${near ? `; did you mean "${near}"?` : ''}; it declares: ${declared.join(', ') || '(no fields)'}`,
      );
    }
    out.push(f);
  });
  return out;
}

async function groupingModule(ctx: LoadContext, src: Source, written: string, node: Node, path: YamlPath): Promise<ModuleRef | undefined> {
  const abs = await moduleFile(ctx, src, written, node, path);
  if (!abs) return undefined;
  const mod = await importAt(ctx, src, abs, node, path);
  if (!mod) return undefined;
  if (typeof mod.default !== 'function') {
    ctx.issues.add(
      src,
      node,
      path,
      `module ${written} must export default a grouping factory: (args) => ({ prepare(targetTasks, fields), chooseTasks(values) })`,
    );
    return undefined;
  }
  return { url: pathToFileURL(abs).href, export: 'default' };
}

// ---------------------------------------------------------------------------------------------
// The graph: duplicate edges, inputs, cycles, topological order

function checkGraph(ctx: LoadContext, root: Source, resolved: readonly Resolved[], streams: readonly RawStream[], byId: Map<string, Resolved>): Resolved[] {
  const seen = new Map<string, RawStream>();
  const edges: { from: string; to: string; s: RawStream }[] = [];
  for (const s of streams) {
    const key = edgeKey(s);
    if (key === undefined) continue;
    const first = seen.get(key);
    if (first) {
      const at = locate(first.src, rangeStart(first.node));
      ctx.issues.add(
        s.src,
        s.node,
        s.path,
        `duplicate stream ${s.from!.value} -> ${s.to!.value} (stream "${s.stream}"); already declared at ${at.file}:${at.line}:${at.col}`,
      );
      continue;
    }
    seen.set(key, s);
    // Edges into a spout or out of a sink are already reported; they take no part in the graph.
    const from = byId.get(s.from!.value);
    const to = byId.get(s.to!.value);
    if (from && to && from.raw.kind !== 'sink' && to.raw.kind !== 'spout') edges.push({ from: s.from!.value, to: s.to!.value, s });
  }
  if (ctx.incomplete) return [];

  if (!resolved.some((r) => r.raw.kind === 'spout')) {
    // At the `spouts:` key when there is one (empty, or with nothing that is a spout), else at the start.
    const contents = root.doc.contents;
    const key = isMap(contents) ? contents.items.find((p) => isScalar(p.key) && p.key.value === 'spouts')?.key : undefined;
    ctx.issues.add(root, key ?? contents, ['spouts'], `the topology has no spouts; declare at least one under spouts:`);
  }
  // Any stream naming a component as its "to" counts, even a broken one: that one is reported already.
  const fed = new Set(streams.flatMap((s) => (s.to ? [s.to.value] : [])));
  for (const r of byId.values()) {
    if (r.raw.kind !== 'spout' && !fed.has(r.raw.id!)) {
      ctx.issues.add(r.raw.src, r.raw.node, r.raw.path, `${r.raw.label} has no input stream; add one under streams: with to: ${r.raw.id}`);
    }
  }

  const out = new Map<string, typeof edges>();
  for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles = new Set<string>();
  let cyclic = false;
  const visitNode = (id: string): void => {
    state.set(id, 'open');
    stack.push(id);
    for (const e of out.get(id) ?? []) {
      const st = state.get(e.to);
      if (st === undefined) visitNode(e.to);
      else if (st === 'open') {
        cyclic = true;
        const cycle = [...stack.slice(stack.indexOf(e.to)), e.to].join(' -> ');
        // Two streams between the same pair (say default and errors) close the same cycle: say it once.
        if (cycles.has(cycle)) continue;
        cycles.add(cycle);
        ctx.issues.add(e.s.src, e.s.node, e.s.path, `streams form a cycle: ${cycle}; a topology must be acyclic`);
      }
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of byId.keys()) if (!state.has(id)) visitNode(id);
  if (cyclic) return [];

  // Kahn's algorithm, taking the earliest-declared ready component each time (spouts come first).
  const indeg = new Map<string, number>([...byId.keys()].map((id) => [id, 0]));
  for (const e of edges) indeg.set(e.to, indeg.get(e.to)! + 1);
  const pending = [...byId.values()];
  const order: Resolved[] = [];
  while (pending.length > 0) {
    const i = pending.findIndex((r) => indeg.get(r.raw.id!) === 0);
    const [r] = pending.splice(i, 1);
    order.push(r!);
    for (const e of out.get(r!.raw.id!) ?? []) indeg.set(e.to, indeg.get(e.to)! - 1);
  }
  return order;
}
