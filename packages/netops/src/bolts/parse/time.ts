/**
 * Time helpers for the syslog parser: month names, civil time to epoch ms in a zone, time zone
 * offsets (fixed, IANA through Intl, and the abbreviations devices print), and the year of a
 * year-less RFC 3164 timestamp.
 */

const DAY_MS = 86_400_000;
/** Offsets change on quarter hours of UTC (St Johns at 04:30 UTC, Lord Howe at 15:30), not only on hours. */
const QUARTER_MS = 900_000;

/** Month index (0..11) of the three letters at `i` (any case), else -1. */
export function monthAt(s: string, i: number): number {
  if (i + 3 > s.length) return -1;
  const a = s.charCodeAt(i) | 0x20;
  const b = s.charCodeAt(i + 1) | 0x20;
  const c = s.charCodeAt(i + 2) | 0x20;
  // j a n / f e b / m a r / a p r / m a y / j u n / j u l / a u g / s e p / o c t / n o v / d e c
  switch (a) {
    case 0x6a: // j
      if (b === 0x61 && c === 0x6e) return 0;
      if (b === 0x75) return c === 0x6e ? 5 : c === 0x6c ? 6 : -1;
      return -1;
    case 0x66: // f
      return b === 0x65 && c === 0x62 ? 1 : -1;
    case 0x6d: // m
      if (b !== 0x61) return -1;
      return c === 0x72 ? 2 : c === 0x79 ? 4 : -1;
    case 0x61: // a
      if (b === 0x70 && c === 0x72) return 3;
      return b === 0x75 && c === 0x67 ? 7 : -1;
    case 0x73: // s
      return b === 0x65 && c === 0x70 ? 8 : -1;
    case 0x6f: // o
      return b === 0x63 && c === 0x74 ? 9 : -1;
    case 0x6e: // n
      return b === 0x6f && c === 0x76 ? 10 : -1;
    case 0x64: // d
      return b === 0x65 && c === 0x63 ? 11 : -1;
  }
  return -1;
}

/** Days in `month` (0..11) of `year`. */
export function daysInMonth(year: number, month: number): number {
  if (month === 1) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 3 || month === 5 || month === 8 || month === 10 ? 30 : 31;
}

/** Wall-clock time as if it were UTC, in ms (Date.UTC, but years 0..99 stay literal). */
export function civilMs(year: number, month: number, day: number, h: number, mi: number, s: number, ms: number): number {
  const t = Date.UTC(year, month, day, h, mi, s, ms);
  if (year >= 0 && year < 100) return new Date(t).setUTCFullYear(year);
  return t;
}

/**
 * A time zone: converts a wall-clock time to UTC. `UTC`, a fixed offset (`+08:00`, `-0500`) or an
 * IANA name (`Europe/Berlin`, resolved through Intl, with daylight saving time).
 */
export class TimeZone {
  readonly name: string;
  private readonly fixed: number | undefined;
  private readonly fmt: Intl.DateTimeFormat | undefined;
  /** Offset in ms by quarter hour of UTC, for IANA zones. */
  private readonly cache = new Map<number, number>();

  constructor(name: string) {
    this.name = name;
    const fixed = parseFixedOffset(name);
    if (fixed !== undefined) {
      this.fixed = fixed;
      return;
    }
    try {
      this.fmt = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch (cause) {
      throw new RangeError(`unknown time zone "${name}": write UTC, an offset such as +08:00, or an IANA name such as Asia/Shanghai`, {
        cause,
      });
    }
  }

  /** Offset from UTC in ms at the instant `utcMs`. */
  offsetAt(utcMs: number): number {
    if (this.fixed !== undefined) return this.fixed;
    const quarter = Math.floor(utcMs / QUARTER_MS);
    let off = this.cache.get(quarter);
    if (off === undefined) {
      off = this.computeOffset(quarter * QUARTER_MS);
      if (this.cache.size > 16384) this.cache.clear();
      this.cache.set(quarter, off);
    }
    return off;
  }

  /** The UTC instant of a wall-clock time in this zone (given as if UTC). */
  toUtc(wallMs: number): number {
    if (this.fixed !== undefined) return wallMs - this.fixed;
    const first = wallMs - this.offsetAt(wallMs);
    const off = this.offsetAt(first);
    return wallMs - off;
  }

  private computeOffset(utcMs: number): number {
    const parts = this.fmt!.formatToParts(new Date(utcMs));
    let y = 0;
    let mo = 0;
    let d = 0;
    let h = 0;
    let mi = 0;
    let s = 0;
    for (const p of parts) {
      switch (p.type) {
        case 'year':
          y = Number(p.value);
          break;
        case 'month':
          mo = Number(p.value);
          break;
        case 'day':
          d = Number(p.value);
          break;
        case 'hour':
          h = Number(p.value);
          break;
        case 'minute':
          mi = Number(p.value);
          break;
        case 'second':
          s = Number(p.value);
          break;
      }
    }
    return Date.UTC(y, mo - 1, d, h, mi, s) - utcMs;
  }
}

/** `UTC`, `Z`, `GMT`, `+08:00`, `-0500`, `+8` to an offset in ms; undefined for anything else. */
export function parseFixedOffset(text: string): number | undefined {
  const t = text.trim();
  if (t === 'UTC' || t === 'Z' || t === 'GMT' || t === 'utc') return 0;
  const m = /^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(t);
  if (!m) return undefined;
  const h = Number(m[2]);
  const mi = m[3] ? Number(m[3]) : 0;
  if (h > 23 || mi > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (h * 60 + mi) * 60_000;
}

/**
 * Zone abbreviations network devices print after their timestamps (`*Mar  1 00:00:01.123 UTC:`),
 * in minutes east of UTC. Ambiguous ones (IST, CST in China...) take their most common meaning in
 * device logs, the US/European one; a device configured otherwise should log UTC or an offset.
 */
const ZONE_ABBREVIATIONS: Readonly<Record<string, number>> = {
  UTC: 0,
  GMT: 0,
  UT: 0,
  Z: 0,
  WET: 0,
  WEST: 60,
  BST: 60,
  CET: 60,
  CEST: 120,
  MET: 60,
  MEST: 120,
  MEZ: 60,
  MESZ: 120,
  EET: 120,
  EEST: 180,
  MSK: 180,
  EST: -300,
  EDT: -240,
  CST: -360,
  CDT: -300,
  MST: -420,
  MDT: -360,
  PST: -480,
  PDT: -420,
  AKST: -540,
  AKDT: -480,
  HST: -600,
  JST: 540,
  KST: 540,
  HKT: 480,
  SGT: 480,
  AWST: 480,
  ACST: 570,
  AEST: 600,
  AEDT: 660,
  NZST: 720,
  NZDT: 780,
};

/** Offset in ms of a zone abbreviation, undefined when unknown. */
export function abbreviationOffset(abbr: string): number | undefined {
  const m = ZONE_ABBREVIATIONS[abbr];
  return m === undefined ? undefined : m * 60_000;
}

/**
 * The year of a year-less timestamp (RFC 3164 `Mmm dd hh:mm:ss`), the rule rsyslog and syslog-ng
 * use: of the candidate years around the reference time, the one that puts the timestamp closest
 * to the reference without being more than one day after it. So `Dec 31 23:59:59` received on
 * Jan 1 is last year's, and `Jan 1 00:00:01` received on Dec 31 (a device clock slightly ahead) is
 * next year's. Feb 29 only matches leap years. Returns the UTC instant.
 */
export function inferYear(month: number, day: number, h: number, mi: number, s: number, ms: number, refMs: number, zone: TimeZone): number {
  const refYear = new Date(refMs + zone.offsetAt(refMs)).getUTCFullYear();
  let best = Number.NaN;
  for (let y = refYear + 1; y >= refYear - 4; y--) {
    if (day > daysInMonth(y, month)) continue;
    const t = zone.toUtc(civilMs(y, month, day, h, mi, s, ms));
    if (t <= refMs + DAY_MS) {
      best = t;
      break;
    }
  }
  return best;
}
