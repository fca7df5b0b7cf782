/** Worker thread entry: builds a WorkerRuntime from workerData and relays control messages. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ControlMessage, StatusMessage, WorkerInit } from './protocol.js';
import { WorkerRuntime } from './worker-runtime.js';

const port = parentPort!;
const main = { postMessage: (m: StatusMessage) => port.postMessage(m) };
const runtime = new WorkerRuntime(workerData as WorkerInit, main);

// Control messages run one at a time, in order: 'finish' and 'close' await component code.
let chain: Promise<void> = Promise.resolve();
port.on('message', (msg: ControlMessage) => {
  chain = chain.then(() => runtime.control(msg)).catch((err: unknown) => fatal(err));
});

function fatal(err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  port.postMessage({ k: 'fatal', message: e.message, stack: e.stack } satisfies StatusMessage);
}

runtime.start().catch(fatal);
