// Connects to 127.0.0.1:`port` and writes `count` syslog messages in octet-counted frames
// (RFC 6587: "LEN SP MSG"), as fast as the socket takes them: 64 KiB writes, waiting for 'drain'
// when the socket's buffer is full. Its own thread, so that the receiver is not starved by it.
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

const { port, count, lines } = workerData;
const frames = lines.map((l) => Buffer.from(`${Buffer.byteLength(l)} ${l}`));
const socket = net.connect(port, '127.0.0.1');
socket.setNoDelay(true);
await new Promise((resolve, reject) => {
  socket.once('connect', resolve);
  socket.once('error', reject);
});
const t0 = performance.now();
const startedAt = Date.now();
let sent = 0;
const CHUNK = 64 * 1024;
while (sent < count) {
  const parts = [];
  let size = 0;
  while (sent < count && size < CHUNK) {
    const f = frames[sent % frames.length];
    parts.push(f);
    size += f.length;
    sent++;
  }
  if (!socket.write(Buffer.concat(parts, size))) await new Promise((r) => socket.once('drain', r));
}
await new Promise((r) => socket.end(r));
const seconds = (performance.now() - t0) / 1000;
parentPort.postMessage({ sent, seconds, startedAt });
