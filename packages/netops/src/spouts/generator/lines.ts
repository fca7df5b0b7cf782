/**
 * Deterministic synthetic lines. Line i of a task is a pure function of (seed, task index, i):
 * a 32-bit hash of the three seeds a tiny counter-based generator, so any line can be made
 * again from its number alone.
 *
 * Speed: a string built with `+` from twenty small pieces is a rope that its first reader
 * must flatten, and on a 2-core machine that costs 500-900 ns a line, more than a parser.
 * Writing bytes into a buffer is no quicker in JavaScript. So each syslog line is three flat
 * pieces: a header (PRI and timestamp, cached per template while the pretend second lasts),
 * and two message halves drawn from pools made once per seed (1024 per template and half,
 * so over 16 million distinct messages per template). A `words` line is two to four pooled
 * phrases.
 */

import { fmix32 } from '@qitian/api';

const GOLDEN = 0x9e3779b9;

/** Mixes a seed and a task index into the key every line of that task starts from. */
export function streamKey(seed: number, taskIndex: number): number {
  return fmix32((fmix32(seed ^ 0x5bd1e995) + Math.imul(taskIndex + 1, GOLDEN)) | 0);
}

/** The first random word of line `i` (any i up to 2^53). */
export function lineHash(key: number, i: number): number {
  const lo = i >>> 0;
  const hi = (i / 4294967296) >>> 0;
  return fmix32(key ^ fmix32((Math.imul(lo, 0xcc9e2d51) + Math.imul(hi ^ 0x1b873593, 0x85ebca77)) | 0));
}

// --- tables -------------------------------------------------------------------------------------

const TWO: string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));
const DAY: string[] = Array.from({ length: 32 }, (_, i) => (i < 10 ? ` ${i}` : `${i}`));
const MONTH = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const OCTET: string[] = Array.from({ length: 256 }, (_, i) => `${i}`);
const PRI: string[] = Array.from({ length: 192 }, (_, i) => `<${i}>`);

const HOSTS: string[] = [];
for (let i = 1; i <= 16; i++) HOSTS.push(`r${i}.example.net`);
for (let i = 1; i <= 24; i++) HOSTS.push(`sw${i}.example.net`);
for (let i = 1; i <= 8; i++) HOSTS.push(`fw${i}.example.net`);
for (let i = 1; i <= 16; i++) HOSTS.push(`srv${i}.dc1.example.net`);
// 64 hosts

const USERS: string[] = Array.from({ length: 64 }, (_, i) => `user${i}`);
const BAD_USERS = ['admin', 'root', 'test', 'oracle', 'guest', 'ubuntu', 'pi', 'postgres'];
const SERVICE_PORTS = ['22', '23', '25', '53', '80', '123', '161', '179', '389', '443', '445', '514', '1433', '3306', '3389', '8080'];
const IFACES: string[] = Array.from({ length: 48 }, (_, i) => `GigabitEthernet${i >> 4}/${i & 15}`);
const DOMAINS = [
  'www.example.com',
  'mail.example.com',
  'api.example.org',
  'cdn.example.net',
  'ntp.example.org',
  'login.example.com',
  'db.internal.example',
  'updates.example.net',
];
const PROCS = ['java', 'nginx', 'postgres', 'python3', 'node', 'mysqld', 'redis-server', 'bgpd'];
const DISKS = ['sda', 'sdb', 'nvme0n1', 'sdc'];
const CRON_JOBS = ['run-parts /etc/cron.hourly', '/usr/lib/sa/sa1 1 1', 'test -x /usr/sbin/anacron', '/usr/local/bin/backup.sh'];

/** A few "hot" addresses take a large share, so that Top-N statistics have something to find. */
const HOT_SRC: string[] = Array.from({ length: 16 }, (_, i) => `10.${(i * 37) & 255}.${(i * 11) & 255}.${(i * 53 + 7) & 255}`);
const HOT_DST: string[] = Array.from({ length: 16 }, (_, i) => `${i < 8 ? '192.0.2' : '198.51.100'}.${(i * 29 + 3) & 255}`);
const DST_NETS = ['192.0.2.', '198.51.100.', '203.0.113.', '172.16.5.'];

/**
 * Templates, by severity: 0 emerg ... 7 debug. `SEVERITY_OF` and `FACILITY_OF` give the PRI;
 * `TEMPLATE_TABLE` draws a template with a realistic skew (mostly informational).
 */
const T_SSH_ACCEPT = 0; // authpriv.info
const T_SSH_FAIL = 1; // authpriv.notice
const T_FW_DROP = 2; // kern.warning
const T_ACL = 3; // local7.info (Cisco)
const T_CRON = 4; // cron.info
const T_DNS = 5; // daemon.info
const T_LINK = 6; // local7.err (Cisco)
const T_CONFIG = 7; // local7.notice (Cisco)
const T_SMART = 8; // daemon.crit
const T_OOM = 9; // kern.err
const T_ENV = 10; // local7.alert (Cisco)
const T_PANIC = 11; // kern.emerg
const T_DHCP = 12; // daemon.debug
const FACILITY_OF = [10, 10, 0, 23, 9, 3, 23, 23, 3, 0, 23, 0, 3];
const SEVERITY_OF = [6, 5, 4, 6, 6, 6, 3, 5, 2, 3, 1, 0, 7];
const PRI_OF: string[] = FACILITY_OF.map((f, t) => PRI[f * 8 + SEVERITY_OF[t]!]!);

/** 1024 slots: weight of each template in parts per 1024. */
const WEIGHTS: [number, number][] = [
  [T_SSH_ACCEPT, 180],
  [T_SSH_FAIL, 110],
  [T_FW_DROP, 120],
  [T_ACL, 250],
  [T_CRON, 60],
  [T_DNS, 150],
  [T_LINK, 40],
  [T_CONFIG, 40],
  [T_SMART, 15],
  [T_OOM, 20],
  [T_ENV, 8],
  [T_PANIC, 3],
  [T_DHCP, 28],
];
const TEMPLATE_TABLE = new Uint8Array(1024);
{
  let at = 0;
  for (const [t, w] of WEIGHTS) for (let k = 0; k < w; k++) TEMPLATE_TABLE[at++] = t;
  if (at !== 1024) throw new Error(`generator weights add up to ${at}, not 1024`);
}

const VOCAB = [
  'the',
  'of',
  'and',
  'to',
  'in',
  'is',
  'it',
  'that',
  'for',
  'on',
  'with',
  'as',
  'was',
  'at',
  'by',
  'be',
  'this',
  'from',
  'or',
  'an',
  'are',
  'not',
  'but',
  'all',
  'storm',
  'stream',
  'tuple',
  'spout',
  'bolt',
  'topology',
  'router',
  'switch',
  'packet',
  'flow',
  'link',
  'latency',
  'loss',
  'route',
  'peer',
  'session',
  'alarm',
  'event',
  'window',
  'cluster',
  'node',
  'worker',
  'thread',
  'queue',
  'batch',
  'ack',
  'replay',
  'offset',
  'key',
  'group',
  'count',
  'top',
  'rate',
  'burst',
  'network',
  'backbone',
  'cloud',
  'monkey',
  'king',
  'qitian',
];
/** 1024 slots mapping to vocabulary indexes with a Zipf-like skew. */
const WORD_TABLE = new Uint8Array(1024);
{
  const n = VOCAB.length;
  let total = 0;
  for (let r = 1; r <= n; r++) total += 1 / r;
  let at = 0;
  for (let r = 1; r <= n && at < 1024; r++) {
    const slots = Math.max(1, Math.round((1024 * (1 / r)) / total));
    for (let k = 0; k < slots && at < 1024; k++) WORD_TABLE[at++] = r - 1;
  }
  while (at < 1024) WORD_TABLE[at++] = (at * 7) % n;
}

// --- pools --------------------------------------------------------------------------------------

/** A build-time random stream (not used on the hot path). */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed | 0;
  }
  next(): number {
    this.s = (this.s + GOLDEN) | 0;
    return fmix32(this.s);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.next() % xs.length]!;
  }
  below(n: number): number {
    return this.next() % n;
  }
}

/** A flat copy of a string built from pieces, so that using it later costs no flattening. */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

function srcAddress(r: Rng): string {
  const x = r.next();
  // 3 in 8 come from a few hot sources.
  if ((x & 7) < 3) return HOT_SRC[(x >>> 3) & 15]!;
  return `10.${OCTET[(x >>> 3) & 255]}.${OCTET[(x >>> 11) & 255]}.${OCTET[(x >>> 19) & 255]}`;
}

function dstAddress(r: Rng): string {
  const x = r.next();
  if ((x & 3) === 0) return HOT_DST[(x >>> 2) & 15]!;
  return DST_NETS[(x >>> 2) & 3]! + OCTET[(x >>> 4) & 255];
}

const ephemeralPort = (r: Rng): number => 1024 + r.below(64512);
const pid = (r: Rng): number => 1000 + r.below(30000);

/** The two halves of a message of template `t`; the first starts with the host. */
function messageHalves(t: number, r: Rng): [string, string] {
  const host = `${r.pick(HOSTS)} `;
  switch (t) {
    case T_SSH_ACCEPT:
      return [`${host}sshd[${pid(r)}]: Accepted password for ${r.pick(USERS)}`, ` from ${srcAddress(r)} port ${ephemeralPort(r)} ssh2`];
    case T_SSH_FAIL:
      return [`${host}sshd[${pid(r)}]: Failed password for invalid user ${r.pick(BAD_USERS)}`, ` from ${srcAddress(r)} port ${ephemeralPort(r)} ssh2`];
    case T_FW_DROP:
      return [
        `${host}kernel: DROP IN=eth0 OUT= SRC=${srcAddress(r)}`,
        ` DST=${dstAddress(r)} PROTO=${r.below(4) === 0 ? 'UDP' : 'TCP'} SPT=${ephemeralPort(r)} DPT=${r.pick(SERVICE_PORTS)}`,
      ];
    case T_ACL:
      return [
        `${host}${pid(r)}: %SEC-6-IPACCESSLOGP: list ${100 + r.below(8)} ${r.below(3) === 0 ? 'permitted' : 'denied'} tcp ${srcAddress(r)}(${ephemeralPort(r)})`,
        ` -> ${dstAddress(r)}(${r.pick(SERVICE_PORTS)}), 1 packet`,
      ];
    case T_CRON:
      return [`${host}CRON[${pid(r)}]: (root) CMD (`, `${r.pick(CRON_JOBS)})`];
    case T_DNS:
      return [`${host}named[${pid(r)}]: client ${srcAddress(r)}#${ephemeralPort(r)}`, `: query: ${r.pick(DOMAINS)} IN ${r.below(4) === 0 ? 'AAAA' : 'A'} +`];
    case T_LINK:
      return [`${host}${pid(r)}: %LINK-3-UPDOWN: Interface ${r.pick(IFACES)}`, `, changed state to ${r.below(2) === 0 ? 'down' : 'up'}`];
    case T_CONFIG:
      return [`${host}${pid(r)}: %SYS-5-CONFIG_I: Configured from console by ${r.pick(USERS)}`, ` on vty${r.below(5)} (${srcAddress(r)})`];
    case T_SMART:
      return [`${host}smartd[${pid(r)}]: Device: /dev/${r.pick(DISKS)}`, ', SMART Failure: FAILURE PREDICTION THRESHOLD EXCEEDED'];
    case T_OOM:
      return [`${host}kernel: Out of memory: Killed process ${100 + r.below(60000)} (${r.pick(PROCS)})`, ` total-vm:${1024 + r.below(16_000_000)}kB`];
    case T_ENV:
      return [`${host}${pid(r)}: %ENVMON-1-SHUTDOWN: Environmental Monitor initiated shutdown`, ` due to temperature on module ${1 + r.below(8)}`];
    case T_PANIC:
      return [`${host}kernel: Kernel panic - not syncing: Fatal exception`, ' in interrupt'];
    default: {
      const mac = `52:54:00:${TWO[10 + r.below(90)]}:${TWO[10 + r.below(90)]}:${TWO[10 + r.below(90)]}`;
      return [`${host}dhcpd[${pid(r)}]: DHCPACK on 10.20.${OCTET[r.below(256)]}.${OCTET[r.below(256)]}`, ` to ${mac} via eth1`];
    }
  }
}

const POOL = 1024;
const TEMPLATES = FACILITY_OF.length;
const PHRASES = 4096;

/** What lines are made from for one seed: built once, shared by every task of that seed in a thread. */
interface Pools {
  /** First and second message halves, `POOL` per template, at `t * POOL + j`. */
  readonly first: string[];
  readonly second: string[];
  /** Phrases of 1 to 3 words for `words` lines. */
  readonly phrases: string[];
}

const poolCache = new Map<number, Pools>();

function poolsFor(seed: number): Pools {
  let p = poolCache.get(seed);
  if (p) return p;
  const r = new Rng(fmix32(seed ^ 0x27d4eb2f));
  const first: string[] = new Array(TEMPLATES * POOL);
  const second: string[] = new Array(TEMPLATES * POOL);
  for (let t = 0; t < TEMPLATES; t++) {
    for (let j = 0; j < POOL; j++) {
      const [a, b] = messageHalves(t, r);
      first[t * POOL + j] = flat(a);
      second[t * POOL + j] = flat(b);
    }
  }
  const phrases: string[] = new Array(PHRASES);
  for (let j = 0; j < PHRASES; j++) {
    const n = 1 + r.below(3);
    let s = VOCAB[WORD_TABLE[r.below(1024)]!]!;
    for (let k = 1; k < n; k++) s += ` ${VOCAB[WORD_TABLE[r.below(1024)]!]!}`;
    phrases[j] = flat(s);
  }
  p = { first, second, phrases };
  if (poolCache.size >= 16) poolCache.clear();
  poolCache.set(seed, p);
  return p;
}

// --- lines --------------------------------------------------------------------------------------

/**
 * Makes syslog lines: `<PRI>Mmm dd hh:mm:ss host program[pid]: message`, RFC 3164. The pretend
 * clock starts at Nov 22 00:00:00 and moves one second every 1024 lines.
 */
export class SyslogLines {
  private readonly first: string[];
  private readonly seconds: string[];
  private tsSecond = -1;
  /** `<PRI>timestamp ` per template, for the current pretend second. */
  private readonly heads: string[] = new Array(TEMPLATES);

  constructor(
    private readonly key: number,
    seed: number,
  ) {
    const p = poolsFor(seed);
    this.first = p.first;
    this.seconds = p.second;
  }

  private setSecond(t: number): void {
    const days = 21 + Math.floor(t / 86400); // Nov 22 = day 21 of a pretend 28-day month
    const sod = t % 86400;
    const ts = `${MONTH[(10 + Math.floor(days / 28)) % 12]} ${DAY[(days % 28) + 1]} ${TWO[Math.floor(sod / 3600)]}:${TWO[Math.floor(sod / 60) % 60]}:${TWO[sod % 60]} `;
    for (let k = 0; k < TEMPLATES; k++) this.heads[k] = flat(PRI_OF[k] + ts);
    this.tsSecond = t;
  }

  line(i: number): string {
    const second = Math.floor(i / 1024);
    if (second !== this.tsSecond) this.setSecond(second);
    const r = lineHash(this.key, i);
    const t = TEMPLATE_TABLE[r & 1023]!;
    const at = t * POOL;
    return this.heads[t]! + this.first[at + ((r >>> 10) & 1023)]! + this.seconds[at + ((r >>> 20) & 1023)]!;
  }
}

/** Makes `words` lines: 2 to 4 pooled phrases, 2 to 12 words drawn with a Zipf-like skew. */
export class WordsLines {
  private readonly phrases: string[];

  constructor(
    private readonly key: number,
    seed: number,
  ) {
    this.phrases = poolsFor(seed).phrases;
  }

  line(i: number): string {
    const r = lineHash(this.key, i);
    const p = this.phrases;
    const n = r & 3;
    let line = p[(r >>> 2) & 4095]! + ' ' + p[(r >>> 14) & 4095]!;
    if (n >= 2) line += ' ' + p[fmix32(r) & 4095]!;
    if (n === 3) line += ' ' + p[fmix32(r + GOLDEN) & 4095]!;
    return line;
  }
}

/** The vocabulary `words` lines draw from. */
export const WORDS_VOCABULARY: readonly string[] = VOCAB;
