import { describe, expect, it } from 'vitest';
import { EVENT, EVENT_FIELDS } from '../../syslog/event.js';
import { configFor } from '../../testkit.js';
import { CLUSTER_ALERT_FIELDS } from '../cluster/index.js';
import { alertBolt } from './index.js';
import { alertInputFilter } from './input-filter.js';

const strategies = [
  { name: 'flap', from: 'parse', threshold: { where: { eventType: ['LINK-UPDOWN', 'LINEPROTO-UPDOWN'] }, window: '5m', count: 10, by: ['host'] } },
  { name: 'ssh', from: 'parse', threshold: { where: { app: 'sshd', message: '/^Failed password/' }, window: '5m', count: 5, by: ['srcIp'] } },
  { name: 'crit', from: 'route', threshold: { where: { severity: { max: 'crit' } }, window: '5m', count: 3 } },
  { name: 'new', 'new-cluster': { minDistance: 0 } },
];

/** An input as the engine describes it: the sender's full event, received whole or with `select`. */
function input(from: string, select?: string[]) {
  const fields = select ?? [...EVENT_FIELDS];
  return {
    from,
    stream: 'default',
    fields,
    indexOf: (f: string) => (fields.includes(f) ? EVENT_FIELDS.indexOf(f as never) : -1),
    grouping: { type: 'global', fields: [] },
    parallelism: 1,
  };
}

function event(set: Partial<Record<(typeof EVENT_FIELDS)[number], unknown>>): unknown[] {
  const v: unknown[] = new Array(EVENT_FIELDS.length).fill(null);
  v[EVENT.time] = 1;
  for (const [k, x] of Object.entries(set)) v[EVENT[k as keyof typeof EVENT]] = x;
  return v;
}

describe('alert bolt input filter', () => {
  const config = configFor(alertBolt, { strategies });

  it("takes exactly the events some strategy of that input could count, reading the sender's values", () => {
    const f = alertInputFilter(config, input('parse', ['time', 'host', 'severity', 'eventType', 'srcIp', 'app', 'message']))!;
    expect(f(event({ eventType: 'LINK-UPDOWN', host: 'r1' }))).toBe(true);
    expect(f(event({ app: 'sshd', message: 'Failed password for root', srcIp: '192.0.2.1' }))).toBe(true);
    expect(f(event({ app: 'sshd', message: 'Accepted password for root' }))).toBe(false);
    expect(f(event({ eventType: 'SYS-5-CONFIG_I' }))).toBe(false);
    // A strategy of another input does not open this one: a critical event from parse matches nothing here.
    expect(f(event({ severity: 0 }))).toBe(false);
  });

  it('each input gets its own strategies', () => {
    const f = alertInputFilter(config, input('route', ['time', 'host', 'severity', 'eventType']))!;
    expect(f(event({ severity: 2 }))).toBe(true);
    expect(f(event({ severity: 3, eventType: 'LINK-UPDOWN' }))).toBe(false);
  });

  it('takes everything when a strategy counts every event, or when none counts this input', () => {
    const all = configFor(alertBolt, { strategies: [...strategies, { name: 'any', from: 'parse', threshold: { window: '1m', count: 1000 } }] });
    expect(alertInputFilter(all, input('parse'))).toBeUndefined();
    expect(alertInputFilter(config, input('other'))).toBeUndefined();
    // A strategy whose fields the input lacks ignores the input (the bolt warns): no filter from it.
    expect(alertInputFilter(config, input('parse', ['time', 'host', 'severity']))).toBeUndefined();
  });

  it('takes everything that is not events: cluster alerts and rankings', () => {
    const clusterInput = { from: 'behaviour', stream: 'alert', fields: ['host', ...CLUSTER_ALERT_FIELDS], indexOf: () => 0 };
    expect(alertInputFilter(config, clusterInput)).toBeUndefined();
  });
});
