export {
  defaultWorkerCount,
  type EndReason,
  Engine,
  type EngineLogger,
  type EngineLogLevel,
  type EngineOptions,
  type RunSummary,
  WorkerFailedError,
} from './engine.js';
export { type ExecutorStats, newStats } from './stats.js';
export { type ComponentSummary, summarize } from './summary.js';
