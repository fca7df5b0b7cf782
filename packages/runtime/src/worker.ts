/** Worker thread entry: builds a WorkerRuntime from workerData and relays control messages. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ControlMessage, StatusMessage, WorkerInit } from './protocol.js';
import { ComponentStartError, WorkerRuntime } from './worker-runtime.js';

const port = parentPort!;
const main = { postMessage: (m: StatusMessage) => port.postMessage(m) };
const init = workerData as WorkerInit;
// This thread's stdout is piped to the process's: when that is a terminal, say so here too, so
// that a component's `process.stdout.isTTY` (colours, widths) is what it is on the main thread.
if (init.terminal?.isTTY) Object.assign(process.stdout, { isTTY: true, columns: init.terminal.columns });
const runtime = new WorkerRuntime(init, main);

// Control messages run one at a time, in order ('finish' and 'close' await component code), and
// only once the runtime has started: a probe, finish or close that reaches a thread still loading
// its components (a replacement for a dead one) waits for it instead of finding no executors.
let started = false;
let chain: Promise<void> = runtime.start().then(() => {
  started = true;
}, fatal);
port.on('message', (msg: ControlMessage) => {
  chain = chain.then(() => (started ? runtime.control(msg) : undefined)).catch((err: unknown) => fatal(err));
});

function fatal(err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  const msg: Extract<StatusMessage, { k: 'fatal' }> = { k: 'fatal', message: e.message, stack: e.stack };
  if (e instanceof ComponentStartError) {
    msg.component = e.component;
    const c = e.cause instanceof Error ? e.cause : new Error(String(e.cause));
    msg.cause = { name: c.name, message: c.message, stack: c.stack };
  }
  port.postMessage(msg);
}
