import { defineBolt, type InputProblem } from '@qitian/api';
import { describeGrouping, keepsKeysTogether } from '../../internal/keyed-grouping.js';
import { checkTopNConfig, resolveDimensions, resolveWindowing } from './config.js';
import { TOPN_FIELDS, TOPN_PARTIAL_FIELDS, topnSpec } from './spec.js';
import { TopNBolt, TopNMergeBolt } from './topn.js';

export type { Dimension, Windowing } from './config.js';
export { DEFAULT_DIMENSIONS, resolveDimensions, TopNConfigError } from './config.js';
export type { CounterData, ExactData, KeyCounter, Report, SpaceSavingData } from './counters.js';
export { ExactCounter, SpaceSaving } from './counters.js';
export type { RankEntry, Ranking, RankMergeData } from './ranking.js';
export { KEY_SEPARATOR, RankMerge } from './ranking.js';
export type { TopNConfig } from './spec.js';
export { TOPN_FIELDS, TOPN_PARTIAL_FIELDS, topnFields, topnSpec } from './spec.js';
export type { CountWindowData, MergeDimData, MergeWindowData, TaskData, TopNOptions, TopNStateEntry } from './topn.js';
export { END_OF_INPUT, TOPN_STATE, TopNBolt, TopNMergeBolt } from './topn.js';

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
  // Processing time closes windows on ticks; the two stages tick once a second in event time
  // too, so that partial tasks report progress and the merge notices those without input.
  tickMs: (config) => {
    if (config.stage !== 'merge' && config.timeMode === 'processing') return Math.min(1000, resolveWindowing(config).slide);
    // Event time ticks too while idleTimeout is on, so that windows close once the input goes quiet.
    if (config.stage === 'single') return config.timeMode === 'event' && config.idleTimeout > 0 ? 1000 : undefined;
    return 1000;
  },
  parallelismLimit: (config) => {
    if (config.stage === 'merge') return { max: 1, why: 'a merge adds up the candidates of every partial task; run one task with grouping global' };
    // A single-stage task ranks only the tuples it gets: fields-grouped on one dimension's key, every
    // other dimension would come out split between the tasks, each part claiming to be exact.
    if (config.stage === 'single' && resolveDimensions(config).length > 1) {
      return {
        max: 1,
        why: 'a single stage with several dimensions ranks each of them from its own tuples only; use stage: partial tasks and one stage: merge task to scale out',
      };
    }
    return undefined;
  },
  // A misspelt field would count nothing (or, for the time, drop everything), silently but for a warning at run time.
  checkInputs: (config, inputs) => {
    if (config.stage === 'merge') return [];
    const problems: InputProblem[] = [];
    const has = (f: string) => inputs.some((i) => i.fields.includes(f));
    if (config.timeMode === 'event' && !has(config.timeField)) {
      problems.push({
        path: ['timeField'],
        field: config.timeField,
        message: `event time is read from field "${config.timeField}", which no input stream declares (set timeField, or timeMode: processing)`,
      });
    }
    // A single stage on several tasks ranks its one dimension's keys each in one task only if
    // every key's tuples go to one task (more dimensions are refused by parallelismLimit).
    const dims = resolveDimensions(config);
    if (config.stage === 'single' && dims.length === 1) {
      const key = dims[0]!.fields;
      for (const i of inputs) {
        if (keepsKeysTogether(i, key)) continue;
        problems.push({
          path: config.dimensions === undefined ? ['stage'] : ['dimensions', 0, 'fields'],
          message: `a single stage with parallelism ${i.parallelism} needs its input fields-grouped on [${key.join(', ')}]: "${i.stream}" of "${i.from}" is ${describeGrouping(i)}, so a key's counts would be split between tasks, each ranking a part (or use stage: partial and a merge)`,
        });
      }
    }
    if (config.dimensions !== undefined) {
      dims.forEach((d, i) => {
        const written = (config.dimensions![i] as { fields?: unknown }).fields;
        d.fields.forEach((f, j) => {
          if (has(f)) return;
          const path = typeof written === 'string' ? ['dimensions', i, 'fields'] : ['dimensions', i, 'fields', j];
          problems.push({ path, field: f, message: `dimension "${d.name}" counts field "${f}", which no input stream declares` });
        });
      });
    }
    return problems;
  },
  create: (config) => (config.stage === 'merge' ? new TopNMergeBolt(config) : new TopNBolt(config)),
});
