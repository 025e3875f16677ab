import type { TimelineInterval } from "./pieces.ts";

/**
 * A timeline as CSV for analysts (RFC 4180): a header row, one interval a row, CRLF line ends,
 * times in ISO 8601 UTC, and a field quoted when it holds a comma, a quote or a line break.
 * An empty field is null (an unset candidate, a missing reason). Values are written as they
 * are: a reason starting with "=" stays one, so whoever opens the file in a spreadsheet
 * should import it as text.
 */
export const TIMELINE_CSV_COLUMNS = [
  "plugin_id",
  "version",
  "candidate",
  "candidate_percent",
  "test_id",
  "action",
  "from_position",
  "from_at",
  "from_clipped",
  "to_position",
  "to_at",
  "to_clipped",
  "ended_by",
  "actor_kind",
  "actor_id",
  "actor_name",
  "reason",
] as const;

export function timelineCsv(items: readonly TimelineInterval[]): string {
  const text = (value: string | number | boolean | Date | null | undefined) =>
    value === null || value === undefined ? "" : value instanceof Date ? value.toISOString() : String(value);
  const rows = items.map((i) =>
    [
      i.pluginId,
      i.version,
      i.candidate,
      i.candidatePercent,
      i.testId,
      i.action,
      i.fromPosition,
      i.fromAt,
      i.fromClipped,
      i.toPosition,
      i.toAt,
      i.toClipped,
      i.endedBy,
      i.actor.kind,
      i.actor.id,
      i.actor.name,
      i.reason,
    ].map(text),
  );
  return [[...TIMELINE_CSV_COLUMNS], ...rows].map(csvLine).join("");
}

/** One record, CRLF-terminated. */
export function csvLine(fields: readonly string[]): string {
  return `${fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(",")}\r\n`;
}
