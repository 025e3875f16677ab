import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { csvLine, timelineCsv } from "../../src/timeline/csv.ts";
import type { TimelineInterval } from "../../src/timeline/pieces.ts";
import { parseCsv, parseTimelineCsv } from "../support/timeline-csv.ts";

const at = (iso: string) => new Date(iso);

function interval(overrides: Partial<TimelineInterval> = {}): TimelineInterval {
  return {
    pluginId: "combined_v3",
    version: "3.3.0",
    candidate: null,
    candidatePercent: null,
    testId: null,
    action: "upgraded",
    fromPosition: 7,
    fromAt: at("2025-03-01T09:00:00.000Z"),
    fromClipped: false,
    toPosition: 12,
    toAt: at("2025-03-04T17:30:00.250Z"),
    toClipped: false,
    endedBy: "rolled_back",
    actor: { kind: "telegram", id: "482913375", name: "Maria" },
    reason: "roll out the fix",
    ...overrides,
  };
}

describe("timeline CSV", () => {
  it("writes a header row and one CRLF-terminated row per interval, times in ISO 8601", () => {
    const csv = timelineCsv([interval()]);
    expect(csv.split("\r\n")).toEqual([
      "plugin_id,version,candidate,candidate_percent,test_id,action,from_position,from_at,from_clipped,to_position,to_at,to_clipped,ended_by,actor_kind,actor_id,actor_name,reason",
      "combined_v3,3.3.0,,,,upgraded,7,2025-03-01T09:00:00.000Z,false,12,2025-03-04T17:30:00.250Z,false,rolled_back,telegram,482913375,Maria,roll out the fix",
      "",
    ]);
  });

  it("quotes fields with commas, quotes and line breaks, doubling the quotes (RFC 4180)", () => {
    expect(csvLine(["a,b", 'say "hi"', "two\r\nlines", "lf\nonly", "plain", ""])).toBe(
      '"a,b","say ""hi""","two\r\nlines","lf\nonly",plain,\r\n',
    );
  });

  it("parses the RFC's own forms: quoted line breaks, doubled quotes, empty fields, no final line end", () => {
    expect(parseCsv('a,"b\r\nc","d""e"\r\n,,\r\nlast,row')).toEqual([
      ["a", "b\r\nc", 'd"e'],
      ["", "", ""],
      ["last", "row"],
    ]);
    expect(parseCsv("x,y\ny,z\n")).toEqual([
      ["x", "y"],
      ["y", "z"],
    ]);
  });

  it("refuses malformed quoting rather than guessing", () => {
    expect(() => parseCsv('"open')).toThrow(/not closed/);
    expect(() => parseCsv('"a"b,c')).toThrow(/after a quoted/);
  });

  it("round-trips an A/B interval, nulls, clipping flags and awkward reasons", () => {
    const items = [
      interval({
        candidate: "3.4.0",
        candidatePercent: 12.5,
        testId: "t-1",
        action: "ab_weight_changed",
        fromClipped: true,
        toClipped: true,
        endedBy: null,
        reason: '=HYPERLINK("x"), then\n"more"\r\n',
      }),
      interval({ actor: { kind: "cli", id: "olga" }, reason: null, endedBy: null }),
      interval({ reason: "ünïcødé, ✓ \t tab", action: "ab_aborted", endedBy: "deactivated" }),
    ];
    expect(parseTimelineCsv(timelineCsv(items))).toEqual(items);
  });

  it("round-trips any text in the free-form fields", () => {
    const text = fc.string({ unit: "binary", minLength: 1 });
    fc.assert(
      fc.property(text, fc.option(text, { nil: null }), text, (version, reason, actorId) => {
        const item = interval({ version, reason, actor: { kind: "http", id: actorId, name: 'n,"m"' } });
        expect(parseTimelineCsv(timelineCsv([item]))).toEqual([item]);
      }),
    );
  });

  it("names the row and the column of a bad value", () => {
    const csv = timelineCsv([interval()]).replace("upgraded", "exploded");
    expect(() => parseTimelineCsv(csv)).toThrow(/row 2[\s\S]*action/);
  });
});
