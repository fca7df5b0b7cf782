export {
  defaultWorkerCount,
  type EndReason,
  Engine,
  type EngineLogger,
  type EngineLogLevel,
  type EngineOptions,
  type RunSummary,
  type SilentThread,
  StartAbortedError,
  WorkerFailedError,
} from './engine.js';
export { customKey, type ExecutorStats, newStats, parseCustomKey } from './stats.js';
export { INPUT_FAILED } from './spout-executor.js';
export { loadState, type SavedState, StateFileError, stateFile } from './state-store.js';
export { type ComponentSummary, summarize } from './summary.js';
export { type ControlServer, type ControlServerOptions, listenControlServer, type PendingControlServer, startControlServer } from './control/server.js';
export { type Family, TASK_METRICS } from './metrics/families.js';
export { type Histogram, LATENCY_BUCKETS, quantile, subtractHistograms } from './metrics/histogram.js';
export { NodeMetrics } from './metrics/node-metrics.js';
