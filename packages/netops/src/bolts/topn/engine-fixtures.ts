/**
 * Components for topn's engine-level tests (loaded by worker threads through their URL): seeded
 * parsed events, the file spout and syslog parser (a topology over a log file), the topn bolt
 * itself, and a sink writing what it receives as JSON lines.
 */
import { appendFileSync } from 'node:fs';
import { defineSink, defineSpout, field, type SpoutCollector } from '@qitian/api';
import { EVENT_FIELDS } from '../../syslog/event.js';
import { randomEvents } from './test-support.js';

export { fileSpout } from '../../spouts/file/index.js';
export { syslogParseBolt } from '../parse/index.js';
export { topnBolt } from './index.js';

/** randomEvents(seed, count, 0, step); task i of p emits the events whose index is i mod p. */
export const eventsSpout = defineSpout({
  spec: {
    summary: 'seeded parsed events for topn tests',
    fields: {
      seed: field.int({ description: 'seed of randomEvents', default: 1 }),
      count: field.int({ description: 'events in all', default: 1000 }),
      step: field.int({ description: 'ms between events', default: 10 }),
    },
  },
  outputs: () => ({ default: [...EVENT_FIELDS] }),
  create(config) {
    let rows: unknown[][] = [];
    let at = 0;
    let stride = 1;
    let collector!: SpoutCollector;
    return {
      open(ctx, col) {
        collector = col;
        stride = ctx.parallelism;
        at = ctx.taskIndex;
        rows = randomEvents(config.seed, config.count, 0, config.step);
      },
      next(max) {
        for (let n = 0; n < max && at < rows.length; n++, at += stride) collector.emit(rows[at]!);
        return at < rows.length ? 'more' : 'end';
      },
    };
  },
});

/** Appends each tuple's values as a JSON line to `path`. */
export const jsonSink = defineSink({
  spec: {
    summary: 'JSON lines of tuple values for topn tests',
    fields: { path: field.string({ description: 'the file to append to', required: true }) },
  },
  create(config) {
    return {
      executeBatch(tuples) {
        appendFileSync(config.path, tuples.map((t) => `${JSON.stringify(t.values)}\n`).join(''));
      },
      execute(t) {
        appendFileSync(config.path, `${JSON.stringify(t.values)}\n`);
      },
    };
  },
});
