/**
 * The seeded model of a network that `device-syslog` lines come from: devices (kind, vendor,
 * hostname, management address, interfaces) and the address and port populations their logs
 * mention. Built once per (seed, device count); the same for every task.
 */
import { fmix32 } from '@qitian/api';

export const GOLDEN = 0x9e3779b9;

/** A small counter-based random stream for building the model and the pools (not the hot path). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed | 0;
  }
  next(): number {
    this.s = (this.s + GOLDEN) | 0;
    return fmix32(this.s);
  }
  below(n: number): number {
    return this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.next() % xs.length]!;
  }
  /** A draw in [0, 1). */
  unit(): number {
    return this.next() / 4294967296;
  }
}

/** Mixes any number of integers into a seed. */
export function mix(...xs: number[]): number {
  let h = 0x27d4eb2f;
  for (const x of xs) h = fmix32((h ^ fmix32(x | 0)) + GOLDEN);
  return h;
}

export type DeviceKind = 'core-switch' | 'access-switch' | 'router' | 'firewall' | 'server';
/** The operating system, which decides the log format. */
export type DeviceOs = 'ios' | 'asa' | 'vrp' | 'comware' | 'junos' | 'linux';
/** The vendor, as the parse bolt names it (`linux` for servers, which the contract calls null). */
export type DeviceVendor = 'cisco' | 'huawei' | 'h3c' | 'juniper' | 'linux';

export interface Device {
  readonly index: number;
  /** The hostname in its log headers: `sw-core-01`, `sw-acc-07`, `rt-02`, `fw-01`, `srv-05`. */
  readonly name: string;
  readonly kind: DeviceKind;
  readonly os: DeviceOs;
  readonly vendor: DeviceVendor;
  /** Management address, the source of its syslog packets. */
  readonly address: string;
  /** `address:514`, the spout's `peer` field. */
  readonly peer: string;
  /** Interface names as the device spells them. */
  readonly interfaces: readonly string[];
  /** Linux servers only: sends RFC 5424 (rsyslog's protocol-23 format) rather than RFC 3164. */
  readonly rfc5424: boolean;
  /** Relative share of the traffic. */
  readonly weight: number;
}

const OS_VENDOR: Record<DeviceOs, DeviceVendor> = {
  ios: 'cisco',
  asa: 'cisco',
  vrp: 'huawei',
  comware: 'h3c',
  junos: 'juniper',
  linux: 'linux',
};

const KIND_PREFIX: Record<DeviceKind, string> = {
  'core-switch': 'sw-core-',
  'access-switch': 'sw-acc-',
  router: 'rt-',
  firewall: 'fw-',
  server: 'srv-',
};
/** Third octet of the first management subnet of each kind (each kind has 8 /24s: 2000 devices). */
const KIND_SUBNET: Record<DeviceKind, number> = { 'core-switch': 0, 'access-switch': 8, router: 16, firewall: 24, server: 32 };
/** Share of the traffic: firewalls log every session, access switches little. */
const KIND_WEIGHT: Record<DeviceKind, number> = { 'core-switch': 4, 'access-switch': 1.5, router: 3, firewall: 5, server: 3 };

/** The first devices, so that even a small network has every vendor and kind. */
const FIRST: readonly [DeviceKind, DeviceOs][] = [
  ['core-switch', 'ios'],
  ['access-switch', 'vrp'],
  ['access-switch', 'comware'],
  ['router', 'junos'],
  ['firewall', 'asa'],
  ['server', 'linux'],
  ['firewall', 'junos'],
  ['core-switch', 'vrp'],
  ['router', 'ios'],
  ['server', 'linux'],
  ['access-switch', 'ios'],
];

const KIND_DRAW: readonly [DeviceKind, number][] = [
  ['access-switch', 45],
  ['server', 27],
  ['router', 12],
  ['firewall', 8],
  ['core-switch', 8],
];
const OS_DRAW: Record<DeviceKind, readonly [DeviceOs, number][]> = {
  'core-switch': [
    ['ios', 50],
    ['vrp', 35],
    ['comware', 15],
  ],
  'access-switch': [
    ['ios', 40],
    ['vrp', 30],
    ['comware', 30],
  ],
  router: [
    ['ios', 40],
    ['junos', 40],
    ['vrp', 20],
  ],
  firewall: [
    ['asa', 50],
    ['junos', 50],
  ],
  server: [['linux', 1]],
};

function draw<T>(r: Rng, table: readonly [T, number][]): T {
  let total = 0;
  for (const [, w] of table) total += w;
  let x = r.unit() * total;
  for (const [v, w] of table) {
    if (x < w) return v;
    x -= w;
  }
  return table[table.length - 1]![0];
}

function interfacesOf(kind: DeviceKind, os: DeviceOs): string[] {
  const out: string[] = [];
  const ports = kind === 'access-switch' ? 48 : kind === 'core-switch' ? 24 : 8;
  switch (os) {
    case 'ios':
      if (kind === 'router') for (let p = 0; p < 4; p++) out.push(`GigabitEthernet0/0/${p}`);
      else {
        for (let p = 1; p <= ports; p++) out.push(`GigabitEthernet1/0/${p}`);
        for (let p = 1; p <= 4; p++) out.push(`TenGigabitEthernet1/1/${p}`);
      }
      break;
    case 'asa':
      for (let p = 0; p < 4; p++) out.push(`GigabitEthernet0/${p}`);
      break;
    case 'vrp':
      for (let p = 1; p <= ports; p++) out.push(`GigabitEthernet0/0/${p}`);
      for (let p = 1; p <= 4; p++) out.push(`XGigabitEthernet0/0/${p}`);
      break;
    case 'comware':
      for (let p = 1; p <= ports; p++) out.push(`GigabitEthernet1/0/${p}`);
      for (let p = 49; p <= 52; p++) out.push(`Ten-GigabitEthernet1/0/${p}`);
      break;
    case 'junos':
      for (let p = 0; p < ports; p++) out.push(`ge-0/0/${p}`);
      for (let p = 0; p < 2; p++) out.push(`xe-0/1/${p}`);
      break;
    case 'linux':
      out.push('eth0', 'eth1', 'ens192');
      break;
  }
  return out;
}

/** Builds the devices of a network of `count` devices for `seed`. */
export function buildDevices(seed: number, count: number): Device[] {
  const r = new Rng(mix(seed, 0xdec1ce));
  const perKind: Record<DeviceKind, number> = { 'core-switch': 0, 'access-switch': 0, router: 0, firewall: 0, server: 0 };
  const devices: Device[] = [];
  let servers = 0;
  for (let i = 0; i < count; i++) {
    let kind: DeviceKind;
    let os: DeviceOs;
    if (i < FIRST.length) [kind, os] = FIRST[i]!;
    else {
      kind = draw(r, KIND_DRAW);
      os = draw(r, OS_DRAW[kind]);
    }
    const n = perKind[kind]++;
    const name = `${KIND_PREFIX[kind]}${n < 9 ? '0' : ''}${n + 1}`;
    const address = `10.0.${KIND_SUBNET[kind] + Math.floor(n / 250)}.${(n % 250) + 1}`;
    const rfc5424 = os === 'linux' && servers++ % 2 === 1;
    devices.push({
      index: i,
      name,
      kind,
      os,
      vendor: OS_VENDOR[os],
      address,
      peer: `${address}:514`,
      interfaces: interfacesOf(kind, os),
      rfc5424,
      weight: KIND_WEIGHT[kind],
    });
  }
  return devices;
}

// --- address and port populations ----------------------------------------------------------------

const EXTERNAL_NETS = ['198.51.100.', '203.0.113.', '192.0.2.'];

/** The addresses and ports the logs talk about, skewed so that Top-N statistics have something to find. */
export class Population {
  /** Internal hosts (10.1-16.x.y); the first 32 are the busy ones. */
  readonly internal: readonly string[];
  /**
   * External hosts in the documentation ranges (.1 to .199: faults' attackers come from .200 to
   * .254, so that their lines can be told apart); the first 16 are popular services.
   */
  readonly external: readonly string[];
  /** Administrators' workstations (10.0.100.x), where logins and config changes come from. */
  readonly admins: readonly string[];
  readonly adminUsers = ['admin', 'netops', 'jdoe', 'mchen', 'lwang', 'backup', 'monitor'] as const;
  readonly badUsers = ['root', 'admin', 'test', 'oracle', 'guest', 'ubuntu', 'pi', 'postgres', 'user', 'cisco', 'support'] as const;
  readonly servicePorts = [443, 443, 443, 80, 80, 53, 53, 22, 123, 25, 993, 3389, 445, 8080, 3306, 5432, 161, 389, 636, 8443] as const;

  constructor(seed: number) {
    const r = new Rng(mix(seed, 0xadd7));
    const internal: string[] = [];
    for (let i = 0; i < 2048; i++) internal.push(`10.${1 + r.below(16)}.${r.below(256)}.${1 + r.below(254)}`);
    const external: string[] = [];
    for (let i = 0; i < 1024; i++) external.push(`${EXTERNAL_NETS[r.below(3)]}${1 + r.below(199)}`);
    const admins: string[] = [];
    for (let i = 0; i < 12; i++) admins.push(`10.0.100.${10 + i * 3}`);
    this.internal = internal;
    this.external = external;
    this.admins = admins;
  }

  /** An internal host: 3 in 8 are one of the 32 busy ones. */
  internalHost(r: Rng): string {
    const x = r.next();
    return (x & 7) < 3 ? this.internal[(x >>> 3) & 31]! : this.internal[(x >>> 3) & 2047]!;
  }
  /** An external host: half are one of the 16 popular ones. */
  externalHost(r: Rng): string {
    const x = r.next();
    return (x & 1) === 0 ? this.external[(x >>> 1) & 15]! : this.external[(x >>> 1) & 1023]!;
  }
  admin(r: Rng): string {
    return r.pick(this.admins);
  }
  adminUser(r: Rng): string {
    return r.pick(this.adminUsers);
  }
  badUser(r: Rng): string {
    return r.pick(this.badUsers);
  }
  servicePort(r: Rng): number {
    return r.pick(this.servicePorts);
  }
  ephemeralPort(r: Rng): number {
    return 32768 + r.below(28232);
  }
}
