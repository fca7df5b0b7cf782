import type { ComponentNode, ExecutionPlan } from '@qitian/topology';
import { describe, expect, test } from 'vitest';
import { TaskContext } from './context.js';
import { newStats } from './stats.js';

describe('TaskContext.count', () => {
  test('refuses a delta that would make a counter go down or lose its value', () => {
    const stats = newStats(0, 'x', 'bolt', 0);
    const node = { id: 'x', parallelism: 1, config: {}, outputs: {} } as unknown as ComponentNode;
    const ctx = new TaskContext({ spec: { name: 't' } } as unknown as ExecutionPlan, node, 0, 0, console as never, stats, false);
    ctx.count('lines', 2);
    ctx.count('lines', 0);
    for (const bad of [-5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => ctx.count('lines', bad)).toThrow(/count\("lines", .*\): a counter only goes up/);
    }
    expect(stats.custom).toEqual({ lines: 2 });
  });
});
