// Sends `count` syslog datagrams to 127.0.0.1:`port` at `rate` per second, paced per millisecond,
// from its own thread so that the receiver under test is not starved by the sender's loop.
import dgram from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';

const { port, count, rate, lines } = workerData;
const socket = dgram.createSocket('udp4');
socket.connect(port, '127.0.0.1', async () => {
  const buffers = lines.map((l) => Buffer.from(l));
  const t0 = performance.now();
  let sent = 0;
  let errors = 0;
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    while (sent < due) {
      try {
        socket.send(buffers[sent % buffers.length]);
      } catch {
        errors++;
      }
      sent++;
    }
    // Let the event loop flush the sends queued so far.
    await new Promise((r) => setImmediate(r));
  }
  const seconds = (performance.now() - t0) / 1000;
  socket.close(() => parentPort.postMessage({ sent, errors, seconds }));
});
