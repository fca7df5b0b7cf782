import { describe, expect, it } from 'vitest';
import { extractAddresses } from './address.js';
import { SyslogParser } from './parser.js';
import { inferYear, TimeZone } from './time.js';
import { emptyEvent, type SyslogEvent, SyslogReject } from './types.js';

const REF = Date.UTC(2024, 5, 15, 12, 0, 0); // 2024-06-15T12:00:00Z
const lenient = new SyslogParser();
const strict = new SyslogParser({ strict: true });

function ev(line: string | Uint8Array, p = lenient, ref = REF, peer: string | null = null): SyslogEvent {
  const out = p.parse(line, ref, peer);
  if (out instanceof SyslogReject) throw new Error(`rejected: ${out.message}`);
  return out;
}

function rej(line: string | Uint8Array, p = strict): SyslogReject {
  const out = p.parse(line, REF);
  if (!(out instanceof SyslogReject)) throw new Error(`accepted: ${JSON.stringify(out)}`);
  return out;
}

const iso = (ms: number) => new Date(ms).toISOString();
const event = (out: SyslogEvent | SyslogReject): SyslogEvent => {
  if (out instanceof SyslogReject) throw new Error(out.message);
  return out;
};

describe('RFC 3164', () => {
  it('reads PRI, timestamp, hostname, TAG[pid] and MSG (go-syslog table row)', () => {
    const e = ev('<85>Jan 24 15:50:41 ip-172-31-30-110 sudo[6040]: ec2-user : TTY=pts/0 ; PWD=/var/log ; USER=root');
    expect(e).toMatchObject({ facility: 10, severity: 5, host: 'ip-172-31-30-110', app: 'sudo', procid: '6040', format: 'rfc3164', parsed: true });
    expect(e.message).toBe('ec2-user : TTY=pts/0 ; PWD=/var/log ; USER=root');
    expect(iso(e.time)).toBe('2024-01-24T15:50:41.000Z');
    expect(e.eventType).toBe('sudo');
  });

  it('without PRI: user.notice (13)', () => {
    const e = ev('Dec 28 16:49:07 plertrood-thinkpad-x220 nginx: 127.0.0.1 - - "GET / HTTP/1.1" 304 0');
    expect(e).toMatchObject({ facility: 1, severity: 5, host: 'plertrood-thinkpad-x220', app: 'nginx', parsed: true });
    expect(e.srcIp).toBe('127.0.0.1');
  });

  it('without hostname: the TAG is not taken for a host, and the peer is the host', () => {
    const e = ev('<133>Jan 13 16:33:35 haproxy[73411]: Proxy sticky-servers started.', lenient, REF, '10.1.1.1:514');
    expect(e).toMatchObject({ host: '10.1.1.1', app: 'haproxy', procid: '73411', message: 'Proxy sticky-servers started.' });
  });

  it('a TAG ended by a tab (Snare / NXLog Windows events)', () => {
    const e = ev('<13>Jun 15 06:00:00 win01 MSWinEventLog\t1\tSecurity\t123\tSat Jun 15 06:00:00 2024\t4625');
    expect(e).toMatchObject({ host: 'win01', app: 'MSWinEventLog', message: '1\tSecurity\t123\tSat Jun 15 06:00:00 2024\t4625' });
  });

  it('a MSG without TAG', () => {
    expect(ev('<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!')).toMatchObject({ host: '10.0.0.99', app: null, message: 'Use the BFG!' });
  });

  it('year and zone forms: Mmm dd yyyy, trailing year, ISO-8601 in the header, NX-OS year first', () => {
    expect(iso(ev('<190>Apr 15 2007 21:28:13: %PIX-6-302014: Teardown').time)).toBe('2007-04-15T21:28:13.000Z');
    expect(iso(ev('<190>Apr 15 21:28:13 2007 linksys app: msg').time)).toBe('2007-04-15T21:28:13.000Z');
    expect(iso(ev('<7>2006-11-10T10:43:21.156+02:00 bzorp openvpn[2499]: x').time)).toBe('2006-11-10T08:43:21.156Z');
    expect(iso(ev('<190>2018 Apr 20 13:15:07 nexus-switch %ETHPORT-5-IF_UP: Interface Ethernet1/33 is up').time)).toBe('2018-04-20T13:15:07.000Z');
    expect(iso(ev('<29>2018-7-23 01:00:34.270.1 sw %%01IFNET/4/IF_STATE(l)[4997]:Interface down').time)).toBe('2018-07-23T01:00:34.270Z');
  });

  it('Cisco: sequence number, *stamp with ms and zone, host before the stamp', () => {
    const e = ev('<189>1179: NetAuto_CSRv-03: May 31 15:25:53.743 MEST: %LINK-5-CHANGED: Interface GigabitEthernet2, changed state to down');
    expect(e).toMatchObject({ host: 'NetAuto_CSRv-03', vendor: 'cisco', eventType: 'LINK-CHANGED', severity: 5 });
    expect(iso(e.time)).toBe('2024-05-31T13:25:53.743Z'); // MEST = UTC+2
    const star = ev('<189>35: *Mar  1 00:00:01.123 UTC: %SYS-5-CONFIG_I: Configured from console by console');
    expect(iso(star.time)).toBe('2024-03-01T00:00:01.123Z');
    expect(star).toMatchObject({ host: null, eventType: 'SYS-CONFIG_I', message: 'Configured from console by console' });
  });

  it('NX-OS and IOS without sequence number or host: "<PRI>: stamp: %FAC-SEV-MNEMONIC"', () => {
    const nx = ev(
      '<189>: 2024 Jun  2 10:11:12 UTC: %ETHPORT-5-IF_DOWN_LINK_FAILURE: Interface Ethernet1/1 is down (Link failure)',
      lenient,
      REF,
      '10.9.9.9:514',
    );
    expect(nx).toMatchObject({ host: '10.9.9.9', vendor: 'cisco', eventType: 'ETHPORT-IF_DOWN_LINK_FAILURE', severity: 5 });
    expect(nx.message).toBe('Interface Ethernet1/1 is down (Link failure)');
    expect(iso(nx.time)).toBe('2024-06-02T10:11:12.000Z');
    const ios = ev('<187>: *Jun  2 10:11:12.345: %LINK-3-UPDOWN: Interface Gi1/0/1, changed state to down');
    expect(ios).toMatchObject({ vendor: 'cisco', eventType: 'LINK-UPDOWN', severity: 3 });
    expect(iso(ios.time)).toBe('2024-06-02T10:11:12.345Z');
    // ": " not followed by a stamp stays part of the message.
    expect(ev('<13>: hello world').message).toBe(': hello world');
  });

  it('Cisco relayed by rsyslog: the sequence number and the device stamp after the relay header are not the TAG', () => {
    for (const line of [
      '<187>Dec  2 10:11:12 10.0.0.1 3456: Dec  2 10:11:12.345 UTC: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down',
      '<187>Dec  2 10:11:12 core-sw1 3456: *Dec  2 10:11:12.345: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down',
      '<187>Dec  2 10:11:12 core-sw1 3456: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down',
    ]) {
      expect(ev(line), line).toMatchObject({ vendor: 'cisco', eventType: 'LINK-UPDOWN', message: 'Interface Gi0/1, changed state to down' });
    }
    expect(ev('<187>Dec  2 10:11:12 core-sw1 3456: *Dec  2 10:11:12.345: %LINK-3-UPDOWN: x').host).toBe('core-sw1');
    // A numeric TAG that is not followed by a Cisco body stays the TAG.
    expect(ev('<13>Dec  2 10:11:12 h 1234: plain text')).toMatchObject({ app: '1234', message: 'plain text' });
  });

  it('IOS-XR node ids before the stamp', () => {
    const e = ev(
      '<149>2647599: vmx01 RP/0/RSP1/CPU0:Mar 28 15:08:30.941 UTC: bgp[1051]: %ROUTING-BGP-5-MAXPFX : No. of IPv4 Unicast prefixes received from 1.2.3.4',
    );
    expect(e).toMatchObject({ host: 'vmx01', app: 'bgp', procid: '1051', eventType: 'ROUTING-BGP-MAXPFX', vendor: 'cisco', srcIp: '1.2.3.4' });
  });

  it('the configured time zone applies to stamps without one', () => {
    const shanghai = new SyslogParser({ timezone: 'Asia/Shanghai' });
    expect(iso(ev('<34>Oct 11 22:14:15 mymachine su: x', shanghai).time)).toBe('2023-10-11T14:14:15.000Z');
    const offset = new SyslogParser({ timezone: '-05:00' });
    expect(iso(ev('<34>Oct 11 22:14:15 mymachine su: x', offset).time)).toBe('2023-10-12T03:14:15.000Z');
    const berlin = new SyslogParser({ timezone: 'Europe/Berlin' });
    expect(iso(ev('<34>Jan 11 12:00:00 h su: x', berlin).time)).toBe('2024-01-11T11:00:00.000Z'); // CET
    expect(iso(ev('<34>Jun 11 12:00:00 h su: x', berlin).time)).toBe('2024-06-11T10:00:00.000Z'); // CEST
    expect(() => new SyslogParser({ timezone: 'Mars/Olympus' })).toThrow(/unknown time zone "Mars\/Olympus"/);
  });
});

describe('IANA zones whose offset changes on a half hour of UTC', () => {
  it('St Johns (fall back at 04:30 UTC) and Lord Howe (30-minute DST at 15:30 UTC)', () => {
    const stJohns = new TimeZone('America/St_Johns');
    // The offset of 04:00-05:00 UTC was cached by the hour: the hour began at -2:30, so 02:00 NST
    // after the change came out an hour early.
    expect(iso(stJohns.toUtc(Date.UTC(2025, 10, 2, 0, 30)))).toBe('2025-11-02T03:00:00.000Z');
    expect(iso(stJohns.toUtc(Date.UTC(2025, 10, 2, 2, 0)))).toBe('2025-11-02T05:30:00.000Z');
    expect(iso(stJohns.toUtc(Date.UTC(2025, 10, 2, 2, 15)))).toBe('2025-11-02T05:45:00.000Z');
    const lordHowe = new TimeZone('Australia/Lord_Howe');
    expect(iso(lordHowe.toUtc(Date.UTC(2025, 9, 5, 1, 45)))).toBe('2025-10-04T15:15:00.000Z');
    expect(iso(lordHowe.toUtc(Date.UTC(2025, 9, 5, 2, 30)))).toBe('2025-10-04T15:30:00.000Z');
    expect(iso(lordHowe.toUtc(Date.UTC(2025, 9, 5, 2, 45)))).toBe('2025-10-04T15:45:00.000Z');
  });
});

describe('year inference (closest to the reference, at most one day ahead of it)', () => {
  const utc = new TimeZone('UTC');
  const at = (iso: string) => Date.parse(iso);
  it('Dec 31 received on Jan 1 is last year', () => {
    expect(iso(inferYear(11, 31, 23, 59, 59, 0, at('2025-01-01T00:00:05Z'), utc))).toBe('2024-12-31T23:59:59.000Z');
    expect(iso(ev('<34>Dec 31 23:59:59 h app: x', lenient, at('2025-01-01T00:00:05Z')).time)).toBe('2024-12-31T23:59:59.000Z');
  });
  it('Jan 1 received on Dec 31 (device clock ahead) is next year', () => {
    expect(iso(ev('<34>Jan  1 00:00:01 h app: x', lenient, at('2024-12-31T23:59:50Z')).time)).toBe('2025-01-01T00:00:01.000Z');
  });
  it('a stamp more than a day ahead is last year', () => {
    expect(iso(ev('<34>Jun 17 12:00:00 h app: x', lenient, REF).time)).toBe('2023-06-17T12:00:00.000Z');
    expect(iso(ev('<34>Jun 16 11:00:00 h app: x', lenient, REF).time)).toBe('2024-06-16T11:00:00.000Z');
  });
  it('Feb 29 only in leap years', () => {
    expect(iso(ev('<34>Feb 29 10:00:00 h app: x', lenient, at('2025-03-01T00:00:00Z')).time)).toBe('2024-02-29T10:00:00.000Z');
  });
  it('without receivedAt the reference is now', () => {
    const now = Date.now();
    const t = event(lenient.parse('<34>Jan  1 00:00:00 h app: x', null)).time;
    expect(t).toBeLessThanOrEqual(now + 86_400_000);
    expect(t).toBeGreaterThan(now - 366 * 86_400_000);
  });
});

describe('RFC 5424', () => {
  it('full header, structured data with escapes, BOM stripped from the message', () => {
    const e = ev(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" esc="a\\"b\\]c\\\\d"][x@1] \ufeffAn application event log entry...',
    );
    expect(e).toMatchObject({
      facility: 20,
      severity: 5,
      host: 'mymachine.example.com',
      app: 'evntslog',
      procid: null,
      msgid: 'ID47',
      format: 'rfc5424',
      message: 'An application event log entry...',
    });
    expect(e.structured).toEqual({ 'exampleSDID@32473': { iut: '3', eventSource: 'Application', esc: 'a"b]c\\d' }, 'x@1': {} });
    expect(iso(e.time)).toBe('2003-10-11T22:14:15.003Z');
  });

  it('NILVALUEs, fractional seconds and offsets', () => {
    const nil = ev('<1>1 - - - - - -', lenient, REF, '192.0.2.9');
    expect(nil).toMatchObject({ facility: 0, severity: 1, host: '192.0.2.9', app: null, procid: null, msgid: null, structured: null, message: '' });
    expect(nil.time).toBe(REF);
    expect(iso(ev('<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% Time').time)).toBe('2003-08-24T12:14:15.000Z');
    expect(iso(ev('<165>1 2003-08-24T05:14:15.999999+05:30 h a - - -').time)).toBe('2003-08-23T23:44:15.999Z');
  });

  it('Juniper structured data: vendor, event type from MSGID, addresses from the parameters', () => {
    const e = ev(
      '<14>1 2013-01-30T12:00:00.000Z srx RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.40 source-address="10.0.0.1" source-port="51234" destination-address="2001:db8::1" destination-port="443" service-name="junos-https"] session created',
    );
    expect(e).toMatchObject({ vendor: 'juniper', eventType: 'RT_FLOW_SESSION_CREATE', srcIp: '10.0.0.1', srcPort: 51234, dstIp: '2001:db8::1', dstPort: 443 });
  });

  it('network-device lines relayed as 5424 (rsyslog RSYSLOG_SyslogProtocol23Format): the vendor body is found past the TAG space, sequence number and stamp', () => {
    const cisco = ev('<189>1 2024-06-15T06:00:00.123Z relay 1043 - - -  *Jun 15 06:00:00.123 UTC: %LINK-3-UPDOWN: Interface Gi1/0/1, changed state to down');
    expect(cisco).toMatchObject({ host: 'relay', app: '1043', vendor: 'cisco', eventType: 'LINK-UPDOWN', severity: 5 });
    expect(cisco.message).toBe(' *Jun 15 06:00:00.123 UTC: %LINK-3-UPDOWN: Interface Gi1/0/1, changed state to down'); // MSG as sent
    const asa = ev('<166>1 2024-06-15T06:00:00Z fw-01 - - - -  %ASA-6-302013: Built outbound TCP connection 1 for outside:198.51.100.7/443');
    expect(asa).toMatchObject({ vendor: 'cisco', eventType: 'ASA-302013', srcIp: '198.51.100.7' });
    expect(ev('<189>1 2024-06-15T06:00:00Z sw-01 - - - - 1043: %SYS-5-CONFIG_I: Configured')).toMatchObject({ eventType: 'SYS-CONFIG_I' });
    // A message that merely starts with a date is not a Cisco body.
    expect(ev('<13>1 2024-06-15T06:00:00Z sw-01 app - - - Jun 15 06:00:00 is when it happened')).toMatchObject({ vendor: null, eventType: 'app' });
  });

  it('lenient: broken structured data keeps the header; an over-long field still parses', () => {
    const e = ev('<132>1 2006-10-29T01:59:59.156+01:00 mymachine evntslog - - [a i=""ok"] An entry');
    expect(e).toMatchObject({ host: 'mymachine', app: 'evntslog', format: 'rfc5424' });
    const long = ev(`<132>1 2006-10-29T01:59:59.156+01:00 mymachine ${'a'.repeat(60)} - - [a i="ok"] An entry`);
    expect(long).toMatchObject({ app: 'a'.repeat(60), structured: { a: { i: 'ok' } }, message: 'An entry' });
  });
});

describe('vendor bodies', () => {
  it('Cisco %FAC-SEV-MNEMONIC and %FAC-SUB-SEV-MNEMONIC', () => {
    expect(ev('<189>521: router1: *Nov 14 08:30:56.699: %LINK-5-CHANGED: Interface GigabitEthernet2, changed state')).toMatchObject({
      host: 'router1',
      vendor: 'cisco',
      eventType: 'LINK-CHANGED',
      app: '%LINK-5-CHANGED',
      message: 'Interface GigabitEthernet2, changed state',
    });
    expect(ev('<190>32: foo: *Apr 29 13:58:46.411: %SYSMGR-STANDBY-3-SHUTDOWN_START: The System Manager').eventType).toBe('SYSMGR-STANDBY-SHUTDOWN_START');
    // EOS: a process TAG, then the mnemonic in MSG
    expect(ev("<166>Oct 18 14:39:03 edge01.bru01 Rib: %AGENT-6-INITIALIZED: Agent 'Rib' initialized; pid=7104")).toMatchObject({
      app: 'Rib',
      eventType: 'AGENT-INITIALIZED',
      vendor: 'cisco',
    });
  });

  it('a message without PRI takes its severity from the body', () => {
    expect(ev('Mar  1 00:00:01 r1 %LINEPROTO-3-UPDOWN: Line protocol down')).toMatchObject({ severity: 3, facility: 1 });
    expect(ev('<190>Mar  1 00:00:01 r1 %LINEPROTO-3-UPDOWN: Line protocol down')).toMatchObject({ severity: 6 });
  });

  it('Huawei VRP %%01 and H3C Comware %%10', () => {
    expect(
      ev('<187>Jul 22 2014 16:43:21 HUAWEI %%01IFNET/4/LINK_STATE(l)[0]:The line protocol IP on the interface Vlanif1 has entered the DOWN state.'),
    ).toMatchObject({
      host: 'HUAWEI',
      vendor: 'huawei',
      eventType: 'IFNET/LINK_STATE',
      message: 'The line protocol IP on the interface Vlanif1 has entered the DOWN state.',
    });
    const h3c = ev('<189>Oct 11 09:51:07 2012 H3C %%10SHELL/5/SHELL_LOGIN(l): VTY logged in from 192.168.1.2.');
    expect(h3c).toMatchObject({ host: 'H3C', vendor: 'h3c', eventType: 'SHELL/SHELL_LOGIN', srcIp: '192.168.1.2' });
    expect(iso(h3c.time)).toBe('2012-10-11T09:51:07.000Z');
  });

  it('Juniper event tags', () => {
    expect(ev('<14>Dec 13 13:12:00 srx-firewall RT_FLOW: RT_FLOW_SESSION_CREATE: session created 172.16.0.1/23456->8.8.8.8/443 junos-https')).toMatchObject({
      app: 'RT_FLOW',
      vendor: 'juniper',
      eventType: 'RT_FLOW_SESSION_CREATE',
      srcIp: '172.16.0.1',
      srcPort: 23456,
      dstIp: '8.8.8.8',
      dstPort: 443,
    });
    expect(ev('<189>Jul 20 21:44:00 vmx01 mgd[7729]: UI_COMMIT_COMPLETED: commit complete')).toMatchObject({
      app: 'mgd',
      procid: '7729',
      eventType: 'UI_COMMIT_COMPLETED',
    });
    // lower-case function names are not event tags: eventType falls back to the app
    expect(ev('<172>Jul 20 21:44:00 some-router rpd[13037]: bgp_recv: read from peer fd00:1065::1').eventType).toBe('rpd');
  });
});

describe('addresses and ports', () => {
  const addr = (text: string) => {
    const e = emptyEvent();
    extractAddresses(text, e);
    return [e.srcIp, e.srcPort, e.dstIp, e.dstPort];
  };
  it('ip(port) in Cisco ACL logs', () => {
    expect(addr('%SEC-6-IPACCESSLOGP: list 101 denied tcp 10.1.1.1(1234) -> 10.2.2.2(80), 1 packet')).toEqual(['10.1.1.1', 1234, '10.2.2.2', 80]);
  });
  it('ASA "Built outbound": the inside host after "to" made the connection, so it is the source', () => {
    const out = ev(
      '<166>Jun 15 06:00:00 fw-01 %ASA-6-302013: Built outbound TCP connection 1 for outside:198.51.100.7/443 (198.51.100.7/443) to inside:10.1.2.3/51515 (203.0.113.1/51515)',
    );
    expect(out).toMatchObject({ srcIp: '10.1.2.3', srcPort: 51515, dstIp: '198.51.100.7', dstPort: 443 });
    const inbound = ev(
      '<166>Jun 15 06:00:00 fw-01 %ASA-6-302013: Built inbound TCP connection 2 for outside:198.51.100.7/51000 (198.51.100.7/51000) to dmz:10.1.2.3/443 (203.0.113.1/443)',
    );
    expect(inbound).toMatchObject({ srcIp: '198.51.100.7', srcPort: 51000, dstIp: '10.1.2.3', dstPort: 443 });
  });

  it('ASA interface:ip/port, with "to" marking the destination', () => {
    expect(addr('Teardown TCP connection 1688438 for outside:1.2.3.4/8294 to inside:5.6.7.8/3639 duration 0:07:01')).toEqual([
      '1.2.3.4',
      8294,
      '5.6.7.8',
      3639,
    ]);
  });
  it('ip:port, and sshd "from ip port N"', () => {
    expect(addr('Packet from 192.168.140.254:61664 wrong MD5 digest')).toEqual(['192.168.140.254', 61664, null, null]);
    expect(addr('Accepted publickey for nagios from 1.9.1.1 port 42096 ssh2')).toEqual(['1.9.1.1', 42096, null, null]);
  });
  it('keys followed by ": " (Firepower): SrcIP, DstIP, SrcPort, DstPort; the unspecified address is never an endpoint', () => {
    const e = ev(
      '<113>Jun 15 06:00:00 ftd SFIMS: Protocol: UDP, SrcIP: 10.1.1.5, OriginalClientIP: ::, DstIP: 8.8.8.8, SrcPort: 5353, DstPort: 53, TCPFlags: 0x0',
    );
    expect(e).toMatchObject({ srcIp: '10.1.1.5', dstIp: '8.8.8.8', srcPort: 5353, dstPort: 53 });
    expect(ev('<13>Jun 15 06:00:00 h app: bound 0.0.0.0 then 192.0.2.7 connected')).toMatchObject({ srcIp: '192.0.2.7', dstIp: null });
  });

  it('keys: src= dst= sport= dport=, iptables SRC/DST/SPT/DPT, Junos source-address="..."', () => {
    expect(addr('action=deny dst=10.0.0.2 src=10.0.0.1 sport=1111 dport=22')).toEqual(['10.0.0.1', 1111, '10.0.0.2', 22]);
    expect(addr('IN=eth0 OUT= SRC=135.148.25.121 DST=192.0.2.7 LEN=60 PROTO=TCP SPT=46146 DPT=4433')).toEqual(['135.148.25.121', 46146, '192.0.2.7', 4433]);
    expect(addr('source-address="10.1.1.1" source-port="100" destination-address="10.2.2.2" destination-port="53"')).toEqual(['10.1.1.1', 100, '10.2.2.2', 53]);
    expect(addr('decaps: bad spi for destaddr=150.1.1.1, prot=50, srcaddr=150.3.1.3')).toEqual(['150.3.1.3', null, '150.1.1.1', null]);
  });
  it('IPv6: compressed forms, zone ids stripped, RFC 5952 form, brackets and Junos +port / :port', () => {
    expect(addr('from fe80::1%eth0 to 2001:DB8:0:0:0:0:0:1')).toEqual(['fe80::1', null, '2001:db8::1', null]);
    expect(addr('peer [2001:db8::5]:443 said')).toEqual(['2001:db8::5', 443, null, null]);
    expect(addr('NOTIFICATION sent to 2001:e8:124::f1:12:1+51528 (proto)')).toEqual([null, null, '2001:e8:124::f1:12:1', 51528]);
    expect(addr('Packet from 2001:db8:1::a502:764:1:61664 wrong MD5 digest')).toEqual(['2001:db8:1::a502:764:1', 61664, null, null]);
    expect(addr('mapped ::FFFF:129.144.52.38 here')).toEqual(['::ffff:129.144.52.38', null, null, null]);
    expect(addr('loopback ::1 only')).toEqual(['::1', null, null, null]);
  });
  it('not addresses: versions, OIDs, clock times, octets over 255, MAC addresses, host names with digits', () => {
    expect(addr('swVersion="8.32.0" at 10:20:30 oid 1.3.6.1.4.1.9 bad 300.1.1.1 mac 00:1b:21:3a:4f:5e ip-172-31-30-110 v1.2.3.4a')).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });
  it('the same address twice is not both source and destination', () => {
    expect(addr('sent to 10.37.96.6+44759 (proto): no group for 10.37.96.6+44759')).toEqual([null, null, '10.37.96.6', 44759]);
  });
});

describe('lenient and strict', () => {
  it('lenient: what cannot be structured flows with parsed: false, format unknown, user.notice, message = raw', () => {
    expect(ev('complete and utter gobbledegook')).toMatchObject({
      parsed: false,
      format: 'unknown',
      facility: 1,
      severity: 5,
      message: 'complete and utter gobbledegook',
      time: REF,
    });
  });

  it("strict: RFC 5424 rejects carry go-syslog's text and a 1-based column", () => {
    const r = rej('<1>1000 - - - - - -');
    expect(r).toEqual(new SyslogReject('bad_version', 7, 'expecting a version value in the range 1-999 [col 6]'));
    expect(rej('<192>1 - - - - - -')).toMatchObject({ reason: 'bad_pri', column: 4 });
    expect(rej('no pri at all')).toMatchObject({ reason: 'missing_pri', column: 1 });
    expect(rej('<29>1 2016-01-15T01:00:43Z hn S - - [meta escape="]"] x')).toMatchObject({ reason: 'bad_sd_escape', column: 51 });
    expect(rej('<101>12 2003-09-31T22:14:16Z - - - - -')).toMatchObject({
      reason: 'bad_timestamp',
      message: 'parsing time "2003-09-31T22:14:16Z": day out of range [col 28]',
    });
  });

  it('strict: columns count UTF-8 bytes', () => {
    // "κ" is 2 bytes: the bad escape after it ("x", character 24) is at byte 25, column 26
    expect(rej('<1>1 - - - - - [id p="κ\\x"]')).toMatchObject({ reason: 'bad_sd_escape', column: 26 });
  });

  it('strict: BOM-prefixed MSG must be UTF-8 (bytes input)', () => {
    const bytes = Buffer.concat([Buffer.from('<1>1 - - - - - - '), Buffer.from([0xef, 0xbb, 0xbf, 0xc3, 0x28])]);
    expect(rej(bytes)).toMatchObject({ reason: 'bad_msg_utf8', column: 22 });
    expect(ev(Buffer.from([...Buffer.from('<1>1 - - - - - - x'), 0xf6]), strict).message).toBe('x\ufffd');
  });

  it('strict RFC 3164: Mmm dd hh:mm:ss and a hostname are required', () => {
    expect(ev('<34>Oct 11 22:14:15 mymachine su: hi', strict)).toMatchObject({ host: 'mymachine', app: 'su', message: 'hi', format: 'rfc3164' });
    expect(rej('<34>Oct 11 25:14:15 mymachine su: hi')).toMatchObject({ reason: 'bad_timestamp', column: 13 });
    expect(rej('<34>oct 11 22:14:15 mymachine su: hi')).toMatchObject({ reason: 'bad_timestamp', column: 5 });
    expect(rej('<34>Oct 11 22:14:15 ')).toMatchObject({ reason: 'bad_hostname', column: 21 });
    // A day below 10 is space-padded (RFC 3164 4.1.2): "Oct  3", neither "Oct 03" nor "Oct 3".
    expect(ev('<34>Oct  3 22:14:15 mymachine su: hi', strict)).toMatchObject({ host: 'mymachine', format: 'rfc3164' });
    expect(rej('<34>Oct 03 22:14:15 mymachine su: hi')).toMatchObject({ reason: 'bad_timestamp', column: 9 });
    expect(rej('<34>Oct 3 22:14:15 mymachine su: hi')).toMatchObject({ reason: 'bad_timestamp' });
    // device forms are not RFC: strict rejects them, lenient reads them
    expect(rej('<189>521: router1: *Nov 14 08:30:56.699: %LINK-5-CHANGED: x').reason).toBe('parse_error');
  });
});
