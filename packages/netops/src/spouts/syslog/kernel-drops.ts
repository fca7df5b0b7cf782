/**
 * Datagrams the Linux kernel dropped because a UDP socket's receive buffer was full: the `drops`
 * column of /proc/net/udp and /proc/net/udp6. Without it, loss before the spout reads a datagram
 * would be silent. Elsewhere (or when /proc is not mounted) the reader reports nothing.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { endianness } from 'node:os';

/** `local_address` of a socket as /proc/net/udp{,6} prints it: 32-bit words in host byte order, hex, then `:PORT`. */
export function procNetAddress(host: string, port: number): string | undefined {
  let bytes: number[];
  if (net.isIPv4(host)) bytes = host.split('.').map(Number);
  else if (net.isIPv6(host)) {
    const sa = new net.SocketAddress({ address: host, family: 'ipv6' });
    bytes = expandIPv6(sa.address);
    if (bytes.length !== 16) return undefined;
  } else return undefined;
  const le = endianness() === 'LE';
  let hex = '';
  for (let w = 0; w < bytes.length; w += 4) {
    const word = le ? [bytes[w + 3]!, bytes[w + 2]!, bytes[w + 1]!, bytes[w]!] : bytes.slice(w, w + 4);
    for (const b of word) hex += b.toString(16).padStart(2, '0');
  }
  return `${hex.toUpperCase()}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

function expandIPv6(address: string): number[] {
  let text = address;
  // A trailing dotted IPv4 (::ffff:1.2.3.4) becomes two hex groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out: number[] = [];
  for (const g of groups) {
    const v = Number.parseInt(g, 16);
    out.push(v >> 8, v & 0xff);
  }
  return out;
}

/** Reads the kernel's drop counter of the UDP socket bound to host:port; undefined when it cannot. */
export class UdpKernelDrops {
  private readonly file: string;
  private readonly key: string | undefined;
  private base: number | undefined;
  private disabled = false;

  constructor(host: string, port: number) {
    this.file = net.isIPv6(host) ? '/proc/net/udp6' : '/proc/net/udp';
    this.key = procNetAddress(host, port);
    if (this.key === undefined) this.disabled = true;
  }

  /** Drops since the previous call (the first call sets the baseline and returns 0); undefined when unavailable. */
  async delta(): Promise<number | undefined> {
    if (this.disabled) return undefined;
    let text: string;
    try {
      text = await readFile(this.file, 'latin1');
    } catch {
      this.disabled = true;
      return undefined;
    }
    const drops = parseDrops(text, this.key!);
    if (drops === undefined) return undefined;
    const before = this.base ?? drops;
    this.base = drops;
    return drops >= before ? drops - before : 0;
  }
}

/** The `drops` column of the socket whose local_address is `key` (not a socket whose remote address it is). */
export function parseDrops(text: string, key: string): number | undefined {
  let from = 0;
  for (;;) {
    const at = text.indexOf(` ${key} `, from);
    if (at === -1) return undefined;
    const sol = text.lastIndexOf('\n', at) + 1;
    const eol = text.indexOf('\n', at);
    const cols = text
      .slice(sol, eol === -1 ? undefined : eol)
      .trim()
      .split(/\s+/);
    // cols: sl, local_address, rem_address, st, ..., drops
    if (cols[1] === key) {
      const drops = Number(cols[cols.length - 1]);
      return Number.isFinite(drops) ? drops : undefined;
    }
    from = at + key.length;
  }
}
