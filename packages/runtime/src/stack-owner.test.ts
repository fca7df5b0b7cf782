import { describe, expect, it } from 'vitest';
import { stackOwner } from './stack-owner.js';

const owners = [
  { component: 'boom', url: 'file:///work/topo/boom.ts' },
  { component: 'other', url: 'file:///work/topo/other.ts' },
  { component: 'alerts', url: 'file:///work/node_modules/@qitian/netops/dist/index.js' },
  { component: 'report', url: 'file:///work/node_modules/@qitian/netops/dist/index.js' },
];

describe('stackOwner', () => {
  it('names the component whose module the first known frame is in', () => {
    const stack = [
      'Error: timer went off',
      '    at helper (file:///work/topo/lib/util.ts:3:9)',
      '    at Timeout._onTimeout (file:///work/topo/boom.ts:9:17)',
      '    at listOnTimeout (node:internal/timers:573:17)',
    ].join('\n');
    expect(stackOwner(stack, owners)).toEqual({ component: 'boom', at: '/work/topo/boom.ts:9:17' });
  });

  it('reads frames without a function name, and module URLs with a query', () => {
    const stack = 'Error: x\n    at file:///work/topo/other.ts:12:5';
    expect(stackOwner(stack, [{ component: 'other', url: 'file:///work/topo/other.ts?v=2' }])).toEqual({
      component: 'other',
      at: '/work/topo/other.ts:12:5',
    });
  });

  it('says nothing when the module is shared by several components, or no frame is known', () => {
    const shared = 'Error: y\n    at Object.next (file:///work/node_modules/@qitian/netops/dist/index.js:40:2)';
    expect(stackOwner(shared, owners)).toBeNull();
    expect(stackOwner('Error: z\n    at processTicksAndRejections (node:internal/process/task_queues:95:5)', owners)).toBeNull();
    expect(stackOwner(undefined, owners)).toBeNull();
  });

  it('decodes paths with spaces', () => {
    const stack = 'Error: w\n    at file:///work/my%20topo/boom.ts:1:1';
    expect(stackOwner(stack, [{ component: 'boom', url: 'file:///work/my%20topo/boom.ts' }])?.at).toBe('/work/my topo/boom.ts:1:1');
  });
});
