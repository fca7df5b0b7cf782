import { describe, expect, it } from 'vitest';
import { describeGrouping, renderGraphDot, renderGraphText } from './graph.js';
import type { TopologySpec } from './types.js';
import { DEFAULT_TOPOLOGY_CONFIG } from './types.js';

const ref = (name: string) => ({ url: 'file:///qitian/netops/index.js', export: name });

const spec: TopologySpec = {
  name: 'wordcount',
  file: 'topologies/wordcount.yaml',
  config: DEFAULT_TOPOLOGY_CONFIG,
  components: [
    { id: 'lines', kind: 'spout', type: 'file', ref: ref('file'), parallelism: 1, config: {}, outputs: { default: ['line'] }, autoAck: false },
    { id: 'split', kind: 'bolt', type: 'split', ref: ref('split'), parallelism: 4, config: {}, outputs: { default: ['word'] }, autoAck: true },
    {
      id: 'count',
      kind: 'bolt',
      module: './count.ts',
      ref: { url: 'file:///work/count.ts', export: 'default' },
      parallelism: 2,
      config: {},
      outputs: { default: ['word', 'count'] },
      tickMs: 60_000,
      autoAck: true,
    },
    { id: 'out', kind: 'sink', type: 'stdout', ref: ref('stdout'), parallelism: 1, config: {}, outputs: {}, autoAck: true },
  ],
  streams: [
    { from: 'lines', to: 'split', grouping: { type: 'shuffle', stream: 'default' } },
    { from: 'split', to: 'count', grouping: { type: 'fields', stream: 'default', fields: ['word'] } },
    {
      from: 'count',
      to: 'out',
      grouping: { type: 'custom', stream: 'default', custom: { ref: { url: 'file:///work/by%20site.ts', export: 'default' }, args: {} } },
    },
  ],
};

describe('renderGraphText', () => {
  it('lists components with kind, type and parallelism, and edges with stream and grouping', () => {
    expect(renderGraphText(spec)).toBe(
      [
        'topology wordcount (topologies/wordcount.yaml)',
        'components:',
        '  lines  spout  file        x1',
        '  split  bolt   split       x4',
        '  count  bolt   ./count.ts  x2  tick 1m',
        '  out    sink   stdout      x1',
        'streams:',
        '  lines --[default: shuffle]--> split',
        '  split --[default: fields(word)]--> count',
        '  count --[default: custom(by site.ts)]--> out',
        '',
      ].join('\n'),
    );
  });

  it("shows an included file's module path relative to the topology file, not as written in the include", () => {
    const counted = {
      ...spec.components[2]!,
      module: './count.ts',
      ref: { url: 'file:///work/topo/inc/count.ts', export: 'default' },
      location: { file: '/work/topo/inc/base.yaml', line: 3, col: 5 },
    };
    const own = {
      ...counted,
      id: 'own',
      ref: { url: 'file:///work/topo/own.ts', export: 'default' },
      module: './own.ts',
      location: { file: '/work/topo/t.yaml', line: 9, col: 5 },
    };
    const s: TopologySpec = { ...spec, file: '/work/topo/t.yaml', components: [counted, own], streams: [] };
    const listing = renderGraphText(s);
    expect(listing).toMatch(/count\s+bolt\s+\.\/inc\/count\.ts/);
    expect(listing).toMatch(/own\s+bolt\s+\.\/own\.ts/);
    expect(renderGraphDot(s)).toContain('bolt: ./inc/count.ts x2');
  });

  it('says when there are no streams', () => {
    expect(renderGraphText({ ...spec, components: spec.components.slice(0, 1), streams: [] })).toContain('streams:\n  (none)\n');
  });
});

describe('renderGraphDot', () => {
  it('draws spouts, bolts and sinks as different shapes with labelled edges', () => {
    const dot = renderGraphDot(spec);
    expect(dot.startsWith('digraph "wordcount" {\n  rankdir=LR;\n')).toBe(true);
    expect(dot.trimEnd().endsWith('}')).toBe(true);
    expect(dot).toContain('"lines" [shape=invhouse, style=filled, fillcolor="#dbeafe", label="lines\\nspout: file x1"];');
    expect(dot).toContain('"split" [shape=box, style="rounded,filled", fillcolor="#fef3c7", label="split\\nbolt: split x4"];');
    expect(dot).toContain('"count" [shape=box, style="rounded,filled", fillcolor="#fef3c7", label="count\\nbolt: ./count.ts x2 tick 1m"];');
    expect(dot).toContain('"out" [shape=cylinder, style=filled, fillcolor="#dcfce7", label="out\\nsink: stdout x1"];');
    expect(dot).toContain('"lines" -> "split" [label="default: shuffle"];');
    expect(dot).toContain('"split" -> "count" [label="default: fields(word)"];');
    expect(dot).toContain('"count" -> "out" [label="default: custom(by site.ts)"];');
  });

  it('escapes quotes and backslashes', () => {
    const dot = renderGraphDot({ ...spec, name: 'a"b\\c', streams: [] });
    expect(dot.split('\n')[0]).toBe('digraph "a\\"b\\\\c" {');
  });
});

describe('select', () => {
  const selected: TopologySpec = {
    ...spec,
    streams: [
      spec.streams[0]!,
      { ...spec.streams[1]!, select: ['word'] },
      { from: 'count', to: 'out', grouping: { type: 'shuffle', stream: 'default' }, select: ['word', 'count'] },
    ],
  };

  it('shows the fields an edge selects in the text listing', () => {
    const text = renderGraphText(selected);
    expect(text).toContain('  lines --[default: shuffle]--> split\n');
    expect(text).toContain('  split --[default: fields(word), select: [word]]--> count\n');
    expect(text).toContain('  count --[default: shuffle, select: [word, count]]--> out\n');
  });

  it('shows them on the DOT edge label', () => {
    const dot = renderGraphDot(selected);
    expect(dot).toContain('"lines" -> "split" [label="default: shuffle"];');
    expect(dot).toContain('"split" -> "count" [label="default: fields(word), select: [word]"];');
    expect(dot).toContain('"count" -> "out" [label="default: shuffle, select: [word, count]"];');
  });
});

describe('describeGrouping', () => {
  it('shows fields and the grouping type', () => {
    expect(describeGrouping({ type: 'fields', stream: 'default', fields: ['src', 'dst'] })).toBe('fields(src,dst)');
    expect(describeGrouping({ type: 'local-or-shuffle', stream: 'default' })).toBe('local-or-shuffle');
  });
});
