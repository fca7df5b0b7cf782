import { defineBolt } from '@qitian/api';
import { ALERT_FIELDS, AlertBolt } from './alert.js';
import { alertBoltSpec } from './spec.js';

export { ALERT_FIELDS, AlertBolt } from './alert.js';
export type { Alert, Notifier, NotifierEnv, NotifierOptions } from './notify.js';
export { createNotifiers, formatAlertLine, NatsNotifier, parseNotify, WebhookNotifier } from './notify.js';
export type { AlertBoltConfig } from './spec.js';
export { alertBoltFields, alertBoltSpec } from './spec.js';
export type { AlertSeverity, Strategy, StrategyKind } from './strategies.js';
export { ALERT_SEVERITIES, parseStrategies, STRATEGY_KINDS, StrategyConfigError } from './strategies.js';

/** `type: alert` bolt: strategies, suppression and notifications. */
export const alertBolt = defineBolt({
  spec: alertBoltSpec,
  outputs: () => ({ default: [...ALERT_FIELDS] }),
  create: (config) => new AlertBolt(config),
});
