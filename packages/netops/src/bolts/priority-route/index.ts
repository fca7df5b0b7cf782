import { defineBolt } from '@qitian/api';
import { needsSeverity } from '../../internal/field-list.js';
import { PriorityRouteBolt, priorityRouteOutputs } from './priority-route.js';
import { priorityRouteSpec } from './spec.js';

export { PriorityRouteBolt, PriorityRouteConfigError, priorityRouteOutputs, resolveGroups } from './priority-route.js';
export type { PriorityRouteConfig } from './spec.js';
export { priorityRouteFields, priorityRouteSpec } from './spec.js';

/** `type: priority-route` bolt: one stream per syslog severity, plus severity groups from config. */
export const priorityRouteBolt = defineBolt({
  spec: priorityRouteSpec,
  outputs: (config) => priorityRouteOutputs(config),
  // Without it every tuple goes to the error stream (no_severity): said when validating.
  checkInputs: (_config, inputs) => needsSeverity(inputs, 'priority-route'),
  create: (config) => new PriorityRouteBolt(config),
});
