/**
 * `npm start -- --live` under the signals a service manager or an operator sends: one SIGTERM to
 * the whole process group drains once (passed on to a child as well, it was a second signal), and
 * a SIGTERM that kills only the shell npm runs it under still drains (it was left running).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Runs `command` (through sh, as npm does) in a process group of its own; resolves once the live topology runs (its metrics endpoint is up). */
async function live(command: string): Promise<{ child: ChildProcess; output: () => string; done: Promise<number | null> }> {
  const child = spawn('sh', ['-c', command], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const deadline = Date.now() + 30_000;
  while (!text.includes('metrics: http') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (!text.includes('metrics: http')) throw new Error(`the live topology did not start:\n${text}`);
  return { child, output: () => text, done };
}

describe('npm start -- --live', () => {
  it('one SIGTERM to the process group drains once', async () => {
    const port = await freePort();
    const run = await live(`node scripts/start.mjs --live --set host=127.0.0.1 --set port=${port} --metrics-port ${await freePort()}`);
    process.kill(-run.child.pid!, 'SIGTERM');
    // (The exit status is the shell's, which the signal ended too.)
    await run.done;
    expect(run.output(), run.output()).toContain('SIGTERM: draining');
    expect(run.output()).not.toContain('stopping without draining');
    expect(run.output()).toContain('topology stopped after');
  }, 60_000);

  it('when the shell npm runs it under dies (of a SIGTERM aimed at npm alone), it stops, draining', async () => {
    const port = await freePort();
    // `; true` keeps sh from handing its process over to node, as npm's sh does not either.
    const run = await live(`node scripts/start.mjs --live --set host=127.0.0.1 --set port=${port} --metrics-port ${await freePort()}; true`);
    // How the shell dies does not matter (a SIGTERM inherited as ignored would not end it here): it passes nothing on.
    run.child.kill('SIGKILL');
    const deadline = Date.now() + 20_000;
    while (!run.output().includes('topology stopped after') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(run.output()).toContain('SIGTERM: draining');
    expect(run.output()).toContain('topology stopped after');
    expect(run.output()).not.toContain('stopping without draining');
  }, 60_000);
});
