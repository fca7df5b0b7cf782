/** The tap stream when its reader stops reading: what the socket will not take is skipped, not buffered. */
import { request } from 'node:http';
import { expect, test } from 'vitest';
import type { Engine } from '../engine.js';
import { startControlServer } from './server.js';

test('a tap whose reader stops reading (qitian tap | less, paused) does not buffer the stream in the process', async () => {
  let push: ((lines: string[], skipped: number) => void) | undefined;
  const engine = {
    plan: { spec: { name: 't', components: [{ id: 'gen', kind: 'spout', outputs: { default: ['line'] } }], streams: [] } },
    tap: (_c: string, _s: string, _sample: number, _limit: number, onLines: (lines: string[], skipped: number) => void) => {
      push = onLines;
      return () => {
        push = undefined;
      };
    },
    finished: new Promise(() => {}),
  } as unknown as Engine;
  const server = await startControlServer(engine, { port: 0 });
  try {
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      request(`${server.url}/api/v1/tap?component=gen`, resolve).on('error', reject).end();
    });
    res.pause();
    while (!push) await new Promise((r) => setTimeout(r, 5));
    // 100 MB offered to a reader that reads nothing: before, all of it waited in the process's memory.
    const line = JSON.stringify({ component: 'gen', task: 0, stream: 'default', values: { line: 'x'.repeat(1000) } });
    const batch = Array.from({ length: 2000 }, () => line);
    const offered = 50 * batch.length;
    for (let i = 0; i < 50; i++) {
      push(batch, 0);
      await new Promise((r) => setImmediate(r));
    }
    // Now it reads: a few MB (socket buffers and the endpoint's own bound), then how many it missed.
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      text += d;
    });
    res.resume();
    const until = Date.now() + 10_000;
    let lines: string[] = [];
    let skipped = 0;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      lines = text.split('\n').filter((l) => l.length > 0);
      skipped = lines.filter((l) => l.startsWith('{"skipped"')).reduce((a, l) => a + (JSON.parse(l) as { skipped: number }).skipped, 0);
      const shown = lines.length - lines.filter((l) => l.startsWith('{"skipped"')).length;
      // (The count of what was skipped comes once the socket has drained, with no tuple after.)
      if (shown + skipped === offered) break;
    }
    const shown = lines.filter((l) => !l.startsWith('{"skipped"')).length;
    expect(shown + skipped).toBe(offered);
    expect(skipped).toBeGreaterThan(offered / 2);
    res.destroy();
  } finally {
    await server.close();
  }
}, 30_000);
