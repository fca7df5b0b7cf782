import { defineBolt } from '@qitian/api';
import { PriorityRouteBolt, priorityRouteOutputs } from './priority-route.js';
import { priorityRouteSpec } from './spec.js';

export { PriorityRouteBolt, PriorityRouteConfigError, priorityRouteOutputs, resolveGroups } from './priority-route.js';
export type { PriorityRouteConfig } from './spec.js';
export { priorityRouteFields, priorityRouteSpec } from './spec.js';

/** `type: priority-route` bolt: one stream per syslog severity, plus severity groups from config. */
export const priorityRouteBolt = defineBolt({
  spec: priorityRouteSpec,
  outputs: (config) => priorityRouteOutputs(config),
  create: (config) => new PriorityRouteBolt(config),
});
