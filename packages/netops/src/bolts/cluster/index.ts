import { defineBolt } from '@qitian/api';
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
  parallelismLimit: (config) =>
    config.keyBy
      ? undefined
      : { max: 1, why: 'without keyBy there is one model for all of the input; set keyBy (and fields grouping on it) to run several tasks' },
  create: (config) => new ClusterBolt(config),
});
