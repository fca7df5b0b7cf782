import { defineBolt, type InputProblem } from '@qitian/api';
import { describeGrouping, keepsKeysTogether } from '../../internal/keyed-grouping.js';
import { ClusterBolt, clusterOutputs, clusterTickMs } from './cluster.js';
import { clusterBoltSpec } from './spec.js';

export type { ClusterKeyState, OpenWindow } from './cluster.js';
export { CLUSTER_ALERT_FIELDS, CLUSTER_FIELDS, CLUSTER_STATE, ClusterBolt, clusterOutputs, GLOBAL_KEY } from './cluster.js';
export type { Assignment, Cluster, ClusterModel, FeatureVector, TopFeature } from './model.js';
export { assign, cosine, emptyModel, euclidean, topFeatures } from './model.js';
export type { ClusterBoltConfig } from './spec.js';
export { clusterBoltFields, clusterBoltSpec } from './spec.js';

/** `type: cluster` bolt: time-window incremental clustering with new-cluster alerts. */
export const clusterBolt = defineBolt({
  spec: clusterBoltSpec,
  outputs: clusterOutputs,
  tickMs: clusterTickMs,
  // A field no input has would make every tuple skipped (missing_field), said only at run time.
  checkInputs: (config, inputs) => {
    const problems: InputProblem[] = [];
    const has = (f: string) => inputs.some((i) => i.fields.includes(f));
    if (config.time === 'event' && !has('time')) {
      problems.push({ path: ['time'], field: 'time', message: 'event time is read from field "time", which no input stream declares (use time: processing)' });
    }
    if (config.keyBy && !has(config.keyBy))
      problems.push({ path: ['keyBy'], field: config.keyBy, message: `keyBy names field "${config.keyBy}", which no input stream declares` });
    // Each key's windows and clusters live in one task: a key split between tasks is clustered in pieces.
    const keyBy = config.keyBy;
    if (keyBy !== undefined) {
      for (const i of inputs) {
        if (keepsKeysTogether(i, [keyBy])) continue;
        problems.push({
          path: ['keyBy'],
          message: `with parallelism ${i.parallelism}, keyBy "${keyBy}" needs its input fields-grouped on [${keyBy}]: "${i.stream}" of "${i.from}" is ${describeGrouping(i)}, so a ${keyBy}'s events would be split between tasks and clustered in pieces`,
        });
      }
    }
    config.features.forEach((f, i) => {
      if (!has(f)) problems.push({ path: ['features', i], field: f, message: `feature field "${f}" is in no input stream` });
    });
    return problems;
  },
  parallelismLimit: (config) =>
    config.keyBy
      ? undefined
      : { max: 1, why: 'without keyBy there is one model for all of the input; set keyBy (and fields grouping on it) to run several tasks' },
  create: (config) => new ClusterBolt(config),
});
