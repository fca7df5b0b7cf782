import { type Fields, validateConfig } from '@qitian/api';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import * as netops from './index.js';
import { builtinComponents, builtinEntries, NETOPS_MODULE_URL } from './index.js';

const ENTRY_KEYS = new Set(['id', 'type', 'config', 'parallelism']);

describe('builtinComponents', () => {
  it('lists every built-in once per kind, with its export name and a ref to this module', () => {
    expect(builtinComponents.map((c) => `${c.definition.kind}:${c.type}`).sort()).toEqual([
      'bolt:alert',
      'bolt:cluster',
      'bolt:priority-route',
      'bolt:syslog-parse',
      'bolt:topn',
      'sink:console-report',
      'sink:file',
      'sink:postgres',
      'sink:severity-files',
      'sink:stdout',
      'spout:device-syslog',
      'spout:file',
      'spout:generator',
      'spout:syslog',
    ]);
    expect(builtinComponents).toHaveLength(builtinEntries.length);
    for (const c of builtinComponents) {
      expect(c.ref).toEqual({ url: NETOPS_MODULE_URL, export: c.export });
      expect((netops as Record<string, unknown>)[c.export]).toBe(c.definition);
    }
  });

  it('a worker can import the module URL and find each definition by its export name', async () => {
    const mod = (await import(NETOPS_MODULE_URL)) as Record<string, unknown>;
    for (const c of builtinComponents) expect(mod[c.export]).toBe(c.definition);
  });

  it('the built package points NETOPS_MODULE_URL at dist/index.js', async () => {
    const built = (await import('@qitian/netops')) as unknown as { NETOPS_MODULE_URL: string; builtinComponents: readonly { export: string }[] };
    expect(built.NETOPS_MODULE_URL).toMatch(/\/packages\/netops\/dist\/index\.js$/);
    expect(built.builtinComponents.map((c) => c.export)).toEqual(builtinComponents.map((c) => c.export));
  });

  describe('every spec example is a valid component entry', () => {
    for (const c of builtinComponents) {
      const examples = c.definition.spec.examples ?? [];
      it(`${c.definition.kind} ${c.type} has examples`, () => {
        expect(examples.length).toBeGreaterThanOrEqual(1);
        expect(examples.length).toBeLessThanOrEqual(3);
      });
      for (const ex of examples) {
        it(`${c.definition.kind} ${c.type}: ${ex.title}`, () => {
          const entry = parse(ex.yaml) as Record<string, unknown>;
          expect(Object.keys(entry).filter((k) => !ENTRY_KEYS.has(k))).toEqual([]);
          expect(entry.type).toBe(c.type);
          expect(typeof entry.id).toBe('string');
          const { issues } = validateConfig(c.definition.spec.fields, entry.config);
          expect(issues).toEqual([]);
        });
      }
    }
  });

  it('every spec has a summary and every field a description', () => {
    for (const c of builtinComponents) {
      for (const [name, f] of Object.entries(c.definition.spec.fields as Fields)) {
        expect(f.description.length, `${c.type}.${name}`).toBeGreaterThan(10);
      }
      expect(c.definition.spec.summary.length).toBeGreaterThan(10);
    }
  });
});
