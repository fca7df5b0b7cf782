/**
 * A private rsyslogd (Debian package rsyslog) receiving syslog on a port and writing each message
 * to a file (the raw message and a newline; asynchronous 256 KiB writes, flushed at the end of each batch so that the count is current), the cheapest output it
 * has that can still be counted. UDP with a 4 MiB receive buffer (as the syslog spout asks for),
 * TCP with imtcp (octet counting and LF framing both on, its defaults).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Rsyslog {
  /** Messages written to the file so far (read incrementally). */
  received(): number;
  stop(): Promise<void>;
}

export async function startRsyslog(protocol: 'udp' | 'tcp', port: number, recvBufferBytes = 4 * 1024 * 1024): Promise<Rsyslog> {
  if (!existsSync('/usr/sbin/rsyslogd'))
    throw new Error('rsyslogd not found at /usr/sbin/rsyslogd: apt-get install -y rsyslog (the Debian package) to compare against it');
  const dir = mkdtempSync(join(tmpdir(), 'qitian-rsyslog-'));
  const out = join(dir, 'out.log');
  const module = protocol === 'udp' ? 'imudp' : 'imtcp';
  const buffer = protocol === 'udp' ? ` rcvbufSize="${recvBufferBytes}"` : '';
  writeFileSync(
    join(dir, 'rsyslog.conf'),
    [
      `global(workDirectory="${dir}")`,
      `module(load="${module}")`,
      `input(type="${module}" port="${port}" address="127.0.0.1"${buffer})`,
      'template(name="raw" type="string" string="%rawmsg%\\n")',
      `*.* action(type="omfile" file="${out}" template="raw" asyncWriting="on" ioBufferSize="256k" flushOnTXEnd="on")`,
    ].join('\n'),
  );
  const child: ChildProcess = spawn('/usr/sbin/rsyslogd', ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslogd.pid')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  // Ready once it listens: probe by waiting a little and checking it is alive.
  await new Promise((r) => setTimeout(r, 700));
  if (child.exitCode !== null) throw new Error(`rsyslogd exited at start (${child.exitCode}): ${stderr}`);
  let fd = -1;
  let count = 0;
  const chunk = Buffer.allocUnsafe(1 << 20);
  return {
    received() {
      if (fd < 0) {
        if (!existsSync(out)) return 0;
        fd = openSync(out, 'r');
      }
      for (;;) {
        const n = readSync(fd, chunk, 0, chunk.length, null);
        if (n <= 0) break;
        for (let i = chunk.indexOf(10); i >= 0 && i < n; i = chunk.indexOf(10, i + 1)) count++;
      }
      return count;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      if (fd >= 0) closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
