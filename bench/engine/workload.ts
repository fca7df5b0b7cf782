/**
 * The work the engine benchmark measures, shared by the topology's bolts and by the plain
 * single-threaded baseline loop, so that both do exactly the same thing per line.
 */

/**
 * Parses an RFC 3164 line into [key, severity]: key is "host program", what a Top-N of event
 * sources counts. Returns null for a line without a PRI.
 */
export function parseLine(line: string): [string, number] | null {
  if (line.charCodeAt(0) !== 60 /* < */) return null;
  const gt = line.indexOf('>', 1);
  if (gt < 2 || gt > 4) return null;
  let pri = 0;
  for (let i = 1; i < gt; i++) pri = pri * 10 + (line.charCodeAt(i) - 48);
  // PRI, then the 15-character BSD timestamp and a space, then the host.
  const hostStart = gt + 17;
  const hostEnd = line.indexOf(' ', hostStart);
  if (hostEnd < 0) return null;
  let tagEnd = hostEnd + 1;
  for (; tagEnd < line.length; tagEnd++) {
    const c = line.charCodeAt(tagEnd);
    if (c === 91 /* [ */ || c === 58 /* : */) break;
  }
  return [`${line.substring(hostStart, hostEnd)} ${line.substring(hostEnd + 1, tagEnd)}`, pri & 7];
}

/**
 * Event counts in four Maps, as a multi-dimensional Top-N keeps them: per source ("host
 * program"), per host, per program and per severity. The work of ARCHITECTURE.md's measured
 * loop ("parse + 4 Map counters"), on which the targets were set. Only the key crosses
 * threads; the counter splits it.
 */
export class Counts {
  readonly byKey = new Map<string, number>();
  readonly byHost = new Map<string, number>();
  readonly byProgram = new Map<string, number>();
  readonly bySeverity = new Map<number, number>();
  total = 0;

  add(key: string, severity: number): void {
    const space = key.indexOf(' ');
    const host = key.substring(0, space);
    const program = key.substring(space + 1);
    this.byKey.set(key, (this.byKey.get(key) ?? 0) + 1);
    this.byHost.set(host, (this.byHost.get(host) ?? 0) + 1);
    this.byProgram.set(program, (this.byProgram.get(program) ?? 0) + 1);
    this.bySeverity.set(severity, (this.bySeverity.get(severity) ?? 0) + 1);
    this.total++;
  }
}
