/** FHIR date/dateTime/instant → the instant range it covers [lo, hi] (ISO strings, UTC). */
export interface DateRange {
  lo: string;
  hi: string;
}

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function parseDateRange(value: string): DateRange | undefined {
  const m = DATE_RE.exec(value.trim());
  if (!m) {
    return undefined;
  }
  const y = Number(m[1]);
  const mo = m[2] ? Number(m[2]) : undefined;
  const d = m[3] ? Number(m[3]) : undefined;
  if (mo !== undefined && (mo < 1 || mo > 12)) {
    return undefined;
  }
  if (m[4] === undefined) {
    // date precision: year, month or day (no time zone: taken as UTC)
    const startMonth = mo ?? 1;
    const startDay = d ?? 1;
    const lo = Date.UTC(y, startMonth - 1, startDay);
    let end: number;
    if (mo === undefined) {
      end = Date.UTC(y + 1, 0, 1);
    } else if (d === undefined) {
      end = Date.UTC(y, mo, 1);
    } else {
      end = Date.UTC(y, mo - 1, d + 1);
    }
    if (Number.isNaN(lo)) {
      return undefined;
    }
    return { lo: `${pad(y, 4)}-${pad(startMonth)}-${pad(startDay)}T00:00:00.000Z`, hi: iso(end - 1) };
  }
  const hh = Number(m[4]);
  const mi = Number(m[5]);
  const ss = m[6] !== undefined ? Number(m[6]) : undefined;
  const frac = m[7];
  const tz = m[8] ?? 'Z';
  let tzOffsetMin = 0;
  if (tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    tzOffsetMin = sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6)));
  }
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  const lo = Date.UTC(y, (mo ?? 1) - 1, d ?? 1, hh, mi, ss ?? 0, ms) - tzOffsetMin * 60_000;
  if (Number.isNaN(lo)) {
    return undefined;
  }
  let width: number;
  if (ss === undefined) {
    width = 60_000;
  } else if (!frac) {
    width = 1000;
  } else {
    width = 1;
  }
  return { lo: iso(lo), hi: iso(lo + width - 1) };
}
