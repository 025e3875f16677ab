/**
 * A point in the ledger, as every verb that takes one (`asof`, `replay --to`, `timeline --from`,
 * `abtest assign --at`, `/asof`) reads it: a position, or a moment standing for the last event
 * recorded at or before it. One strict parser for all of them, so that `2026-02-30` or a number
 * past 2^53 is refused the same way everywhere instead of being rolled over or rounded.
 */
export type LedgerPoint = number | Date;

/** What a point may be, for the one line that refuses one. */
export const POINT_FORMS =
  "a position (a whole number such as 42) or an ISO-8601 time (2026-11-30, 2026-11-30T14:05Z, 2026-11-30T14:05:09.250+01:00; UTC unless an offset is given)";

/** A position: a whole number that JavaScript holds exactly; null for anything else. */
export function parsePosition(text: string): number | null {
  if (!/^\d{1,16}$/.test(text)) return null;
  const position = Number(text);
  return Number.isSafeInteger(position) ? position : null;
}

// Date, optional time (minutes required, seconds and fraction optional), optional offset.
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

/**
 * An ISO-8601 date or date-time on the real calendar (no 30 February, no hour 24, no second
 * 60); without an offset it is UTC, as every table here prints it, so the answer does not
 * depend on the machine's time zone. Null for anything else.
 */
export function parseIsoTime(text: string): Date | null {
  const match = ISO_TIME.exec(text);
  if (!match) return null;
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zone = "Z"] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const offsetMinutes = offsetOf(zone);
  if (offsetMinutes === null) return null;
  const ms = Number(fraction.padEnd(3, "0").slice(0, 3));
  const utc = new Date(0);
  // setUTCFullYear, not Date.UTC, so that years 1-99 are not read as 1901-1999.
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, ms);
  const at = new Date(utc.getTime() - offsetMinutes * 60_000);
  return Number.isNaN(at.getTime()) ? null : at;
}

/** A position or a time; null when the text is neither. */
export function parsePoint(text: string): LedgerPoint | null {
  return parsePosition(text) ?? parseIsoTime(text);
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function offsetOf(zone: string): number | null {
  if (zone === "Z" || zone === "z") return 0;
  const match = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!match) return null;
  const hours = Number(match[2]);
  const minutes = Number(match[3]);
  if (hours > 23 || minutes > 59) return null;
  return (match[1] === "-" ? -1 : 1) * (hours * 60 + minutes);
}
