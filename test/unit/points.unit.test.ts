import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseIsoTime, parsePoint, parsePosition } from "../../src/domain/index.ts";

describe("a point in the ledger (asof, --at, --from, --to)", () => {
  it("reads positions that JavaScript holds exactly, and nothing past them", () => {
    expect(parsePosition("0")).toBe(0);
    expect(parsePosition("42")).toBe(42);
    expect(parsePosition("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER);
    expect(parsePosition("9007199254740992")).toBeNull();
    expect(parsePosition("99999999999999999999999")).toBeNull();
    for (const text of ["", "-1", "1.5", "1e3", " 1", "0x10", "١٢"]) expect(parsePosition(text)).toBeNull();
  });

  it("reads ISO-8601 dates and times on the real calendar, UTC unless an offset is given", () => {
    expect(parseIsoTime("2026-11-30")?.toISOString()).toBe("2026-11-30T00:00:00.000Z");
    expect(parseIsoTime("2026-11-30T14:05")?.toISOString()).toBe("2026-11-30T14:05:00.000Z");
    expect(parseIsoTime("2026-11-30T14:05Z")?.toISOString()).toBe("2026-11-30T14:05:00.000Z");
    expect(parseIsoTime("2026-11-30T14:05:09.25+01:00")?.toISOString()).toBe("2026-11-30T13:05:09.250Z");
    expect(parseIsoTime("2026-11-30 14:05:09-0230")?.toISOString()).toBe("2026-11-30T16:35:09.000Z");
    expect(parseIsoTime("2024-02-29")?.toISOString()).toBe("2024-02-29T00:00:00.000Z");
    expect(parseIsoTime("0099-01-01")?.getUTCFullYear()).toBe(99);
  });

  it("refuses what is not on the calendar or not ISO-8601", () => {
    for (const text of [
      "",
      "garbage",
      "2026-13-01",
      "2026-02-30",
      "2025-02-29",
      "1900-02-29",
      "2026-04-31",
      "2026-00-10",
      "2026-01-00",
      "0000-01-01",
      "2026-11-30T24:00",
      "2026-11-30T12:60",
      "2026-11-30T12:00:60",
      "2026-11-30T12:00+24:00",
      "2026-11-30T12",
      "2026-11-30X",
      "26-11-30",
      "2026-1-3",
      "Nov 30 2026",
      "2026-11-30T12:00:00.1234567890Z",
    ]) {
      expect(parsePoint(text), text).toBeNull();
    }
  });

  it("never throws, and whatever it accepts is a safe position or a valid time", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.stringMatching(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?Z?$/)),
        (text) => {
          const point = parsePoint(text);
          if (point === null) return;
          if (typeof point === "number") expect(Number.isSafeInteger(point) && point >= 0).toBe(true);
          else expect(Number.isNaN(point.getTime())).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("agrees with JavaScript's own reading of every valid UTC time", () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date("0001-01-01T00:00:00Z"),
          max: new Date("9999-12-31T23:59:59Z"),
          noInvalidDate: true,
        }),
        (at) => {
          expect(parseIsoTime(at.toISOString())?.getTime()).toBe(at.getTime());
        },
      ),
      { numRuns: 2000 },
    );
  });
});
