/**
 * The cluster and alert bolts in a topology file: strategies kept in an included file, the
 * cluster bolt fields-grouped on its key, and the alert bolt fed by events and cluster alerts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineSpout, field } from '@qitian/api';
import { createRegistry, parseTopology } from '@qitian/topology';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_FIELDS } from '../../syslog/event.js';
import { clusterBolt } from '../cluster/index.js';
import { type AlertBolt, alertBolt } from './index.js';

/** Stands for the parse bolt: declares the event fields. */
const events = defineSpout({
  spec: { summary: 'Emits parsed events', fields: { n: field.int({ description: 'unused here', default: 0 }) } },
  outputs: () => ({ default: [...EVENT_FIELDS] }),
  create: () => ({ next: () => 'end' as const }),
});

const ref = (e: string) => ({ url: 'file:///qitian/netops/index.js', export: e });
const registry = createRegistry([
  { type: 'events', definition: events, ref: ref('events') },
  { type: 'cluster', definition: clusterBolt, ref: ref('clusterBolt') },
  { type: 'alert', definition: alertBolt, ref: ref('alertBolt') },
]);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qitian-alert-topo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cluster and alert in a topology file', () => {
  it('loads strategies from an included file and wires keyed clustering into alerting', async () => {
    await writeFile(
      join(dir, 'alerts.yaml'),
      [
        'bolts:',
        '  - id: alerts',
        '    type: alert',
        '    config:',
        '      suppress: 15m',
        '      strategies:',
        '        - name: link-flap',
        '          severity: major',
        '          threshold: { where: { eventType: LINK-UPDOWN }, window: 5m, count: 10, by: [host] }',
        '        - name: new-behaviour',
        '          new-cluster: { minDistance: 0.3 }',
        'streams:',
        '  - { from: events, to: alerts, grouping: { type: global } }',
        '  - { from: behaviour, to: alerts, grouping: { type: global, stream: alert } }',
        '',
      ].join('\n'),
    );
    const main = [
      'name: netops-alerts',
      'includes: [alerts.yaml]',
      'spouts:',
      '  - { id: events, type: events }',
      'bolts:',
      '  - id: behaviour',
      '    type: cluster',
      '    parallelism: 2',
      '    config: { keyBy: host, window: 5m }',
      'streams:',
      '  - { from: events, to: behaviour, grouping: { type: fields, fields: [host] } }',
      '',
    ].join('\n');
    const spec = await parseTopology(main, join(dir, 'main.yaml'), { registry, env: {} });
    const alerts = spec.components.find((c) => c.id === 'alerts')!;
    const bolt = alertBolt.create(alerts.config as never) as AlertBolt;
    expect(bolt.strategies.map((s) => [s.name, s.kind, s.severity, s.suppress])).toEqual([
      ['link-flap', 'threshold', 'major', 15 * 60_000],
      ['new-behaviour', 'new-cluster', 'warning', 15 * 60_000],
    ]);
    const behaviour = spec.components.find((c) => c.id === 'behaviour')!;
    expect(behaviour.outputs.alert?.[0]).toBe('host');
    expect(spec.streams.map((s) => `${s.from}->${s.to}:${s.grouping.type}:${s.grouping.stream}`).sort()).toEqual([
      'behaviour->alerts:global:alert',
      'events->alerts:global:default',
      'events->behaviour:fields:default',
    ]);
  });

  it('an alert bolt, or a cluster bolt without keyBy, above one task is an error at its parallelism', async () => {
    const main = [
      'name: too-many',
      'spouts:',
      '  - { id: events, type: events }',
      'bolts:',
      '  - id: behaviour',
      '    type: cluster',
      '    parallelism: 2',
      '  - id: alerts',
      '    type: alert',
      '    parallelism: 3',
      '    config: { strategies: [{ name: x, threshold: { window: 1m, count: 1 } }] }',
      'streams:',
      '  - { from: events, to: behaviour, grouping: { type: shuffle } }',
      '  - { from: events, to: alerts, grouping: { type: shuffle } }',
      '',
    ].join('\n');
    await expect(parseTopology(main, join(dir, 'too-many.yaml'), { registry, env: {} })).rejects.toThrow(
      /too-many\.yaml:7:18: parallelism 2 of bolt "behaviour" is more than it can run as \(1\): without keyBy[\s\S]*too-many\.yaml:10:18: parallelism 3 of bolt "alerts" is more than it can run as \(1\)/,
    );
  });

  it('validation reports every bad strategy at its own line and column', async () => {
    const text = [
      'name: bad-strategies',
      'spouts:',
      '  - { id: events, type: events }',
      'bolts:',
      '  - id: alerts',
      '    type: alert',
      '    config:',
      '      strategies:',
      '        - { name: a, threshold: { window: 5, count: 1 } }',
      '        - { name: b, threshold: { window: 1m, count: 1, where: { sevrity: 3 } } }',
      '        - { name: c, suppress: 0.5ms, threshold: { window: 1m, count: 1 } }',
      'streams:',
      '  - { from: events, to: alerts, grouping: { type: global } }',
      '',
    ].join('\n');
    const err = await parseTopology(text, join(dir, 'bad.yaml'), { registry, env: {} }).catch((e: Error) => e);
    const lines = String((err as Error).message).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/bad\.yaml:9:43: bolt "alerts" config: strategies\[0\]\.threshold\.window: expected a duration such as "5m" .*, got number 5$/);
    expect(lines[1]).toMatch(/bad\.yaml:10:75: bolt "alerts" config: strategies\[1\]\.threshold\.where\.sevrity: .*did you mean "severity"\?$/);
    // Not rounded up to 1ms (or down to 0, which is "no suppression"): refused where it is written.
    expect(lines[2]).toMatch(/bad\.yaml:11:32: bolt "alerts" config: strategies\[2\]\.suppress: must be 0 or at least 1ms .*, got "0\.5ms"$/);
    expect(String((err as Error).message)).not.toContain('outputs() threw');
  });

  it("a strategy's `from` must name a component that feeds the bolt: a misspelt one would never fire, without a word", async () => {
    const text = [
      'name: bad-from',
      'spouts:',
      '  - { id: events, type: events }',
      'bolts:',
      '  - id: alerts',
      '    type: alert',
      '    config:',
      '      strategies:',
      '        - { name: a, from: evnets, threshold: { window: 1m, count: 1 } }',
      '        - { name: b, from: events, threshold: { window: 1m, count: 1, where: { dstPort: 22 } } }',
      'streams:',
      '  - { from: events, to: alerts, grouping: { type: global }, select: [time, host] }',
      '',
    ].join('\n');
    const err = await parseTopology(text, join(dir, 'from.yaml'), { registry, env: {} }).catch((e: Error) => e);
    const lines = String((err as Error).message).split('\n');
    expect(lines[0]).toMatch(
      /from\.yaml:9:28: bolt "alerts" .*strategy "a" reads from "evnets", which sends nothing to this bolt; did you mean "events"\? \(its inputs come from "events"\)$/,
    );
    // The other strategy's mistake is reported in the same pass.
    expect(lines[1]).toMatch(/from\.yaml:10:.*strategy "b" tests field "dstPort", which no event input declares/);
  });
});
