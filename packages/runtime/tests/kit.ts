/** Test kit: hand-built specs from the fixture components, without YAML. */
import { pathToFileURL } from 'node:url';
import { DEFAULT_TOPOLOGY_CONFIG, type ComponentKind, type Grouping, type TopologyConfig, type TopologySpec } from '@qitian/topology';

export const FIXTURES = pathToFileURL(new URL('./fixtures/components.ts', import.meta.url).pathname).href;

export interface NodeArgs {
  id: string;
  kind: ComponentKind;
  export: string;
  parallelism?: number;
  config?: Record<string, unknown>;
  outputs?: Record<string, string[]>;
  tickMs?: number;
  autoAck?: boolean;
  url?: string;
}

export function spec(
  nodes: NodeArgs[],
  streams: { from: string; to: string; grouping?: Partial<Grouping> }[],
  config: Partial<TopologyConfig> = {},
): TopologySpec {
  return {
    name: 'test',
    file: 'test.yaml',
    config: { ...DEFAULT_TOPOLOGY_CONFIG, ...config },
    components: nodes.map((n) => ({
      id: n.id,
      kind: n.kind,
      ref: { url: n.url ?? FIXTURES, export: n.export },
      parallelism: n.parallelism ?? 1,
      config: n.config ?? {},
      outputs: n.outputs ?? (n.kind === 'sink' ? {} : { default: ['n'] }),
      tickMs: n.tickMs,
      autoAck: n.autoAck ?? true,
    })),
    streams: streams.map((s) => ({ from: s.from, to: s.to, grouping: { type: 'shuffle', stream: 'default', ...s.grouping } as Grouping })),
  };
}
