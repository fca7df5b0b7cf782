/**
 * What each kind of device logs, and how: event templates per operating system, with the
 * facility and severity of their PRI, their weight in normal traffic by device kind, and the
 * text. A line is `head + tag + body`:
 * - head: `<PRI>` and the timestamp in the device's style (see `TS_*`), cached per simulated second;
 * - tag: the hostname and what follows it up to the message (`sw-core-01 1043: `,
 *   `fw-02 RT_FLOW - `, `srv-01 sshd[4242]: `), pooled per device and template;
 * - body: the message (`%LINK-3-UPDOWN: Interface GigabitEthernet1/0/3, changed state to down`),
 *   pooled per template and device kind (or per fault).
 */
import type { Device, DeviceKind, DeviceOs, Population, Rng } from './network.js';

/** RFC 3164 `Mmm dd hh:mm:ss` (day space-padded): IOS, Linux. */
export const TS_BSD = 0;
/** Huawei VRP: `Mmm dd yyyy hh:mm:ss`. */
export const TS_HUAWEI = 1;
/** Cisco ASA (`logging timestamp`): `Mmm dd yyyy hh:mm:ss`, day zero-padded. */
export const TS_ASA = 2;
/** H3C Comware: `Mmm dd hh:mm:ss yyyy`. */
export const TS_H3C = 3;
/** RFC 5424: `1 yyyy-mm-ddThh:mm:ss.mmmZ` (the milliseconds are a separate piece). */
export const TS_ISO = 4;

/** Fault parameters a body may be asked to use instead of drawing its own. */
export interface FaultArgs {
  readonly iface?: string;
  readonly state?: 'up' | 'down';
  readonly source?: string;
  readonly target?: string;
  /** Port-scan: the destination port. */
  readonly port?: number;
}

export interface BodyArgs {
  readonly r: Rng;
  readonly p: Population;
  /** A device of the kind and OS the body is for (bodies never name their own device). */
  readonly d: Device;
  readonly f: FaultArgs | undefined;
}

export interface Template {
  /** Index in `TEMPLATES`. */
  readonly id: number;
  /** As it appears in the line: `%LINK-3-UPDOWN`, `%%01IFNET/4/LINK_STATE`, `RT_FLOW_SESSION_CREATE`, `sshd`. */
  readonly code: string;
  /** The event type as the parse bolt names it: `LINK-UPDOWN`, `IFNET/LINK_STATE`, `RT_FLOW_SESSION_CREATE`, `sshd`. */
  readonly eventType: string;
  readonly os: DeviceOs;
  /** Linux only: the RFC 5424 twin of an RFC 3164 template. */
  readonly rfc5424: boolean;
  readonly facility: number;
  readonly severity: number;
  readonly ts: number;
  /** Program (Junos APP-NAME, Linux tag), when the header names one. */
  readonly app: string | undefined;
  readonly pid: boolean;
  /** Weight in normal traffic by device kind; none: only faults use it. */
  readonly weights: Partial<Record<DeviceKind, number>>;
  /** What faults use it for, if anything. */
  readonly role: Role | undefined;
  readonly body: (a: BodyArgs) => string;
}

/** What a fault uses a template for: link-flap `updown` (the body takes the state), `down`, `up`; `scan`; `authfail`; `new`. */
export type Role = 'updown' | 'down' | 'up' | 'scan' | 'authfail' | 'new';

interface Def {
  code: string;
  role?: Role;
  fac: number;
  sev: number;
  w?: Partial<Record<DeviceKind, number>>;
  app?: string;
  pid?: boolean;
  body: (a: BodyArgs) => string;
}

// --- helpers --------------------------------------------------------------------------------------

const LOCAL7 = 23;
const LOCAL4 = 20;
const KERN = 0;
const USER = 1;
const DAEMON = 3;
const AUTH = 4;
const CRON = 9;
const AUTHPRIV = 10;

const hex = (r: Rng, n: number): string => {
  let s = '';
  for (let k = 0; k < n; k++) s += '0123456789abcdef'[r.below(16)];
  return s;
};
const ciscoMac = (r: Rng): string => `${hex(r, 4)}.${hex(r, 4)}.${hex(r, 4)}`;
const mac = (r: Rng): string => `52:54:00:${hex(r, 2)}:${hex(r, 2)}:${hex(r, 2)}`;
const iface = (a: BodyArgs): string => a.f?.iface ?? a.r.pick(a.d.interfaces);
const upDown = (a: BodyArgs): 'up' | 'down' => a.f?.state ?? (a.r.below(2) === 0 ? 'down' : 'up');
const tcpUdp = (r: Rng): string => (r.below(5) === 0 ? 'udp' : 'tcp');
const IOS_CMDS = ['show running-config', 'show interfaces status', 'show ip route', 'write memory', 'show logging', 'ping 10.0.0.1'];
const VRP_CMDS = ['display current-configuration', 'display interface brief', 'display ip routing-table', 'save', 'display logbuffer'];
const JUNOS_CMDS = ['show interfaces terse', 'show route summary', 'show security flow session summary', 'show configuration'];
const LINUX_CMDS = ['/usr/bin/systemctl restart nginx', '/usr/bin/apt-get update', '/usr/bin/journalctl -u sshd', '/bin/cat /var/log/syslog'];
const UNITS = ['Daily apt download activities', 'Cleanup of Temporary Directories', 'logrotate.service - Rotate log files', 'Session 12 of user deploy'];
const CRON_JOBS = ['command -v debian-sa1 > /dev/null && debian-sa1 1 1', '/usr/local/bin/backup.sh', 'run-parts --report /etc/cron.hourly'];
const SERVICES: Record<number, string> = { 443: 'junos-https', 80: 'junos-http', 53: 'junos-dns-udp', 22: 'junos-ssh', 123: 'junos-ntp', 25: 'junos-smtp' };
const PROCS = ['java', 'nginx', 'postgres', 'python3', 'node', 'mysqld'];
/** A plausible source-NAT public address. */
const nat = (r: Rng): string => `203.0.113.${1 + r.below(4)}`;

/** An internal host talking to an external one, or the other way round (1 in 4). */
function flow(a: BodyArgs): { src: string; sport: number; dst: string; dport: number; proto: string } {
  const { r, p } = a;
  const proto = tcpUdp(r);
  if (r.below(4) === 0) return { src: p.externalHost(r), sport: p.ephemeralPort(r), dst: p.internalHost(r), dport: p.servicePort(r), proto };
  return { src: p.internalHost(r), sport: p.ephemeralPort(r), dst: p.externalHost(r), dport: proto === 'udp' ? 53 : p.servicePort(r), proto };
}

/** The scanner's probe: its source, a target and a destination port. */
function probe(a: BodyArgs): { src: string; sport: number; dst: string; dport: number } {
  const { r, p, f } = a;
  return { src: f?.source ?? p.externalHost(r), sport: p.ephemeralPort(r), dst: f?.target ?? p.internalHost(r), dport: f?.port ?? p.servicePort(r) };
}

/** A probe as a flow, for ACL logs. */
const scan = (a: BodyArgs): ReturnType<typeof flow> => ({ ...probe(a), proto: 'tcp' });

const authSource = (a: BodyArgs): string => a.f?.source ?? a.p.externalHost(a.r);

// --- Cisco IOS (local7) ---------------------------------------------------------------------------

const IOS: Def[] = [
  {
    code: '%SEC-6-IPACCESSLOGP',
    role: 'scan',
    fac: LOCAL7,
    sev: 6,
    w: { 'core-switch': 25, 'access-switch': 4, router: 25 },
    body: (a) => {
      const x = a.f ? scan(a) : flow(a);
      const n = a.f ? 1 : 1 + (a.r.below(8) === 0 ? a.r.below(40) : 0);
      return `%SEC-6-IPACCESSLOGP: list ${100 + a.r.below(4)} ${a.f || a.r.below(3) !== 0 ? 'denied' : 'permitted'} ${x.proto} ${x.src}(${x.sport}) -> ${x.dst}(${x.dport}), ${n} packet${n > 1 ? 's' : ''}`;
    },
  },
  {
    code: '%SEC-6-IPACCESSLOGDP',
    fac: LOCAL7,
    sev: 6,
    w: { 'core-switch': 3, router: 4 },
    body: (a) => `%SEC-6-IPACCESSLOGDP: list 101 denied icmp ${a.p.externalHost(a.r)} -> ${a.p.internalHost(a.r)} (8/0), 1 packet`,
  },
  {
    code: '%LINK-3-UPDOWN',
    role: 'updown',
    fac: LOCAL7,
    sev: 3,
    w: { 'core-switch': 0.3, 'access-switch': 2, router: 0.2 },
    body: (a) => `%LINK-3-UPDOWN: Interface ${iface(a)}, changed state to ${upDown(a)}`,
  },
  {
    code: '%LINEPROTO-5-UPDOWN',
    role: 'updown',
    fac: LOCAL7,
    sev: 5,
    w: { 'core-switch': 1, 'access-switch': 8, router: 0.5 },
    body: (a) => `%LINEPROTO-5-UPDOWN: Line protocol on Interface ${iface(a)}, changed state to ${upDown(a)}`,
  },
  {
    code: '%SYS-5-CONFIG_I',
    fac: LOCAL7,
    sev: 5,
    w: { 'core-switch': 1.5, 'access-switch': 1, router: 1.5 },
    body: (a) => `%SYS-5-CONFIG_I: Configured from console by ${a.p.adminUser(a.r)} on vty${a.r.below(5)} (${a.p.admin(a.r)})`,
  },
  {
    code: '%PARSER-5-CFGLOG_LOGGEDCMD',
    fac: LOCAL7,
    sev: 5,
    w: { 'core-switch': 1.5, 'access-switch': 1, router: 1.5 },
    body: (a) => `%PARSER-5-CFGLOG_LOGGEDCMD: User:${a.p.adminUser(a.r)}  logged command:${a.r.pick(IOS_CMDS)}`,
  },
  {
    code: '%SSH-5-SSH2_USERAUTH',
    fac: LOCAL7,
    sev: 5,
    w: { 'core-switch': 2, 'access-switch': 1.5, router: 2 },
    body: (a) =>
      `%SSH-5-SSH2_USERAUTH: User '${a.p.adminUser(a.r)}' authentication for SSH2 Session from ${a.p.admin(a.r)} (tty = ${a.r.below(5)}) using crypto cipher 'aes256-ctr', hmac 'hmac-sha2-256' Succeeded`,
  },
  {
    code: '%SEC_LOGIN-5-LOGIN_SUCCESS',
    fac: LOCAL7,
    sev: 5,
    w: { 'core-switch': 1.5, 'access-switch': 1, router: 1.5 },
    body: (a) => `%SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: ${a.p.adminUser(a.r)}] [Source: ${a.p.admin(a.r)}] [localport: 22]`,
  },
  {
    code: '%SEC_LOGIN-4-LOGIN_FAILED',
    role: 'authfail',
    fac: LOCAL7,
    sev: 4,
    w: { 'core-switch': 0.3, 'access-switch': 0.2, router: 0.5 },
    body: (a) =>
      `%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: ${a.p.badUser(a.r)}] [Source: ${authSource(a)}] [localport: 22] [Reason: Login Authentication Failed]`,
  },
  {
    code: '%DOT1X-5-SUCCESS',
    fac: LOCAL7,
    sev: 5,
    w: { 'access-switch': 6 },
    body: (a) =>
      `%DOT1X-5-SUCCESS: Authentication successful for client (${ciscoMac(a.r)}) on Interface ${iface(a)} AuditSessionID 0A00${hex(a.r, 20).toUpperCase()}`,
  },
  {
    code: '%ILPOWER-5-POWER_GRANTED',
    fac: LOCAL7,
    sev: 5,
    w: { 'access-switch': 2 },
    body: (a) => `%ILPOWER-5-POWER_GRANTED: Interface ${iface(a)}: Power granted`,
  },
  {
    code: '%SW_MATM-4-MACFLAP_NOTIF',
    fac: LOCAL7,
    sev: 4,
    w: { 'core-switch': 0.5, 'access-switch': 0.8 },
    body: (a) => `%SW_MATM-4-MACFLAP_NOTIF: Host ${ciscoMac(a.r)} in vlan ${10 * (1 + a.r.below(9))} is flapping between port ${iface(a)} and port ${iface(a)}`,
  },
  {
    code: '%CDP-4-NATIVE_VLAN_MISMATCH',
    fac: LOCAL7,
    sev: 4,
    w: { 'core-switch': 0.2, 'access-switch': 0.4 },
    body: (a) =>
      `%CDP-4-NATIVE_VLAN_MISMATCH: Native VLAN mismatch discovered on ${iface(a)} (1), with sw-acc-${10 + a.r.below(40)} GigabitEthernet0/1 (${10 * (1 + a.r.below(9))}).`,
  },
  {
    code: '%OSPF-5-ADJCHG',
    fac: LOCAL7,
    sev: 5,
    w: { 'core-switch': 0.3, router: 1 },
    body: (a) =>
      a.r.below(2) === 0
        ? `%OSPF-5-ADJCHG: Process 1, Nbr 10.0.16.${1 + a.r.below(20)} on ${iface(a)} from FULL to DOWN, Neighbor Down: Dead timer expired`
        : `%OSPF-5-ADJCHG: Process 1, Nbr 10.0.16.${1 + a.r.below(20)} on ${iface(a)} from LOADING to FULL, Loading Done`,
  },
  {
    code: '%BGP-5-ADJCHANGE',
    fac: LOCAL7,
    sev: 5,
    w: { router: 0.6 },
    body: (a) => `%BGP-5-ADJCHANGE: neighbor ${a.p.externalHost(a.r)} ${a.r.below(2) === 0 ? 'Up' : 'Down BGP Notification sent'}`,
  },
  {
    code: '%SNMP-3-AUTHFAIL',
    fac: LOCAL7,
    sev: 3,
    w: { 'core-switch': 0.4, 'access-switch': 0.2, router: 0.4 },
    body: (a) => `%SNMP-3-AUTHFAIL: Authentication failure for SNMP req from host ${a.p.internalHost(a.r)}`,
  },
  {
    code: '%SYS-6-LOGOUT',
    fac: LOCAL7,
    sev: 6,
    w: { 'core-switch': 1.5, 'access-switch': 1, router: 1.5 },
    body: (a) => `%SYS-6-LOGOUT: User ${a.p.adminUser(a.r)} has exited tty session ${a.r.below(5) + 1}(${a.p.admin(a.r)})`,
  },
  {
    code: '%PM-4-ERR_DISABLE',
    fac: LOCAL7,
    sev: 4,
    w: { 'access-switch': 0.1 },
    body: (a) => {
      const i = iface(a);
      return `%PM-4-ERR_DISABLE: bpduguard error detected on ${i}, putting ${i} in err-disable state`;
    },
  },
  {
    code: '%STORM_CONTROL-3-FILTERED',
    fac: LOCAL7,
    sev: 3,
    w: { 'access-switch': 0.1 },
    body: (a) => `%STORM_CONTROL-3-FILTERED: A Broadcast storm detected on ${iface(a)}. A packet filter action has been applied on the interface.`,
  },
  {
    code: '%SYS-2-MALLOCFAIL',
    fac: LOCAL7,
    sev: 2,
    w: { 'core-switch': 0.01, router: 0.01 },
    body: (a) => `%SYS-2-MALLOCFAIL: Memory allocation of ${1 << (10 + a.r.below(8))} bytes failed from 0x${hex(a.r, 8)}, alignment 0`,
  },
  {
    code: '%PLATFORM_ENV-1-FAN',
    fac: LOCAL7,
    sev: 1,
    w: { 'core-switch': 0.005, 'access-switch': 0.002 },
    body: () => '%PLATFORM_ENV-1-FAN: Faulty fan detected',
  },
  // Faults only.
  {
    code: '%PLATFORM-2-PS_FAIL',
    role: 'new',
    fac: LOCAL7,
    sev: 2,
    body: (a) => `%PLATFORM-2-PS_FAIL: Power supply ${1 + a.r.below(2)} failed`,
  },
];

// --- Cisco ASA (local4) ---------------------------------------------------------------------------

const ASA: Def[] = [
  {
    code: '%ASA-6-302013',
    fac: LOCAL4,
    sev: 6,
    w: { firewall: 30 },
    body: (a) => {
      const { r, p } = a;
      const dport = p.servicePort(r);
      const ext = p.externalHost(r);
      const sport = p.ephemeralPort(r);
      return `%ASA-6-302013: Built outbound TCP connection ${10_000_000 + r.below(89_999_999)} for outside:${ext}/${dport} (${ext}/${dport}) to inside:${p.internalHost(r)}/${sport} (${nat(r)}/${sport})`;
    },
  },
  {
    code: '%ASA-6-302014',
    fac: LOCAL4,
    sev: 6,
    w: { firewall: 28 },
    body: (a) => {
      const { r, p } = a;
      return `%ASA-6-302014: Teardown TCP connection ${10_000_000 + r.below(89_999_999)} for outside:${p.externalHost(r)}/${p.servicePort(r)} to inside:${p.internalHost(r)}/${p.ephemeralPort(r)} duration ${r.below(2)}:${String(r.below(60)).padStart(2, '0')}:${String(r.below(60)).padStart(2, '0')} bytes ${r.below(2_000_000)} ${r.below(4) === 0 ? 'TCP Reset-I' : 'TCP FINs'}`;
    },
  },
  {
    code: '%ASA-6-302015',
    fac: LOCAL4,
    sev: 6,
    w: { firewall: 10 },
    body: (a) => {
      const { r, p } = a;
      const dns = p.external[r.below(4)]!;
      const sport = p.ephemeralPort(r);
      return `%ASA-6-302015: Built outbound UDP connection ${10_000_000 + r.below(89_999_999)} for outside:${dns}/53 (${dns}/53) to inside:${p.internalHost(r)}/${sport} (${nat(r)}/${sport})`;
    },
  },
  {
    code: '%ASA-4-106023',
    role: 'scan',
    fac: LOCAL4,
    sev: 4,
    w: { firewall: 6 },
    body: (a) => {
      const x = probe(a);
      return `%ASA-4-106023: Deny tcp src outside:${x.src}/${x.sport} dst inside:${x.dst}/${x.dport} by access-group "outside_in" [0x0, 0x0]`;
    },
  },
  {
    code: '%ASA-5-304001',
    fac: LOCAL4,
    sev: 5,
    w: { firewall: 8 },
    body: (a) =>
      `%ASA-5-304001: ${a.p.internalHost(a.r)} Accessed URL ${a.p.externalHost(a.r)}:${a.r.pick(['/index.html', '/api/v1/status', '/login', '/favicon.ico', '/assets/app.js', '/search?q=weather'])}`,
  },
  {
    code: '%ASA-5-111008',
    fac: LOCAL4,
    sev: 5,
    w: { firewall: 0.5 },
    body: (a) =>
      `%ASA-5-111008: User '${a.p.adminUser(a.r)}' executed the '${a.r.pick(['write memory', 'show running-config', 'clear xlate', 'show conn count'])}' command.`,
  },
  {
    code: '%ASA-6-605005',
    fac: LOCAL4,
    sev: 6,
    w: { firewall: 0.5 },
    body: (a) =>
      `%ASA-6-605005: Login permitted from ${a.p.admin(a.r)}/${a.p.ephemeralPort(a.r)} to management:10.0.100.1/ssh for user "${a.p.adminUser(a.r)}"`,
  },
  {
    code: '%ASA-3-710003',
    fac: LOCAL4,
    sev: 3,
    w: { firewall: 0.8 },
    body: (a) =>
      `%ASA-3-710003: TCP access denied by ACL from ${a.p.externalHost(a.r)}/${a.p.ephemeralPort(a.r)} to outside:${nat(a.r)}/${a.r.pick([22, 23, 443])}`,
  },
  {
    code: '%ASA-4-733100',
    fac: LOCAL4,
    sev: 4,
    w: { firewall: 0.1 },
    body: (a) =>
      `%ASA-4-733100: [ Scanning] drop rate-1 exceeded. Current burst rate is ${10 + a.r.below(30)} per second, max configured rate is 10; Current average rate is ${5 + a.r.below(10)} per second, max configured rate is 5; Cumulative total count is ${3000 + a.r.below(20000)}`,
  },
  {
    code: '%ASA-2-106001',
    fac: LOCAL4,
    sev: 2,
    w: { firewall: 0.02 },
    body: (a) =>
      `%ASA-2-106001: Inbound TCP connection denied from ${a.p.externalHost(a.r)}/${a.p.ephemeralPort(a.r)} to ${a.p.internalHost(a.r)}/${a.p.servicePort(a.r)} flags SYN on interface outside`,
  },
  {
    code: '%ASA-1-105005',
    fac: LOCAL4,
    sev: 1,
    w: { firewall: 0.002 },
    body: () => '%ASA-1-105005: (Primary) Lost Failover communications with mate on interface inside',
  },
  // Faults only.
  {
    code: '%ASA-4-411002',
    role: 'down',
    fac: LOCAL4,
    sev: 4,
    body: (a) => `%ASA-4-411002: Line protocol on Interface ${iface(a)}, changed state to down`,
  },
  {
    code: '%ASA-4-411001',
    role: 'up',
    fac: LOCAL4,
    sev: 4,
    body: (a) => `%ASA-4-411001: Line protocol on Interface ${iface(a)}, changed state to up`,
  },
  {
    code: '%ASA-6-113015',
    role: 'authfail',
    fac: LOCAL4,
    sev: 6,
    body: (a) =>
      `%ASA-6-113015: AAA user authentication Rejected : reason = Invalid password : local database : user = ${a.p.badUser(a.r)} : user IP = ${authSource(a)}`,
  },
  {
    code: '%ASA-1-735006',
    role: 'new',
    fac: LOCAL4,
    sev: 1,
    body: () => '%ASA-1-735006: Power Supply Unit Redundancy Lost',
  },
];

// --- Huawei VRP (local7) --------------------------------------------------------------------------

const seqno = (r: Rng): number => r.below(4);
const VRP: Def[] = [
  {
    code: '%%01ACL/6/ACL_RULE_LOG',
    role: 'scan',
    fac: LOCAL7,
    sev: 6,
    w: { 'core-switch': 25, 'access-switch': 3, router: 25 },
    body: (a) => {
      const x = a.f ? scan(a) : flow(a);
      return `%%01ACL/6/ACL_RULE_LOG(l)[${seqno(a.r)}]:Acl=3001, Rule=${5 * (1 + a.r.below(20))}, Action=${a.f || a.r.below(3) !== 0 ? 'deny' : 'permit'}, Protocol=${x.proto}, SrcIp=${x.src}, SrcPort=${x.sport}, DstIp=${x.dst}, DstPort=${x.dport}, Count=1`;
    },
  },
  {
    code: '%%01IFNET/4/LINK_STATE',
    role: 'updown',
    fac: LOCAL7,
    sev: 4,
    w: { 'core-switch': 0.5, 'access-switch': 2, router: 0.3 },
    body: (a) => `%%01IFNET/4/LINK_STATE(l)[${seqno(a.r)}]:The line protocol IP on the interface ${iface(a)} has entered the ${upDown(a).toUpperCase()} state.`,
  },
  {
    code: '%%01SHELL/5/CMDRECORD',
    fac: LOCAL7,
    sev: 5,
    w: { 'core-switch': 3, 'access-switch': 2, router: 3 },
    body: (a) =>
      `%%01SHELL/5/CMDRECORD(s)[${seqno(a.r)}]:Recorded command information. (Task=VT${a.r.below(5)}, Ip=${a.p.admin(a.r)}, VpnName=, User=${a.p.adminUser(a.r)}, AuthenticationMethod="Local-user", Command="${a.r.pick(VRP_CMDS)}")`,
  },
  {
    code: '%%01SSH/5/SSH_USER_LOGIN',
    fac: LOCAL7,
    sev: 5,
    w: { 'core-switch': 1.5, 'access-switch': 1, router: 1.5 },
    body: (a) =>
      `%%01SSH/5/SSH_USER_LOGIN(s)[${seqno(a.r)}]:The SSH user succeeded in logging in. (ServiceType=stelnet, UserName=${a.p.adminUser(a.r)}, UserAddress=${a.p.admin(a.r)}, VPNInstanceName=_public_)`,
  },
  {
    code: '%%01SSH/4/SSH_FAIL',
    role: 'authfail',
    fac: LOCAL7,
    sev: 4,
    w: { 'core-switch': 0.3, 'access-switch': 0.2, router: 0.5 },
    body: (a) =>
      `%%01SSH/4/SSH_FAIL(s)[${seqno(a.r)}]:Failed to login through SSH. (Ip=${authSource(a)}, VpnInstanceName=_public_, UserName=${a.p.badUser(a.r)}, Times=1, FailedReason=Authentication failed)`,
  },
  {
    code: '%%01MSTP/6/SET_PORT_FORWARDING',
    fac: LOCAL7,
    sev: 6,
    w: { 'core-switch': 1, 'access-switch': 3 },
    body: (a) => `%%01MSTP/6/SET_PORT_FORWARDING(l)[${seqno(a.r)}]:In MSTP process 0 instance 0, MSTP set port ${iface(a)} state as forwarding.`,
  },
  {
    code: '%%01SECE/4/ARPMISS',
    fac: LOCAL7,
    sev: 4,
    w: { 'core-switch': 0.3, 'access-switch': 0.3 },
    body: (a) =>
      `%%01SECE/4/ARPMISS(l)[${seqno(a.r)}]:Attack occurred.(AttackType=Arp Miss Attack, SourceInterface=${iface(a)}, SourceIP=${a.p.internalHost(a.r)}, AttackPackets=${30 + a.r.below(100)} packets per second)`,
  },
  {
    code: '%%01OSPF/3/NBR_CHG_DOWN',
    fac: LOCAL7,
    sev: 3,
    w: { 'core-switch': 0.2, router: 0.4 },
    body: (a) =>
      `%%01OSPF/3/NBR_CHG_DOWN(l)[${seqno(a.r)}]:Neighbor event:neighbor state changed to Down. (ProcessId=1, NeighborAddress=10.0.16.${1 + a.r.below(20)}, NeighborEvent=InactivityTimer, NeighborPreviousState=Full, NeighborCurrentState=Down)`,
  },
  {
    code: '%%01DEVM/2/hwBoardFail',
    fac: LOCAL7,
    sev: 2,
    w: { 'core-switch': 0.01, router: 0.01 },
    body: (a) =>
      `%%01DEVM/2/hwBoardFail(l)[${seqno(a.r)}]:The board partially failed. (EntPhysicalIndex=${16842753 + a.r.below(8)}, EntPhysicalName="SLOT ${1 + a.r.below(4)}", EntityTrapFaultID=132106, Reason=The voltage is abnormal)`,
  },
  // Faults only.
  {
    code: '%%01DEVM/2/POWER_FAIL',
    role: 'new',
    fac: LOCAL7,
    sev: 2,
    body: (a) =>
      `%%01DEVM/2/POWER_FAIL(l)[${seqno(a.r)}]:Power supply failed. (EntityPhysicalIndex=${16842753 + a.r.below(2)}, EntPhysicalName="PWR${1 + a.r.below(2)}", EntityTrapFaultID=136960)`,
  },
];

// --- H3C Comware (local7) -------------------------------------------------------------------------

const COMWARE: Def[] = [
  {
    code: '%%10ACL/6/ACL_IPV4_STATIS',
    role: 'scan',
    fac: LOCAL7,
    sev: 6,
    w: { 'core-switch': 25, 'access-switch': 3, router: 25 },
    body: (a) => {
      const x = a.f ? scan(a) : flow(a);
      const n = a.f ? 1 : 1 + a.r.below(20);
      return `%%10ACL/6/ACL_IPV4_STATIS(l): ACL 3000 rule ${5 * a.r.below(20)} ${a.f || a.r.below(3) !== 0 ? 'deny' : 'permit'} ${x.proto} ${x.src}(${x.sport}) -> ${x.dst}(${x.dport}), ${n} packet(s).`;
    },
  },
  {
    code: '%%10SHELL/5/SHELL_LOGIN',
    fac: LOCAL7,
    sev: 5,
    w: { 'core-switch': 1.5, 'access-switch': 1.5, router: 1.5 },
    body: (a) => `%%10SHELL/5/SHELL_LOGIN(l): ${a.p.adminUser(a.r)} logged in from ${a.p.admin(a.r)}.`,
  },
  {
    code: '%%10SHELL/5/SHELL_LOGOUT',
    fac: LOCAL7,
    sev: 5,
    w: { 'core-switch': 1.5, 'access-switch': 1.5, router: 1.5 },
    body: (a) => `%%10SHELL/5/SHELL_LOGOUT(l): ${a.p.adminUser(a.r)} logged out from ${a.p.admin(a.r)}.`,
  },
  {
    code: '%%10SHELL/6/SHELL_CMD',
    fac: LOCAL7,
    sev: 6,
    w: { 'core-switch': 3, 'access-switch': 2, router: 3 },
    body: (a) => `%%10SHELL/6/SHELL_CMD(l): -Line=vty${a.r.below(5)}-IPAddr=${a.p.admin(a.r)}-User=${a.p.adminUser(a.r)}; Command is ${a.r.pick(VRP_CMDS)}`,
  },
  {
    code: '%%10IFNET/3/PHY_UPDOWN',
    role: 'updown',
    fac: LOCAL7,
    sev: 3,
    w: { 'core-switch': 0.3, 'access-switch': 1.5, router: 0.2 },
    body: (a) => `%%10IFNET/3/PHY_UPDOWN(l): Physical state on the interface ${iface(a)} changed to ${upDown(a)}.`,
  },
  {
    code: '%%10IFNET/5/LINK_UPDOWN',
    role: 'updown',
    fac: LOCAL7,
    sev: 5,
    w: { 'core-switch': 0.6, 'access-switch': 3, router: 0.4 },
    body: (a) => `%%10IFNET/5/LINK_UPDOWN(l): Line protocol state on the interface ${iface(a)} changed to ${upDown(a)}.`,
  },
  {
    code: '%%10STP/6/STP_DETECTED_TC',
    fac: LOCAL7,
    sev: 6,
    w: { 'core-switch': 1, 'access-switch': 1.5 },
    body: (a) => `%%10STP/6/STP_DETECTED_TC(l): Instance 0's port ${iface(a)} detected a topology change.`,
  },
  {
    code: '%%10LOGIN/5/LOGIN_FAILED',
    role: 'authfail',
    fac: LOCAL7,
    sev: 5,
    w: { 'core-switch': 0.3, 'access-switch': 0.3, router: 0.5 },
    body: (a) => `%%10LOGIN/5/LOGIN_FAILED(l): ${a.p.badUser(a.r)} failed to log in from ${authSource(a)}.`,
  },
  {
    code: '%%10ARP/4/DUPIFIP',
    fac: LOCAL7,
    sev: 4,
    w: { 'core-switch': 0.2, 'access-switch': 0.2 },
    body: (a) =>
      `%%10ARP/4/DUPIFIP(l): Duplicate address ${a.p.internalHost(a.r)} on interface Vlan-interface${10 * (1 + a.r.below(9))}, sourced from ${hex(a.r, 4)}-${hex(a.r, 4)}-${hex(a.r, 4)}.`,
  },
  {
    code: '%%10DEV/2/BOARD_STATE_FAULT',
    fac: LOCAL7,
    sev: 2,
    w: { 'core-switch': 0.01 },
    body: (a) => `%%10DEV/2/BOARD_STATE_FAULT(l): Board state changed to Fault on slot ${1 + a.r.below(4)}, type is unknown.`,
  },
  // Faults only.
  {
    code: '%%10DEV/2/POWER_FAILED',
    role: 'new',
    fac: LOCAL7,
    sev: 2,
    body: (a) => `%%10DEV/2/POWER_FAILED(l): Power ${1 + a.r.below(2)} failed.`,
  },
];

// --- Juniper Junos (RFC 5424 with structured data) ------------------------------------------------

const SD = 'junos@2636.1.1.1.2.129';
const service = (port: number): string => SERVICES[port] ?? `tcp-${port}`;
const ZONES = ['trust', 'dmz'];

const JUNOS: Def[] = [
  {
    code: 'RT_FLOW_SESSION_CREATE',
    fac: USER,
    sev: 6,
    app: 'RT_FLOW',
    w: { firewall: 30 },
    body: (a) => {
      const { r } = a;
      const x = flow(a);
      const natAddr = nat(r);
      const natPort = a.p.ephemeralPort(r);
      const id = 100_000 + r.below(9_000_000);
      const zone = r.pick(ZONES);
      const proto = x.proto === 'udp' ? 17 : 6;
      return `RT_FLOW_SESSION_CREATE [${SD} source-address="${x.src}" source-port="${x.sport}" destination-address="${x.dst}" destination-port="${x.dport}" service-name="${service(x.dport)}" nat-source-address="${natAddr}" nat-source-port="${natPort}" nat-destination-address="${x.dst}" nat-destination-port="${x.dport}" src-nat-rule-name="snat-internet" dst-nat-rule-name="None" protocol-id="${proto}" policy-name="${zone}-to-untrust" source-zone-name="${zone}" destination-zone-name="untrust" session-id-32="${id}"] session created ${x.src}/${x.sport}->${x.dst}/${x.dport} ${service(x.dport)} ${natAddr}/${natPort}->${x.dst}/${x.dport} snat-internet None ${proto} ${zone}-to-untrust ${zone} untrust ${id}`;
    },
  },
  {
    code: 'RT_FLOW_SESSION_CLOSE',
    fac: USER,
    sev: 6,
    app: 'RT_FLOW',
    w: { firewall: 28 },
    body: (a) => {
      const { r } = a;
      const x = flow(a);
      const reason = r.pick(['TCP FIN', 'TCP FIN', 'idle Timeout', 'TCP RST']);
      const id = 100_000 + r.below(9_000_000);
      const proto = x.proto === 'udp' ? 17 : 6;
      return `RT_FLOW_SESSION_CLOSE [${SD} reason="${reason}" source-address="${x.src}" source-port="${x.sport}" destination-address="${x.dst}" destination-port="${x.dport}" service-name="${service(x.dport)}" protocol-id="${proto}" packets-from-client="${1 + r.below(500)}" bytes-from-client="${r.below(500_000)}" packets-from-server="${1 + r.below(800)}" bytes-from-server="${r.below(2_000_000)}" elapsed-time="${r.below(600)}" session-id-32="${id}"] session closed ${reason}: ${x.src}/${x.sport}->${x.dst}/${x.dport} ${service(x.dport)} ${proto} ${id}`;
    },
  },
  {
    code: 'RT_FLOW_SESSION_DENY',
    role: 'scan',
    fac: USER,
    sev: 6,
    app: 'RT_FLOW',
    w: { firewall: 5 },
    body: (a) => {
      const x = probe(a);
      return `RT_FLOW_SESSION_DENY [${SD} source-address="${x.src}" source-port="${x.sport}" destination-address="${x.dst}" destination-port="${x.dport}" service-name="None" protocol-id="6" icmp-type="0" policy-name="default-deny" source-zone-name="untrust" destination-zone-name="trust" reason="policy deny"] session denied ${x.src}/${x.sport}->${x.dst}/${x.dport} None 6(0) default-deny untrust trust policy deny`;
    },
  },
  {
    code: 'PFE_FW_SYSLOG_IP',
    fac: USER,
    sev: 6,
    app: 'fpc0',
    role: 'scan',
    w: { router: 20 },
    body: (a) => {
      const x = a.f ? scan(a) : flow(a);
      const i = `${iface(a)}.0`;
      const act = a.f || a.r.below(3) !== 0 ? 'D' : 'A';
      const n = a.f ? 1 : 1 + a.r.below(5);
      return `PFE_FW_SYSLOG_IP [${SD} interface-name="${i}" action="${act}" protocol-name="${x.proto}" source-address="${x.src}" destination-address="${x.dst}" source-port="${x.sport}" destination-port="${x.dport}" count="${n}"] FW: ${i} ${act} ${x.proto} ${x.src} ${x.dst} ${x.sport} ${x.dport} (${n} packets)`;
    },
  },
  {
    code: 'RT_SCREEN_TCP',
    fac: USER,
    sev: 4,
    app: 'RT_IDS',
    w: { firewall: 2 },
    body: (a) => {
      const x = probe(a);
      // One interface, named in the structured data and in the text alike.
      const i = iface(a);
      return `RT_SCREEN_TCP [${SD} attack-name="SYN flood!" source-address="${x.src}" source-port="${x.sport}" destination-address="${x.dst}" destination-port="${x.dport}" source-zone-name="untrust" interface-name="${i}" action="drop"] SYN flood! source: ${x.src}, destination: ${x.dst}, zone name: untrust, interface name: ${i}, action: drop`;
    },
  },
  {
    code: 'SNMP_TRAP_LINK_DOWN',
    role: 'down',
    fac: DAEMON,
    sev: 4,
    app: 'mib2d',
    pid: true,
    w: { router: 0.4, firewall: 0.1 },
    body: (a) => {
      const i = iface(a);
      const idx = 500 + a.d.interfaces.indexOf(i);
      return `SNMP_TRAP_LINK_DOWN [${SD} snmp-interface-index="${idx}" admin-status="up(1)" operational-status="down(2)" interface-name="${i}"] ifIndex ${idx}, ifAdminStatus up(1), ifOperStatus down(2), ifName ${i}`;
    },
  },
  {
    code: 'SNMP_TRAP_LINK_UP',
    role: 'up',
    fac: DAEMON,
    sev: 6,
    app: 'mib2d',
    pid: true,
    w: { router: 0.4, firewall: 0.1 },
    body: (a) => {
      const i = iface(a);
      const idx = 500 + a.d.interfaces.indexOf(i);
      return `SNMP_TRAP_LINK_UP [${SD} snmp-interface-index="${idx}" admin-status="up(1)" operational-status="up(1)" interface-name="${i}"] ifIndex ${idx}, ifAdminStatus up(1), ifOperStatus up(1), ifName ${i}`;
    },
  },
  {
    code: 'UI_COMMIT',
    fac: USER,
    sev: 5,
    app: 'mgd',
    pid: true,
    w: { router: 1, firewall: 0.3 },
    body: (a) => {
      const u = a.p.adminUser(a.r);
      return `UI_COMMIT [${SD} username="${u}" command="commit" message="none"] User '${u}' requested 'commit' operation (comment: none)`;
    },
  },
  {
    code: 'UI_CMDLINE_READ_LINE',
    fac: USER,
    sev: 6,
    app: 'mgd',
    pid: true,
    w: { router: 2.5, firewall: 0.8 },
    body: (a) => {
      const u = a.p.adminUser(a.r);
      const c = a.r.pick(JUNOS_CMDS);
      return `UI_CMDLINE_READ_LINE [${SD} username="${u}" command="${c} "] User '${u}', command '${c} '`;
    },
  },
  {
    code: 'SSHD_LOGIN_FAILED',
    role: 'authfail',
    fac: AUTH,
    sev: 6,
    app: 'sshd',
    pid: true,
    w: { router: 0.5, firewall: 0.3 },
    body: (a) => {
      const u = a.p.badUser(a.r);
      const src = authSource(a);
      return `SSHD_LOGIN_FAILED [${SD} username="${u}" source-address="${src}"] Login failed for user '${u}' from host '${src}'`;
    },
  },
  {
    code: 'BGP_NEIGHBOR_STATE_CHANGED',
    fac: DAEMON,
    sev: 4,
    app: 'rpd',
    pid: true,
    w: { router: 0.3 },
    body: (a) => {
      const peer = `${a.p.externalHost(a.r)} (External AS ${64500 + a.r.below(20)})`;
      const [from, to, ev] = a.r.below(2) === 0 ? ['Established', 'Idle', 'RecvNotify'] : ['OpenConfirm', 'Established', 'RecvKeepAlive'];
      return `BGP_NEIGHBOR_STATE_CHANGED [${SD} peer-name="${peer}" old-state="${from}" event="${ev}" new-state="${to}"] BGP peer ${peer} changed state from ${from} to ${to} (event ${ev}) (instance master)`;
    },
  },
  // Faults only.
  {
    code: 'CHASSISD_PSU_FAILURE',
    role: 'new',
    fac: DAEMON,
    sev: 2,
    app: 'chassisd',
    pid: true,
    body: (a) => {
      const n = a.r.below(2);
      return `CHASSISD_PSU_FAILURE [${SD} fru-name="PEM ${n}" fru-slot="${n}"] Power supply PEM ${n} failed: output voltage out of range`;
    },
  },
];

// --- Linux servers (RFC 3164, or RFC 5424 as rsyslog forwards it) --------------------------------

const LINUX: Def[] = [
  {
    code: 'sshd',
    fac: AUTH,
    sev: 6,
    app: 'sshd',
    pid: true,
    w: { server: 3 },
    body: (a) =>
      `Accepted publickey for ${a.r.pick(['deploy', 'ansible', ...a.p.adminUsers])} from ${a.r.below(2) === 0 ? a.p.admin(a.r) : a.p.internalHost(a.r)} port ${a.p.ephemeralPort(a.r)} ssh2: ED25519 SHA256:${hex(a.r, 16)}`,
  },
  {
    code: 'sshd',
    fac: AUTH,
    sev: 6,
    app: 'sshd',
    pid: true,
    role: 'authfail',
    w: { server: 1.2 },
    body: (a) => {
      const u = a.p.badUser(a.r);
      return `Failed password for ${u === 'root' || a.r.below(2) === 0 ? '' : 'invalid user '}${u} from ${authSource(a)} port ${a.p.ephemeralPort(a.r)} ssh2`;
    },
  },
  {
    code: 'sshd',
    fac: AUTHPRIV,
    sev: 6,
    app: 'sshd',
    pid: true,
    w: { server: 3 },
    body: (a) =>
      `pam_unix(sshd:session): session ${a.r.below(2) === 0 ? 'opened' : 'closed'} for user ${a.r.pick(['deploy', 'ansible', ...a.p.adminUsers])}(uid=${1000 + a.r.below(8)}) by (uid=0)`,
  },
  {
    code: 'CRON',
    fac: CRON,
    sev: 6,
    app: 'CRON',
    pid: true,
    w: { server: 4 },
    body: (a) => `(root) CMD (${a.r.pick(CRON_JOBS)})`,
  },
  {
    code: 'systemd',
    fac: DAEMON,
    sev: 6,
    app: 'systemd',
    pid: true,
    w: { server: 3 },
    body: (a) => `Started ${a.r.pick(UNITS)}.`,
  },
  {
    code: 'systemd-logind',
    fac: AUTH,
    sev: 6,
    app: 'systemd-logind',
    pid: true,
    w: { server: 2 },
    body: (a) => `New session ${1 + a.r.below(5000)} of user ${a.r.pick(['deploy', 'ansible', ...a.p.adminUsers])}.`,
  },
  {
    code: 'sudo',
    fac: AUTHPRIV,
    sev: 5,
    app: 'sudo',
    w: { server: 3 },
    body: (a) => {
      const u = a.p.adminUser(a.r);
      return `    ${u} : TTY=pts/${a.r.below(4)} ; PWD=/home/${u} ; USER=root ; COMMAND=${a.r.pick(LINUX_CMDS)}`;
    },
  },
  {
    code: 'kernel',
    fac: KERN,
    sev: 4,
    app: 'kernel',
    role: 'scan',
    w: { server: 2.5 },
    body: (a) => {
      const x = probe(a);
      return `[UFW BLOCK] IN=eth0 OUT= MAC=${mac(a.r)}:${mac(a.r)}:08:00 SRC=${x.src} DST=${x.dst} LEN=60 TOS=0x00 PREC=0x00 TTL=${40 + a.r.below(24)} ID=${a.r.below(65536)} DF PROTO=TCP SPT=${x.sport} DPT=${x.dport} WINDOW=64240 RES=0x00 SYN URGP=0`;
    },
  },
  {
    code: 'chronyd',
    fac: DAEMON,
    sev: 6,
    app: 'chronyd',
    pid: true,
    w: { server: 0.5 },
    body: (a) => `Selected source 10.0.100.${2 + a.r.below(3)}`,
  },
  {
    code: 'kernel',
    fac: KERN,
    sev: 3,
    app: 'kernel',
    w: { server: 0.05 },
    body: (a) =>
      `Out of memory: Killed process ${100 + a.r.below(60000)} (${a.r.pick(PROCS)}) total-vm:${1024 + a.r.below(16_000_000)}kB, anon-rss:${a.r.below(8_000_000)}kB, file-rss:0kB, shmem-rss:0kB, UID:${1000 + a.r.below(8)} pgtables:${a.r.below(20000)}kB oom_score_adj:0`,
  },
  {
    code: 'smartd',
    fac: DAEMON,
    sev: 2,
    app: 'smartd',
    pid: true,
    w: { server: 0.005 },
    body: (a) => `Device: /dev/${a.r.pick(['sda', 'sdb', 'nvme0n1'])} [SAT], FAILED SMART self-check. BACK UP DATA NOW!`,
  },
  {
    code: 'kernel',
    fac: KERN,
    sev: 0,
    app: 'kernel',
    w: { server: 0.0005 },
    body: () => 'Kernel panic - not syncing: Fatal exception in interrupt',
  },
  // Faults only (the link flap's down and up, the new event).
  {
    code: 'kernel',
    fac: KERN,
    sev: 6,
    app: 'kernel',
    role: 'down',
    body: (a) => `e1000e 0000:00:1f.6 ${iface(a)}: NIC Link is Down`,
  },
  {
    code: 'kernel',
    fac: KERN,
    sev: 6,
    app: 'kernel',
    role: 'up',
    body: (a) => `e1000e 0000:00:1f.6 ${iface(a)}: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: None`,
  },
  {
    code: 'mcelog',
    role: 'new',
    fac: DAEMON,
    sev: 2,
    app: 'mcelog',
    pid: true,
    body: (a) => `Hardware event. This is not a software error. CPU ${a.r.below(16)} BANK ${a.r.below(8)} MCE: memory read error on DIMM_A${1 + a.r.below(4)}`,
  },
];

// --- the table ------------------------------------------------------------------------------------

const CISCO_TYPE_RE = /^%([A-Z0-9_]+)-\d-([A-Za-z0-9_]+)$/;
const VRP_TYPE_RE = /^%%\d\d([A-Za-z0-9_]+)\/\d\/([A-Za-z0-9_]+)$/;

function eventTypeOf(os: DeviceOs, code: string): string {
  if (os === 'vrp' || os === 'comware') {
    const m = VRP_TYPE_RE.exec(code);
    if (m) return `${m[1]}/${m[2]}`;
  }
  if (os === 'ios' || os === 'asa') {
    const m = CISCO_TYPE_RE.exec(code);
    if (m) return `${m[1]}-${m[2]}`;
  }
  return code;
}

const TS_OF: Record<DeviceOs, number> = { ios: TS_BSD, asa: TS_ASA, vrp: TS_HUAWEI, comware: TS_H3C, junos: TS_ISO, linux: TS_BSD };

/** Every template, normal and fault-only; `id` is the index. */
export const TEMPLATES: readonly Template[] = (() => {
  const out: Template[] = [];
  const add = (os: DeviceOs, d: Def, rfc5424: boolean): void => {
    out.push({
      id: out.length,
      code: d.code,
      eventType: eventTypeOf(os, d.code),
      os,
      rfc5424,
      facility: d.fac,
      severity: d.sev,
      ts: rfc5424 ? TS_ISO : TS_OF[os],
      app: d.app,
      pid: d.pid ?? false,
      weights: d.w ?? {},
      role: d.role,
      body: d.body,
    });
  };
  for (const [os, defs] of [
    ['ios', IOS],
    ['asa', ASA],
    ['vrp', VRP],
    ['comware', COMWARE],
    ['junos', JUNOS],
  ] as const)
    for (const d of defs) add(os, d, os === 'junos');
  for (const d of LINUX) add('linux', d, false);
  for (const d of LINUX) add('linux', d, true);
  return out;
})();

/** The templates a device logs in normal traffic, with their weights. */
export function templatesFor(d: Device): { t: Template; w: number }[] {
  const out: { t: Template; w: number }[] = [];
  for (const t of TEMPLATES) {
    if (t.os !== d.os || (t.os === 'linux' && t.rfc5424 !== d.rfc5424)) continue;
    const w = t.weights[d.kind];
    if (w !== undefined && w > 0) out.push({ t, w });
  }
  return out;
}

/** The templates of a device's OS and format that faults use for `roles`. */
export function templatesWithRole(d: Device, ...roles: Role[]): Template[] {
  return TEMPLATES.filter((t) => t.os === d.os && (t.os !== 'linux' || t.rfc5424 === d.rfc5424) && t.role !== undefined && roles.includes(t.role));
}

/** The tag: the hostname and what follows it up to the body. */
export function tagOf(t: Template, d: Device, r: Rng): string {
  const pid = 1000 + r.below(60000);
  switch (t.os) {
    case 'ios':
      return `${d.name} ${1 + r.below(99999)}: `;
    case 'asa':
      return `${d.name} : `;
    case 'vrp':
    case 'comware':
      return `${d.name} `;
    case 'junos':
      return `${d.name} ${t.app} ${t.pid ? pid : '-'} `;
    default:
      if (t.rfc5424) return `${d.name} ${t.app} ${t.pid ? pid : '-'} - - `;
      return t.pid ? `${d.name} ${t.app}[${pid}]: ` : `${d.name} ${t.app}: `;
  }
}
