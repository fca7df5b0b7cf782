import { defineBolt } from '@qitian/api';
import { ALERT_FIELDS, AlertBolt } from './alert.js';
import { alertBoltSpec } from './spec.js';

export { ALERT_FIELDS, AlertBolt } from './alert.js';
export { COUNTED, COUNTED_EARLIER, countInWindow, earlierThreshold, LATE, type WindowCount } from './window-count.js';
export type { Alert, Notifier, NotifierEnv, NotifierOptions } from './notify.js';
export { createNotifiers, formatAlertLine, NatsNotifier, parseNotify, WebhookNotifier } from './notify.js';
export type { AlertBoltConfig } from './spec.js';
export { alertBoltFields, alertBoltSpec } from './spec.js';
export type { AlertSeverity, Strategy, StrategyKind } from './strategies.js';
export { ALERT_SEVERITIES, parseStrategies, STRATEGY_KINDS, StrategyConfigError } from './strategies.js';

import { alertInputFilter } from './input-filter.js';
import { parseNotify } from './notify.js';
import { parseStrategies } from './strategies.js';

/** `type: alert` bolt: strategies, suppression and notifications. */
export const alertBolt = defineBolt({
  spec: alertBoltSpec,
  // Strategies are checked when the topology is loaded, so that `qitian validate` reports a bad one
  // with its place in the file rather than the run failing at start.
  outputs: (config) => {
    // (Without strategies, as when the reference docs are generated, the spec's `required` speaks.)
    if (config.strategies !== undefined) parseStrategies(config.strategies, config.suppress);
    if (config.notify !== undefined) parseNotify(config.notify);
    return { default: [...ALERT_FIELDS] };
  },
  // Its windows and suppression count every event of a key in one place.
  parallelismLimit: () => ({ max: 1, why: 'an alert bolt counts and suppresses over all of its input; run one task with grouping global' }),
  // Events no strategy could count are not sent to it at all.
  inputFilter: alertInputFilter,
  create: (config) => new AlertBolt(config),
});
