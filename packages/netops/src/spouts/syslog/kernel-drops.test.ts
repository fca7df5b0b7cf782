import { describe, expect, it } from 'vitest';
import { parseDrops, procNetAddress } from './kernel-drops.js';

// Two lines of a real /proc/net/udp: a server on 127.0.0.1:5514 and a client connected to it.
const PROC_NET_UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  120: 0100007F:D431 0100007F:158A 01 00000000:00000000 00:00000000 00000000     0        0 991 2 0000000000000000 7
  377: 0100007F:158A 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 990 2 0000000000000000 4211
`;

describe('kernel drop counter', () => {
  it('prints addresses as /proc/net/udp{,6} does (little-endian words on this machine)', () => {
    expect(procNetAddress('127.0.0.1', 5514)).toBe('0100007F:158A');
    expect(procNetAddress('0.0.0.0', 514)).toBe('00000000:0202');
    expect(procNetAddress('::', 6514)).toBe('00000000000000000000000000000000:1972');
    expect(procNetAddress('::1', 5514)).toBe('00000000000000000000000001000000:158A');
    expect(procNetAddress('::ffff:127.0.0.1', 1)).toBe('0000000000000000FFFF00000100007F:0001');
    expect(procNetAddress('localhost', 1)).toBeUndefined();
  });

  it('reads the drops of the socket bound to the address, not of a client connected to it', () => {
    expect(parseDrops(PROC_NET_UDP, '0100007F:158A')).toBe(4211);
    expect(parseDrops(PROC_NET_UDP, '0100007F:D431')).toBe(7);
    expect(parseDrops(PROC_NET_UDP, '0100007F:0001')).toBeUndefined();
  });
});
