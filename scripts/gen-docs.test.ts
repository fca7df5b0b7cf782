import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defineSpout, type Fields, field, validateConfig } from '@qitian/api';
import { type BuiltinComponent, builtinComponents } from '@qitian/netops';
import { createRegistry, formatIssue, InvalidTopologyError, parseTopology, TOPOLOGY_CONFIG_FIELDS } from '@qitian/topology';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  CONFIG_BEGIN,
  CONFIG_END,
  checkDocs,
  componentPagePath,
  describeType,
  exampleInSection,
  formatDuration,
  GENERATED_MARK,
  generateDocs,
  REPO_ROOT,
  renderComponentPage,
  renderFieldsTable,
  replaceSection,
  writeDocs,
} from './gen-docs.js';

/**
 * A spout declaring the fields it is told, to feed a sink example that names its input's fields
 * (`fields: [word, count]`), which a generator's `line` would fail. Only validated, never run.
 */
const fieldsFeed = defineSpout({
  spec: { summary: 'Declares the fields it is told.', fields: { fields: field.list({ description: 'Its fields.', items: 'string', required: true }) } },
  outputs: (config) => ({ default: [...config.fields] }),
  create: () => {
    throw new Error('fields-feed only validates');
  },
});

const registry = createRegistry([
  ...builtinComponents.map((b) => ({ type: b.type, definition: b.definition, ref: b.ref })),
  { type: 'fields-feed', definition: fieldsFeed, ref: builtinComponents[0]!.ref },
]);

describe('committed docs', () => {
  it('are what scripts/gen-docs.ts generates from the specs (run `npm run docs` when this fails)', async () => {
    const stale = await checkDocs(REPO_ROOT);
    expect(stale, `stale docs: ${stale.map((s) => `${s.path} (${s.problem})`).join(', ')}; run npm run docs`).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Every example of every built-in spec, validated as a component entry inside a small topology.

interface Entry {
  id: string;
  config?: unknown;
}

function entryOf(yamlText: string): Entry {
  const entry = parse(yamlText) as Entry;
  expect(typeof entry.id, 'an example entry needs an id').toBe('string');
  return entry;
}

/** A stream an example component emits on: `default` when it declares it, else its first stream. */
function streamOf(c: BuiltinComponent, entry: Entry): string {
  const def = c.definition;
  const config = validateConfig(def.spec.fields as Fields, entry.config).value;
  const streams = Object.keys(def.outputs?.(config as never) ?? {});
  if (streams.includes('default') || streams.length === 0) return 'default';
  return streams[0]!;
}

/** An id not used by the example. */
function otherId(base: string, taken: string): string {
  return base === taken ? `${base}-2` : base;
}

/**
 * A minimal valid topology around one example, with the example text exactly as the docs show it:
 * a spout example feeds a stdout sink; a sink example is fed by a generator spout (or one declaring
 * the fields its `fields` names); a bolt example
 * sits between the two, behind a syslog-parse bolt unless it is one (the others read events).
 */
function topologyAround(c: BuiltinComponent, exampleYaml: string): string {
  const kind = c.definition.kind;
  const entry = entryOf(exampleYaml);
  const src = otherId('src', entry.id);
  const sink = otherId('sink', entry.id);
  const named = (entry.config as { fields?: unknown } | undefined)?.fields;
  const feeder =
    kind === 'sink' && Array.isArray(named) && named.length > 0
      ? ['spouts:', `  - id: ${src}`, '    type: fields-feed', `    config: { fields: [${named.join(', ')}] }`].join('\n')
      : ['spouts:', `  - id: ${src}`, '    type: generator', '    config: { count: 1 }'].join('\n');
  const printer = ['sinks:', `  - id: ${sink}`, '    type: stdout'].join('\n');
  const edge = (from: string, to: string, stream = 'default') =>
    `  - { from: ${from}, to: ${to}, grouping: { type: shuffle${stream === 'default' ? '' : `, stream: ${stream}`} } }`;
  const parts = [`name: example-${c.type}-${kind}`];
  if (kind === 'spout') {
    parts.push(exampleInSection(kind, exampleYaml), printer, 'streams:', edge(entry.id, sink, streamOf(c, entry)));
  } else if (kind === 'sink' && Array.isArray(named)) {
    parts.push(feeder, exampleInSection(kind, exampleYaml), 'streams:', edge(src, entry.id));
  } else if (kind === 'sink') {
    // Sinks that read event fields (severity-files' severity) get parsed events.
    const parse = otherId('parse-feed', entry.id);
    parts.push(
      feeder,
      `bolts:\n  - id: ${parse}\n    type: syslog-parse`,
      exampleInSection(kind, exampleYaml),
      'streams:',
      edge(src, parse),
      edge(parse, entry.id),
    );
  } else if (c.type === 'syslog-parse') {
    parts.push(feeder, exampleInSection(kind, exampleYaml), printer, 'streams:', edge(src, entry.id), edge(entry.id, sink, streamOf(c, entry)));
  } else {
    // The other built-in bolts read parsed events (their fields are checked against their inputs).
    const parse = otherId('parse-feed', entry.id);
    const bolts = `${exampleInSection(kind, exampleYaml)}\n  - id: ${parse}\n    type: syslog-parse`;
    // A bolt keeping state per key gets its input fields-grouped on that key, as its docs ask.
    const keyBy = (entry.config as { keyBy?: unknown } | undefined)?.keyBy;
    const into = typeof keyBy === 'string' ? `  - { from: ${parse}, to: ${entry.id}, grouping: { type: fields, fields: [${keyBy}] } }` : edge(parse, entry.id);
    parts.push(feeder, bolts, printer, 'streams:', edge(src, parse), into, edge(entry.id, sink, streamOf(c, entry)));
  }
  return `${parts.join('\n')}\n`;
}

describe('every example in every built-in spec validates inside a topology', () => {
  for (const c of builtinComponents) {
    const examples = c.definition.spec.examples ?? [];
    it(`${c.definition.kind} ${c.type} has at least one example`, () => {
      expect(examples.length).toBeGreaterThanOrEqual(1);
    });
    for (const ex of examples) {
      it(`${c.definition.kind} ${c.type}: ${ex.title}`, async () => {
        const text = topologyAround(c, ex.yaml);
        const file = `example-${c.definition.kind}-${c.type}.yaml`;
        const spec = await parseTopology(text, file, { registry, env: {} }).catch((err: unknown) => {
          if (err instanceof InvalidTopologyError) {
            throw new Error(`example "${ex.title}" of ${c.definition.kind} ${c.type} is invalid:\n${err.issues.map(formatIssue).join('\n')}\n---\n${text}`);
          }
          throw err;
        });
        const entry = entryOf(ex.yaml);
        const node = spec.components.find((n) => n.id === entry.id);
        expect(node).toMatchObject({ kind: c.definition.kind, type: c.type });
      });
    }
  }
});

describe('the example check', () => {
  it('rejects a broken example, naming the line and column', async () => {
    const stdout = builtinComponents.find((b) => b.definition.kind === 'sink' && b.type === 'stdout')!;
    const text = topologyAround(stdout, 'id: show\ntype: stdout\nconfig:\n  fromat: text');
    const err = await parseTopology(text, 'broken.yaml', { registry, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidTopologyError);
    expect((err as InvalidTopologyError).issues.map(formatIssue)).toEqual([
      'broken.yaml:13:7: sink "show" config: unknown config key "fromat"; did you mean "format"?',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// The generator itself

describe('gen-docs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qitian-docs-'));
    await cp(join(REPO_ROOT, 'docs/yaml.md'), join(dir, 'docs/yaml.md'), { recursive: true });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every page, then finds nothing stale', async () => {
    const touched = await writeDocs(dir);
    expect(touched).toContain('docs/components/README.md');
    for (const c of builtinComponents) expect(touched).toContain(`docs/components/${componentPagePath(c.definition.kind, c.type)}`);
    expect(await checkDocs(dir)).toEqual([]);
    expect(await writeDocs(dir)).toEqual([]);
  });

  it('names an edited page, a missing page and an orphaned generated page', async () => {
    await writeDocs(dir);
    const first = builtinComponents[0]!;
    const edited = `docs/components/${componentPagePath(first.definition.kind, first.type)}`;
    await writeFile(join(dir, edited), `${await readFile(join(dir, edited), 'utf8')}\nhand edit\n`);
    await rm(join(dir, 'docs/components/README.md'));
    await writeFile(join(dir, 'docs/components/spouts/removed.md'), `${GENERATED_MARK}\n\n# removed (spout)\n`);
    await writeFile(join(dir, 'docs/components/notes.md'), '# hand-written notes are left alone\n');
    expect(await checkDocs(dir)).toEqual([
      { path: edited, problem: 'out of date' },
      { path: 'docs/components/README.md', problem: 'missing' },
      { path: 'docs/components/spouts/removed.md', problem: 'no longer generated' },
    ]);
    await writeDocs(dir);
    expect(await checkDocs(dir)).toEqual([]);
    expect(await readFile(join(dir, 'docs/components/notes.md'), 'utf8')).toContain('hand-written');
  });

  it('fills only the marked section of docs/yaml.md', async () => {
    const text = `# before\n\n${CONFIG_BEGIN}\nold\n${CONFIG_END}\n\n# after\n`;
    const out = replaceSection(text, CONFIG_BEGIN, CONFIG_END, `${CONFIG_BEGIN}\nnew\n${CONFIG_END}`);
    expect(out).toBe(`# before\n\n${CONFIG_BEGIN}\nnew\n${CONFIG_END}\n\n# after\n`);
    expect(() => replaceSection('# no markers\n', CONFIG_BEGIN, CONFIG_END, 'x')).toThrow(/markers/);
    const docs = await generateDocs(REPO_ROOT);
    const yamlDoc = docs.get('docs/yaml.md')!;
    for (const key of Object.keys(TOPOLOGY_CONFIG_FIELDS)) expect(yamlDoc).toContain(`| \`${key}\` |`);
  });

  it('documents every config key of every built-in, with its default as written in YAML', () => {
    for (const c of builtinComponents) {
      const page = renderComponentPage(c);
      expect(page.startsWith(GENERATED_MARK)).toBe(true);
      expect(page).toContain(c.definition.spec.summary);
      for (const key of Object.keys(c.definition.spec.fields)) expect(page).toContain(`| \`${key}\` |`);
      for (const ex of c.definition.spec.examples ?? []) expect(page).toContain(`### ${ex.title}`);
    }
    const table = renderFieldsTable(TOPOLOGY_CONFIG_FIELDS as Fields);
    expect(table).toContain('| `messageTimeout` | duration, >= 1ms | `30s` | no |');
    expect(renderFieldsTable({})).toMatch(/takes no config/);
  });

  it('runs as a script: --check exits 0 when up to date, 2 on an unknown argument', async () => {
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/gen-docs.ts'), ...args], { cwd: REPO_ROOT }).then(
        (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
      );
    expect(await run('--check')).toMatchObject({ code: 0, out: 'gen-docs: docs are up to date\n' });
    expect(await run('--chek')).toMatchObject({ code: 2, err: expect.stringContaining('unknown argument --chek') });
  });

  it('formats durations, types and examples as a reader writes them', () => {
    expect([250, 1000, 90_000, 300_000, 7_200_000, 1500].map(formatDuration)).toEqual(['250ms', '1s', '90s', '5m', '2h', '1500ms']);
    expect(describeType({ type: 'enum', description: 'x', values: ['a', 'b'] })).toBe('one of `a`, `b`');
    expect(describeType({ type: 'int', description: 'x', min: 1, max: 9 })).toBe('integer, 1 to 9');
    expect(exampleInSection('sink', 'id: out\ntype: stdout\nconfig:\n  format: text')).toBe(
      'sinks:\n  - id: out\n    type: stdout\n    config:\n      format: text',
    );
  });
});
