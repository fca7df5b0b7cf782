import { defineBolt, type InputProblem, nearest } from '@qitian/api';
import { collectErrors, throwErrors } from '../../internal/config-errors.js';
import { ALERT_FIELDS, AlertBolt, inputKind } from './alert.js';
import { alertBoltSpec } from './spec.js';

export { ALERT_FIELDS, AlertBolt } from './alert.js';
export type { Alert, Notifier, NotifierEnv, NotifierOptions } from './notify.js';
export { createNotifiers, formatAlertLine, NatsNotifier, parseNotify, WebhookNotifier } from './notify.js';
export type { AlertBoltConfig } from './spec.js';
export { alertBoltFields, alertBoltSpec } from './spec.js';
export type { AlertSeverity, Strategy, StrategyKind } from './strategies.js';
export { ALERT_SEVERITIES, parseStrategies, STRATEGY_KINDS, StrategyConfigError } from './strategies.js';
export { COUNTED, COUNTED_EARLIER, countInWindow, earlierThreshold, LATE, type WindowCount } from './window-count.js';

import { alertInputFilter } from './input-filter.js';
import { parseNotify } from './notify.js';
import { parseStrategies, type Strategy } from './strategies.js';

/** `type: alert` bolt: strategies, suppression and notifications. */
export const alertBolt = defineBolt({
  spec: alertBoltSpec,
  // Strategies are checked when the topology is loaded, so that `qitian validate` reports a bad one
  // with its place in the file rather than the run failing at start.
  outputs: () => ({ default: [...ALERT_FIELDS] }),
  // Strategies and notifiers both, every problem of each, in one pass.
  checkConfig: (config) => {
    const errors: unknown[] = [];
    // (Without strategies, as when the reference docs are generated, the spec's `required` speaks.)
    if (config.strategies !== undefined) collectErrors(errors, () => parseStrategies(config.strategies, config.suppress));
    if (config.notify !== undefined) collectErrors(errors, () => parseNotify(config.notify));
    throwErrors(errors);
  },
  // Its windows and suppression count every event of a key in one place.
  parallelismLimit: () => ({ max: 1, why: 'an alert bolt counts and suppresses over all of its input; run one task with grouping global' }),
  // Events no strategy could count are not sent to it at all.
  inputFilter: alertInputFilter,
  // Events wait for every upstream task to pass their time; a task gone quiet stops holding them
  // on the wall clock, which ticks let the bolt notice without input.
  tickMs: () => 1000,
  // A count strategy naming a field no event input has never counts anything, silently but for a warning at run time.
  checkInputs: (config, inputs) => {
    if (config.strategies === undefined) return [];
    const problems: InputProblem[] = [];
    const events = inputs.filter((i) => inputKind(i.fields) === 'event');
    let strategies: Strategy[];
    try {
      strategies = parseStrategies(config.strategies, config.suppress);
    } catch {
      return []; // checkConfig reports what is wrong with them
    }
    const sources = [...new Set(inputs.map((i) => i.from))];
    for (const s of strategies) {
      // A misspelt or unconnected `from` would leave the strategy nothing to read, without a word.
      if (s.from !== undefined && !sources.includes(s.from)) {
        const near = nearest(s.from, sources);
        problems.push({
          path: ['strategies', s.index, 'from'],
          message:
            `strategy "${s.name}" reads from "${s.from}", which sends nothing to this bolt${near ? `; did you mean "${near}"?` : ''} ` +
            `(its inputs come from ${sources.map((x) => `"${x}"`).join(', ') || 'nothing'})`,
        });
        continue;
      }
      if (s.kind !== 'threshold' && s.kind !== 'rate-of-change') continue;
      const candidates = events.filter((i) => s.from === undefined || i.from === s.from);
      if (candidates.length === 0) continue;
      const lacking = (f: string) => candidates.every((i) => !i.fields.includes(f));
      for (const w of s.where) {
        if (lacking(w.field)) {
          problems.push({
            path: ['strategies', s.index, s.kind, 'where', w.field],
            field: w.field,
            message: `strategy "${s.name}" tests field "${w.field}", which no event input declares`,
          });
        }
      }
      s.by.forEach((f, j) => {
        if (lacking(f))
          problems.push({
            path: ['strategies', s.index, s.kind, 'by', j],
            field: f,
            message: `strategy "${s.name}" keys by field "${f}", which no event input declares`,
          });
      });
    }
    return problems;
  },
  create: (config) => new AlertBolt(config),
});
