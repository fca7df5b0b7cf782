/**
 * Components for the postgres sink's engine-level tests (loaded by worker threads through their
 * URL): a spout of syslog events with message ids (tracked with acking on), and the sink itself.
 */
import { defineSpout, field, type SpoutCollector } from '@qitian/api';
import { EVENT, EVENT_FIELDS } from '../../syslog/event.js';

export { postgresSink } from './index.js';

/** `count` events, each with its index as message id; then the end, or (follow) idle for ever. */
export const eventsSpout = defineSpout({
  spec: {
    summary: 'syslog events with message ids for postgres sink tests',
    fields: {
      count: field.int({ description: 'events in all', default: 100 }),
      follow: field.boolean({ description: 'idle after the events instead of ending', default: false }),
    },
  },
  outputs: () => ({ default: [...EVENT_FIELDS] }),
  create(config) {
    let at = 0;
    let collector!: SpoutCollector;
    return {
      open(_ctx, col) {
        collector = col;
      },
      next(max) {
        for (let n = 0; n < max && at < config.count; n++, at++) {
          const values: unknown[] = EVENT_FIELDS.map(() => null);
          values[EVENT.time] = 1_700_000_000_000 + at;
          values[EVENT.host] = `r${at % 3}`;
          values[EVENT.severity] = at % 8;
          values[EVENT.message] = `event ${at}`;
          collector.emit(values, at);
        }
        if (at < config.count) return 'more';
        return config.follow ? 'idle' : 'end';
      },
    };
  },
});
