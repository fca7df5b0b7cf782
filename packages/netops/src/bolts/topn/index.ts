import { defineBolt } from '@qitian/api';
import { checkTopNConfig, resolveWindowing } from './config.js';
import { TOPN_FIELDS, TOPN_PARTIAL_FIELDS, topnSpec } from './spec.js';
import { TopNBolt, TopNMergeBolt } from './topn.js';

export type { Dimension, Windowing } from './config.js';
export { DEFAULT_DIMENSIONS, resolveDimensions, TopNConfigError } from './config.js';
export type { KeyCounter, Report } from './counters.js';
export { ExactCounter, SpaceSaving } from './counters.js';
export type { RankEntry, Ranking } from './ranking.js';
export { KEY_SEPARATOR, RankMerge } from './ranking.js';
export type { TopNConfig } from './spec.js';
export { TOPN_FIELDS, TOPN_PARTIAL_FIELDS, topnFields, topnSpec } from './spec.js';
export type { TopNOptions } from './topn.js';
export { END_OF_INPUT, TopNBolt, TopNMergeBolt } from './topn.js';

/**
 * `type: topn` bolt: Top-N per window over several dimensions. `stage: single` and `merge` emit
 * TOPN_FIELDS on `default`; `stage: partial` emits TOPN_PARTIAL_FIELDS for a merge.
 */
export const topnBolt = defineBolt({
  spec: topnSpec,
  outputs: (config) => {
    checkTopNConfig(config);
    return { default: [...(config.stage === 'partial' ? TOPN_PARTIAL_FIELDS : TOPN_FIELDS)] };
  },
  tickMs: (config) => (config.stage !== 'merge' && config.timeMode === 'processing' ? Math.min(1000, resolveWindowing(config).slide) : undefined),
  create: (config) => (config.stage === 'merge' ? new TopNMergeBolt(config) : new TopNBolt(config)),
});
