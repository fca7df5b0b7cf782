/**
 * The node's /metrics: the main thread's own registry (process figures, topology figures)
 * merged with every worker thread's registry, fetched on each scrape.
 */
import { AggregatorRegistry, Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Engine } from '../engine.js';
import type { Family } from './families.js';

export class NodeMetrics {
  readonly registry = new Registry();

  constructor(private readonly engine: Engine) {
    const labels = { topology: engine.plan.spec.name };
    const names = Object.keys(labels);
    // Process-wide: CPU, memory, the main thread's event-loop lag, GC, handles.
    collectDefaultMetrics({ register: this.registry });
    // Gauges that prom-client names like counters (promtool rejects them); the same figures remain
    // without the suffix, by type.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(name);
    }
    new Gauge({
      name: 'qitian_topology_info',
      help: 'Always 1; labels describe the running topology.',
      labelNames: [...names, 'acking'],
      registers: [this.registry],
      collect() {
        this.set({ ...labels, acking: String(engine.plan.spec.config.acking) }, 1);
      },
    });
    new Gauge({
      name: 'qitian_topology_uptime_seconds',
      help: 'Time since the topology started.',
      labelNames: names,
      registers: [this.registry],
      collect() {
        this.set(labels, engine.info().uptimeSeconds);
      },
    });
    new Gauge({
      name: 'qitian_topology_worker_threads',
      help: 'Worker threads the topology runs on.',
      labelNames: names,
      registers: [this.registry],
      collect() {
        this.set(labels, engine.info().workers);
      },
    });
    new Counter({
      name: 'qitian_state_write_failures_total',
      help: 'Failed writes of the state file (qitian run --state-dir); each is retried a second later.',
      labelNames: names,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(labels, engine.info().stateWriteFailures);
      },
    });
    new Gauge({
      name: 'qitian_state_written_timestamp_seconds',
      help: 'When the state file was last written (Unix time); 0 before the first write or without --state-dir.',
      labelNames: names,
      registers: [this.registry],
      collect() {
        this.set(labels, engine.info().stateWrittenAt / 1000);
      },
    });
    new Counter({
      name: 'qitian_worker_restarts_total',
      help: 'Worker threads restarted after they died.',
      labelNames: names,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(labels, engine.info().restarts);
      },
    });
  }

  /** The Prometheus text exposition of the node. */
  async text(): Promise<string> {
    const own = (await this.registry.getMetricsAsJSON()) as unknown as Family[];
    const threads = await this.engine.threadMetrics();
    return AggregatorRegistry.aggregate([own, ...threads] as never).metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
