/**
 * One worker thread's prom-client registry: its tasks' metrics, read from their counters when
 * scraped, and the thread's own (event-loop delay, heap). The main thread merges every thread's
 * registry on each scrape.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { Gauge, Registry } from 'prom-client';
import type { Balancer } from '../balance.js';
import type { ExecutorStats } from '../stats.js';
import { type Family, taskFamilies } from './families.js';

/** Event-loop delay figures cover this long before they are reset. */
const DELAY_WINDOW_MS = 10_000;

export class ThreadMetrics {
  readonly registry = new Registry();
  private readonly delay = monitorEventLoopDelay({ resolution: 10 });
  private readonly timer: NodeJS.Timeout;
  /** The task families of the scrape in progress, computed once for all of its metrics. */
  private current: Map<string, Family> = new Map();

  constructor(
    readonly worker: number,
    private readonly base: Record<string, string>,
    private readonly stats: () => readonly ExecutorStats[],
    /** The thread's load and its load-aware shuffle edges. */
    private readonly balancer: Balancer,
  ) {
    this.delay.enable();
    this.timer = setInterval(() => this.delay.reset(), DELAY_WINDOW_MS);
    this.timer.unref();
    const labels = { ...base, worker: String(worker) };
    const self = this;
    new Gauge({
      name: 'qitian_worker_event_loop_delay_p99_seconds',
      help: 'Event-loop delay of the worker thread, 99th percentile since the last reset (every ten seconds).',
      labelNames: Object.keys(labels),
      registers: [this.registry],
      collect() {
        this.set(labels, self.delayFigure(self.delay.percentile(99)));
      },
    });
    new Gauge({
      name: 'qitian_worker_event_loop_delay_mean_seconds',
      help: 'Event-loop delay of the worker thread, mean since the last reset (every ten seconds).',
      labelNames: Object.keys(labels),
      registers: [this.registry],
      collect() {
        this.set(labels, self.delayFigure(self.delay.mean));
      },
    });
    new Gauge({
      name: 'qitian_worker_heap_used_bytes',
      help: 'V8 heap in use by the worker thread.',
      labelNames: Object.keys(labels),
      registers: [this.registry],
      collect() {
        this.set(labels, getHeapStatistics().used_heap_size);
      },
    });
    new Gauge({
      name: 'qitian_worker_load_ratio',
      help: 'Busy fraction of the worker thread (event loop utilization, smoothed over about 200 ms); load-aware shuffle reads it.',
      labelNames: Object.keys(labels),
      registers: [this.registry],
      collect() {
        this.reset();
        if (self.balancer.smoothed >= 0) this.set(labels, self.balancer.smoothed);
      },
    });
    const shareLabels = [...Object.keys(labels), 'component', 'task', 'to'];
    new Gauge({
      name: 'qitian_shuffle_remote_share',
      help: "Share of a sending task's shuffled tuples that go to the consumer's tasks in other threads (load-aware shuffle).",
      labelNames: shareLabels,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const e of self.balancer.edges) this.set({ ...labels, ...e.labels }, e.share);
      },
    });
    new Gauge({
      name: 'qitian_worker_tasks',
      help: 'Tasks the worker thread runs.',
      labelNames: Object.keys(labels),
      registers: [this.registry],
      collect() {
        this.set(labels, self.stats().length);
      },
    });
  }

  /** The registry's metrics in prom-client's JSON form, for the main thread to merge. */
  async json(): Promise<Family[]> {
    this.current = new Map(taskFamilies(this.stats(), this.base).map((f) => [f.name, f]));
    // Families appear as tasks report them (a custom counter's first count): register each once.
    for (const name of this.current.keys()) {
      if (this.registry.getSingleMetric(name)) continue;
      this.registry.registerMetric({
        name,
        get: async () => this.current.get(name) ?? this.emptyLike(name),
      } as never);
    }
    return (await this.registry.getMetricsAsJSON()) as unknown as Family[];
  }

  private emptyLike(name: string): Family {
    return { name, help: '', type: 'counter', aggregator: 'sum', values: [] };
  }

  /** Seconds from the monitor's nanoseconds, less its own 10 ms sampling period (which it reports as delay). */
  private delayFigure(ns: number): number {
    return Number.isFinite(ns) ? Math.max(0, ns - 10e6) / 1e9 : 0;
  }

  close(): void {
    clearInterval(this.timer);
    this.delay.disable();
  }
}
