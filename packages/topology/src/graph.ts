/**
 * A topology's DAG for people: a text listing for the terminal and Graphviz DOT for pictures
 * (`qitian graph topo.yaml --dot | dot -Tsvg > topo.svg`).
 */
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDuration } from '@qitian/api';
import type { ComponentNode, Grouping, StreamEdge, TopologySpec } from './types.js';

/**
 * What a component is: its built-in type, or the module path of user code: as written in the
 * topology file, or, for a component of an included file, relative to the topology file (as
 * written there, it is relative to the included file, which the listing does not show).
 */
function componentType(c: ComponentNode, file: string): string {
  if (c.type !== undefined) return c.type;
  if (c.module === undefined) return c.ref.url;
  if (c.location === undefined || resolve(c.location.file) === resolve(file) || !c.ref.url.startsWith('file:')) return c.module;
  const path = relative(dirname(resolve(file)), fileURLToPath(c.ref.url));
  return path.startsWith('.') || isAbsolute(path) ? path : `./${path}`;
}

/** `fields(host,port)`, `shuffle`, `custom(hash-by-site.ts)`. */
export function describeGrouping(g: Grouping): string {
  if (g.type === 'fields') return `fields(${(g.fields ?? []).join(',')})`;
  if (g.type === 'custom' && g.custom) {
    const file = decodeURIComponent(new URL(g.custom.ref.url).pathname.split('/').pop() ?? '');
    return `custom(${file})`;
  }
  return g.type;
}

/**
 * `default: fields(word)`: the stream an edge consumes and how it is grouped, then the fields the
 * consumer gets when the edge has a `select:` (`default: shuffle, select: [time, host]`).
 */
export function describeEdge(e: StreamEdge): string {
  const select = e.select ? `, select: [${e.select.join(', ')}]` : '';
  return `${e.grouping.stream}: ${describeGrouping(e.grouping)}${select}`;
}

/**
 * The DAG as text, components in topological order:
 *
 *     topology wordcount (wordcount.yaml)
 *     components:
 *       lines  spout  file    x1
 *       split  bolt   split   x4
 *       count  bolt   count   x2  tick 1s
 *       out    sink   stdout  x1
 *     streams:
 *       lines --[default: shuffle]--> split
 *       split --[default: fields(word)]--> count
 *       count --[default: shuffle, select: [word]]--> out
 */
export function renderGraphText(spec: TopologySpec): string {
  const rows = spec.components.map((c) => [
    c.id,
    c.kind,
    componentType(c, spec.file),
    `x${c.parallelism}`,
    c.tickMs !== undefined ? `tick ${formatDuration(c.tickMs)}` : '',
  ]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(0, ...rows.map((r) => r[i]!.length)));
  const lines = [`topology ${spec.name} (${spec.file})`, 'components:'];
  for (const r of rows) {
    lines.push(`  ${r.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]!) : cell)).join('  ')}`.trimEnd());
  }
  lines.push('streams:');
  for (const e of spec.streams) lines.push(`  ${e.from} --[${describeEdge(e)}]--> ${e.to}`);
  if (spec.streams.length === 0) lines.push('  (none)');
  return `${lines.join('\n')}\n`;
}

/** A DOT string literal. */
function q(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

const SHAPES: Record<ComponentNode['kind'], string> = {
  spout: 'shape=invhouse, style=filled, fillcolor="#dbeafe"',
  bolt: 'shape=box, style="rounded,filled", fillcolor="#fef3c7"',
  sink: 'shape=cylinder, style=filled, fillcolor="#dcfce7"',
};

/**
 * The DAG in Graphviz DOT, left to right: spouts as input-shaped nodes, bolts as rounded boxes,
 * sinks as cylinders; each edge labelled with its stream and grouping (and select, if any).
 */
export function renderGraphDot(spec: TopologySpec): string {
  const lines = [`digraph ${q(spec.name)} {`, '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=11];', '  edge [fontname="Helvetica", fontsize=9];'];
  for (const c of spec.components) {
    const tick = c.tickMs !== undefined ? ` tick ${formatDuration(c.tickMs)}` : '';
    const label = `${c.id}\n${c.kind}: ${componentType(c, spec.file)} x${c.parallelism}${tick}`;
    lines.push(`  ${q(c.id)} [${SHAPES[c.kind]}, label=${q(label)}];`);
  }
  for (const e of spec.streams) lines.push(`  ${q(e.from)} -> ${q(e.to)} [label=${q(describeEdge(e))}];`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
