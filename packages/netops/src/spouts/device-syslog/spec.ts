import { type ComponentSpec, type ConfigOf, field } from '@qitian/api';

export const deviceSyslogSpoutFields = {
  seed: field.int({
    description: 'Seed of the network model and the traffic. The same seed, config and task index always give the same lines.',
    default: 1,
  }),
  devices: field.int({
    description:
      'How many devices the network has. The first eleven cover every kind and vendor (a Cisco core switch, Huawei and H3C access ' +
      'switches, a Junos router, an ASA and an SRX firewall, Linux servers...); the rest are drawn by the seed.',
    default: 40,
    min: 1,
    max: 2000,
  }),
  start: field.string({
    description: 'When the simulated clock starts: `now` or an ISO time such as `2024-03-01T08:00:00Z`. Header timestamps are UTC.',
    default: 'now',
  }),
  speedup: field.number({
    description: 'Simulated seconds per real second: 60 makes a 5-minute window pass in 5 real seconds. Used when `rate` is above 0.',
    default: 1,
    min: 0.000001,
  }),
  rate: field.number({
    description:
      'Lines per real second per task, paced like a token bucket (at most 50 ms of backlog is caught up). 0 emits as fast as the ' +
      'topology takes them, and the simulated clock then moves by `1000 / baseRate` ms per line.',
    default: 1000,
    min: 0,
  }),
  baseRate: field.number({
    description: 'Lines per simulated second when `rate` is 0 (benchmarks): sets how many lines a simulated window holds.',
    default: 1000,
    min: 0.000001,
  }),
  rateSteps: field.list({
    description:
      'Load steps: a list of `{at, factor}`; from simulated time `at` (a duration after `start`, e.g. `30s`) on, the normal ' +
      'traffic is `factor` times the baseline (`rate`, or `baseRate` when `rate` is 0), until the next step.',
    items: 'any',
    default: [],
  }),
  faults: field.list({
    description:
      'Fault scenarios: a list of `{kind, at, duration, device?, source?, rate?}`. `kind` is `link-flap`, `port-scan`, ' +
      '`auth-storm` or `new-event`; `at` and `duration` are durations on the simulated clock; `device` a device name ' +
      "(`sw-acc-01`) or index; `source` the attacking IPv4 address; `rate` the fault's lines per simulated second, added " +
      'to the normal traffic (default: a share of the baseline density, at least 0.5: link-flap 1%, port-scan 10%, ' +
      'auth-storm 5%, new-event 0.5%).',
    items: 'any',
    default: [],
  }),
  count: field.int({
    description: 'Lines per task before the spout ends; 0 never ends.',
    default: 0,
    min: 0,
  }),
} as const;

export type DeviceSyslogSpoutConfig = ConfigOf<typeof deviceSyslogSpoutFields>;

export const deviceSyslogSpoutSpec: ComponentSpec<typeof deviceSyslogSpoutFields> = {
  summary: 'Emits realistic, seeded syslog from a simulated network of switches, routers, firewalls and servers, with injectable faults.',
  description:
    'The demo source and benchmark load of the network-ops components. Emits `line`, `peer` and `receivedAt` on `default` ' +
    '(the raw syslog fields).\n\n' +
    '**The network.** `devices` devices (default 40) of five kinds: core and access switches, routers, firewalls and Linux ' +
    'servers, running Cisco IOS, Cisco ASA, Huawei VRP, H3C Comware, Juniper Junos or Linux. Each has a hostname ' +
    '(`sw-core-01`, `sw-acc-07`, `rt-02`, `fw-01`, `srv-05`), a management address in 10.0.0.0/16 (the `peer`, as ' +
    '`10.0.x.y:514`) and interfaces named as its OS names them. Firewalls log the most (sessions), then core switches and ' +
    'routers (ACL logs), servers, and access switches. Their logs mention internal hosts (10.1-16.x.y, with 32 busy ones), ' +
    "administrators' workstations (10.0.100.x), external hosts in the documentation ranges (198.51.100/24, 203.0.113/24, " +
    '192.0.2/24, .1-.199, with 16 popular ones) and skewed service ports, so that Top-N statistics have something to find.\n\n' +
    '**The lines**, as each OS sends them, with PRI = facility x 8 + severity: IOS `<189>Mar  1 08:00:00 sw-core-01 1043: ' +
    '%LINK-3-UPDOWN: ...` (RFC 3164, local7; ACL logs, link and line-protocol changes, logins, config changes, 802.1X, MAC ' +
    'flaps, OSPF/BGP); ASA `<166>Mar 01 2024 08:00:00 fw-01 : %ASA-6-302013: Built outbound TCP connection ...` (local4); ' +
    'Huawei `<188>Mar  1 2024 08:00:00 sw-acc-01 %%01IFNET/4/LINK_STATE(l)[0]:...`; H3C `<189>Mar  1 08:00:00 2024 ' +
    'sw-acc-02 %%10SHELL/5/SHELL_LOGIN(l): ...`; Junos RFC 5424 with structured data `<14>1 2024-03-01T08:00:00.123Z fw-02 ' +
    'RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.129 source-address="..." ...] session created ...`; Linux ' +
    '`sshd`, `CRON`, `systemd`, `sudo`, `kernel` firewall drops, in RFC 3164 or (every other server) RFC 5424. The ' +
    'severity mix is realistic: about three quarters info (6, mostly session and ACL logs), a sixth notice (5), 7% ' +
    'warning (4), 1-2% err (3) and about 0.15% crit, alert and emerg (0-2).\n\n' +
    '**Time.** A simulated clock starts at `start`. With `rate` above 0 it runs `speedup` times real time and the spout ' +
    'emits `rate` lines per real second (so `rate / speedup` per simulated second); with `rate: 0` the spout emits as fast ' +
    'as it is asked and the clock moves `1000 / baseRate` ms per line. `receivedAt` and the header timestamps come from ' +
    'that clock. `rateSteps` and `faults` are placed on the simulated clock (with `speedup: 1`, real seconds after the ' +
    'start too).\n\n' +
    '**Faults** add their own lines to the normal traffic during their window: `link-flap`, one interface of one device ' +
    '(default: the first access switch) going down and up in turn (IOS LINK-3-UPDOWN and LINEPROTO-5-UPDOWN, Huawei ' +
    'IFNET/LINK_STATE, H3C PHY_UPDOWN and LINK_UPDOWN, Junos SNMP_TRAP_LINK_DOWN/UP, ASA 411002/411001, Linux NIC link); ' +
    '`port-scan`, one source (default: an address from .200-.254 of the documentation ranges, which normal traffic never ' +
    "uses) sweeping ports 1-1024 of two internal hosts, as the device's deny logs (default: the first firewall; " +
    'IOS SEC-6-IPACCESSLOGP, ASA 106023, Junos RT_FLOW_SESSION_DENY...); `auth-storm`, login failures from one source or ' +
    'three (default device: the first server, sshd `Failed password`; IOS SEC_LOGIN-4-LOGIN_FAILED, Huawei SSH/4/SSH_FAIL...); ' +
    '`new-event`, an event type normal traffic never has (default device: the first core switch; IOS ' +
    '`%PLATFORM-2-PS_FAIL`, Huawei DEVM/POWER_FAIL, Junos CHASSISD_PSU_FAILURE...).\n\n' +
    '**Determinism.** Line i of a task is a pure function of (seed, task index, i) and the schedule (rate, speedup, ' +
    'baseRate, steps, faults), whatever the real pacing: a failed line is regenerated, not kept. Rates and faults are per ' +
    'task. With acking on, the line number is the message id, and the task saves `{next, start}` as its checkpoint (the ' +
    'lowest line not yet acked and the simulated start, so that a restart with `start: now` keeps its timeline). The ' +
    'counter `fault_lines` (reason: the fault kind) counts the fault lines emitted. The model is exported as ' +
    '`DeviceSyslogModel` for tests and benchmarks.',
  fields: deviceSyslogSpoutFields,
  examples: [
    {
      title: 'A demo network: 5 simulated minutes pass in 5 seconds, with a port scan and a link flap',
      yaml:
        'id: network\ntype: device-syslog\nconfig:\n  devices: 40\n  rate: 2000\n  speedup: 60\n  faults:\n' +
        '    - { kind: port-scan, at: 2m, duration: 1m, rate: 20 }\n' +
        '    - { kind: link-flap, at: 3m, duration: 30s, device: sw-acc-01 }',
    },
    {
      title: 'Benchmark load stepping from 1x to 5x and back, as fast as the topology goes',
      yaml:
        'id: load\ntype: device-syslog\nparallelism: 2\nconfig:\n  rate: 0\n  baseRate: 2000\n  seed: 42\n  rateSteps:\n' +
        '    - { at: 30s, factor: 2 }\n    - { at: 60s, factor: 5 }\n    - { at: 90s, factor: 1 }',
    },
    {
      title: 'One hour of yesterday morning, with an SSH brute force and a failing power supply, then end',
      yaml:
        'id: replay\ntype: device-syslog\nconfig:\n  start: "2024-03-01T08:00:00Z"\n  rate: 0\n  baseRate: 200\n  count: 720000\n  faults:\n' +
        '    - { kind: auth-storm, at: 20m, duration: 5m, source: 203.0.113.250, rate: 30 }\n' +
        '    - { kind: new-event, at: 40m, duration: 10m, device: sw-core-01 }',
    },
  ],
};
