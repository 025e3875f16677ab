import { z } from "zod";
import { TIMELINE_CSV_COLUMNS } from "../../src/timeline/csv.ts";
import type { TimelineInterval } from "../../src/timeline/pieces.ts";

/**
 * Reading back what `timelineCsv` writes, for the tests only: the ledger writes CSV for
 * analysts and never reads it, so the parser lives here rather than in src.
 */

/** RFC 4180 records (CRLF or LF line ends, quoted fields spanning lines); a final line end is optional. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let i = 0;
  const endField = () => {
    record.push(field);
    field = "";
  };
  const endRecord = () => {
    endField();
    records.push(record);
    record = [];
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"' && field === "") {
      // A quoted field: up to the quote that is not doubled.
      i += 1;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote === -1) throw new SyntaxError("a quoted CSV field is not closed");
        field += text.slice(i, quote);
        if (text[quote + 1] === '"') {
          field += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      const next = text[i];
      if (next !== undefined && next !== "," && next !== "\r" && next !== "\n") {
        throw new SyntaxError(`unexpected ${JSON.stringify(next)} after a quoted CSV field`);
      }
    } else if (c === ",") {
      endField();
      i += 1;
    } else if (c === "\r" || c === "\n") {
      endRecord();
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
    } else {
      field += c;
      i += 1;
    }
  }
  if (field !== "" || record.length > 0) endRecord();
  return records;
}

const nullable = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? null : value), schema.nullable());
const position = z.coerce.number().int().nonnegative();
const moment = z.iso.datetime().transform((value) => new Date(value));
const flag = z.enum(["true", "false"]).transform((value) => value === "true");
const action = z.enum([
  "registered",
  "upgraded",
  "downgraded",
  "rolled_back",
  "promoted",
  "ab_started",
  "ab_weight_changed",
  "ab_aborted",
]);

const Row = z.object({
  plugin_id: z.string().min(1),
  version: z.string().min(1),
  candidate: nullable(z.string()),
  candidate_percent: nullable(z.coerce.number()),
  test_id: nullable(z.string()),
  action,
  from_position: position,
  from_at: moment,
  from_clipped: flag,
  to_position: position,
  to_at: moment,
  to_clipped: flag,
  ended_by: nullable(z.enum([...action.options, "deactivated"])),
  actor_kind: z.enum(["telegram", "cli", "http", "system"]),
  actor_id: z.string(),
  actor_name: nullable(z.string()),
  reason: nullable(z.string()),
});

/** A row as the interval it stands for. */
const Interval = Row.transform(
  (r): TimelineInterval => ({
    pluginId: r.plugin_id,
    version: r.version,
    candidate: r.candidate,
    candidatePercent: r.candidate_percent,
    testId: r.test_id,
    action: r.action,
    fromPosition: r.from_position,
    fromAt: r.from_at,
    fromClipped: r.from_clipped,
    toPosition: r.to_position,
    toAt: r.to_at,
    toClipped: r.to_clipped,
    endedBy: r.ended_by,
    actor: { kind: r.actor_kind, id: r.actor_id, ...(r.actor_name === null ? {} : { name: r.actor_name }) },
    reason: r.reason,
  }),
);

/** The intervals of a file `timelineCsv` wrote; a missing column or a bad value throws. */
export function parseTimelineCsv(text: string): TimelineInterval[] {
  const [header, ...rows] = parseCsv(text);
  if (header === undefined) throw new SyntaxError("the CSV has no header row");
  const missing = TIMELINE_CSV_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new SyntaxError(`the CSV lacks the columns ${missing.join(", ")}`);
  return rows.map((fields, n) => {
    const parsed = Interval.safeParse(Object.fromEntries(header.map((name, i) => [name, fields[i] ?? ""])));
    if (!parsed.success) throw new SyntaxError(`CSV row ${n + 2}: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  });
}
