/** The syslog spout on the engine's worker threads: real UDP and TCP senders, a file sink, a clean stop. */
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComponentDefinition, validateConfig } from '@qitian/api';
import { Engine } from '@qitian/runtime';
import { createPlan, DEFAULT_TOPOLOGY_CONFIG, type TopologySpec } from '@qitian/topology';
import { afterAll, describe, expect, it } from 'vitest';
import { fileSink } from '../../sinks/file/index.js';
import { RAW_FIELDS } from '../../syslog/event.js';
import { syslogSpout } from './index.js';

const SPOUT_URL = new URL('./index.ts', import.meta.url).href;
const SINK_URL = new URL('../../sinks/file/index.ts', import.meta.url).href;

interface Node {
  id: string;
  def: ComponentDefinition;
  url: string;
  export: string;
  parallelism?: number;
  config: Record<string, unknown>;
}

function topology(nodes: Node[], streams: { from: string; to: string }[]): TopologySpec {
  return {
    name: 'syslog-test',
    file: 'syslog-test.yaml',
    config: { ...DEFAULT_TOPOLOGY_CONFIG },
    components: nodes.map((n) => {
      const checked = validateConfig(n.def.spec.fields, n.config);
      if (checked.issues.length > 0) throw new Error(`${n.id}: ${checked.issues.map((i) => i.message).join('; ')}`);
      const cfg = checked.value as Record<string, unknown>;
      return {
        id: n.id,
        kind: n.def.kind,
        ref: { url: n.url, export: n.export },
        parallelism: n.parallelism ?? 1,
        config: cfg,
        outputs: n.def.kind === 'sink' || !n.def.outputs ? {} : n.def.outputs(cfg),
        autoAck: n.def.kind === 'spout' ? false : ((n.def as { autoAck?: boolean }).autoAck ?? true),
      };
    }),
    streams: streams.map((s) => ({ from: s.from, to: s.to, grouping: { type: 'shuffle', stream: 'default' } })),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'qitian-syslog-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms}ms waiting for ${what}`);
    await sleep(20);
  }
}

function outputLines(path: string): unknown[][] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const o = JSON.parse(l) as Record<string, unknown>;
      return RAW_FIELDS.map((f) => o[f]);
    });
}

describe('syslog spout on the engine', () => {
  it('UDP and TCP spouts on worker threads feed a sink; the bound ports are in the log; stop closes the sockets', async () => {
    const out = join(dir, 'out.jsonl');
    const logs: { msg: string; fields?: Record<string, unknown> }[] = [];
    const spec = topology(
      [
        { id: 'udp', def: syslogSpout, url: SPOUT_URL, export: 'syslogSpout', config: { protocol: 'udp', host: '127.0.0.1', port: 0 } },
        { id: 'tcp', def: syslogSpout, url: SPOUT_URL, export: 'syslogSpout', config: { protocol: 'tcp', host: '127.0.0.1', port: 0 } },
        { id: 'out', def: fileSink, url: SINK_URL, export: 'fileSink', config: { path: out, flushInterval: '50ms' } },
      ],
      [
        { from: 'udp', to: 'out' },
        { from: 'tcp', to: 'out' },
      ],
    );
    const engine = await Engine.start(createPlan(spec, 2), { logger: (_level, msg, fields) => logs.push({ msg, fields }) });
    try {
      const portOf = (protocol: string): number | undefined =>
        logs.find((l) => l.msg.startsWith(`syslog spout: listening on ${protocol} `))?.fields?.port as number | undefined;
      await until('both spouts listening', () => portOf('udp') !== undefined && portOf('tcp') !== undefined);

      const udp = dgram.createSocket('udp4');
      for (let i = 0; i < 200; i++) await new Promise<void>((r) => udp.send(`<14>udp ${i}`, portOf('udp')!, '127.0.0.1', () => r()));
      udp.close();
      const tcp = net.connect(portOf('tcp')!, '127.0.0.1');
      await new Promise<void>((r) => tcp.once('connect', () => r()));
      const text = Array.from({ length: 2000 }, (_, i) => `<13>tcp ${i}\n`).join('');
      await new Promise<void>((r) => tcp.end(text, () => r()));

      await until('2200 lines in the sink', () => outputLines(out).length >= 2200);
      const rows = outputLines(out);
      expect(rows).toHaveLength(2200);
      const lines = new Set(rows.map((r) => r[0]));
      for (let i = 0; i < 200; i++) expect(lines.has(`<14>udp ${i}`)).toBe(true);
      for (let i = 0; i < 2000; i++) expect(lines.has(`<13>tcp ${i}`)).toBe(true);
      expect(rows.every((r) => /^127\.0\.0\.1:\d+$/.test(r[1] as string) && typeof r[2] === 'number')).toBe(true);
    } finally {
      const summary = await engine.stop();
      expect(summary.reason).toBe('stopped');
    }
    // Stopped: the TCP port no longer accepts connections.
    const tcpPort = logs.find((l) => l.msg.startsWith('syslog spout: listening on tcp '))!.fields!.port as number;
    await expect(
      new Promise((resolve, reject) => {
        const s = net.connect(tcpPort, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.once('error', reject);
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });

  it('parallelism 2 on one UDP port fails to start, naming the port and why', async () => {
    // A port free a moment ago.
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    const port = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    const spec = topology(
      [{ id: 'udp', def: syslogSpout, url: SPOUT_URL, export: 'syslogSpout', parallelism: 2, config: { protocol: 'udp', host: '127.0.0.1', port } }],
      [],
    );
    await expect(Engine.start(createPlan(spec, 2), { logger: () => {} })).rejects.toThrow(
      `syslog spout: cannot listen on udp 127.0.0.1:${port}: address already in use (EADDRINUSE): another process, or another task of this component, ` +
        'is listening there; this component has parallelism 2',
    );
  });
});
