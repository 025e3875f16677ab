import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HISTORY_COLUMNS } from "../../src/cli/read-tables.ts";
import { type Column, fitTable, tableTime, tableWidth, wrap } from "../../src/cli/table.ts";

// `history`'s own columns, but for "ended by": the rows below are cut to fit them.
const columns: Column[] = HISTORY_COLUMNS.filter((c) => c.header !== "ended by");
const at = new Date("2026-11-30T14:03:21.456Z");
const rows = [
  [
    "3.3.0",
    `#12 ${tableTime(at)}`,
    "(running)",
    "upgraded",
    "maria",
    "new venue, faster fills and a longer reason",
  ],
  ["3.2.1", `#4 ${tableTime(at)}`, `#12 ${tableTime(at)}`, "registered", "cli:ops", "first run"],
];
const lines = (text: string) => text.split("\n");

describe("tables that fit", () => {
  it("leaves a table that fits as it is", () => {
    const text = fitTable(columns, rows, 200);
    expect(lines(text)[2]).toBe(
      "3.3.0    #12 2026-11-30 14:03:21  (running)                upgraded    maria    new venue, faster fills and a longer reason",
    );
  });

  it("cuts the least useful column first, then leaves it out, never a time or the running marker", () => {
    const cut = fitTable(columns, rows, 100);
    for (const line of lines(cut)) expect(line.length).toBeLessThanOrEqual(100);
    expect(cut).toContain("new venue, faster f…");
    expect(cut).toContain("(running)");
    const narrow = fitTable(columns, rows, 80);
    for (const line of lines(narrow)) expect(line.length).toBeLessThanOrEqual(80);
    expect(narrow).toContain("#12 2026-11-30 14:03:21");
    expect(narrow).toContain("(running)");
    expect(narrow).not.toContain("new venue");
    expect(narrow).toContain("(left out to fit 80 columns: reason; --json has all)");
    expect(lines(narrow)[0]).toMatch(/^version {2}from \(UTC\)/);
  });

  it("keeps every line within the width for any cells, whatever the width from 80 to 200", () => {
    const cellText = fc.string({ maxLength: 60 }).map((t) => t.replace(/\s/g, "_"));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(cellText, cellText, cellText, cellText), { maxLength: 6 }),
        fc.integer({ min: 80, max: 200 }),
        (cells, width) => {
          const kept: Column[] = [
            { header: "when", keep: true },
            { header: "what", rank: 3, min: 10 },
            { header: "who", rank: 1, optional: true },
            { header: "why", rank: 0, optional: true },
          ];
          const time = tableTime(at);
          const text = fitTable(
            kept,
            cells.map(([a, b, c, d]) => [`${time} ${a.slice(0, 10)}`, b, c, d]),
            width,
          );
          for (const line of lines(text)) expect(line.length).toBeLessThanOrEqual(width);
          for (const [a] of cells) expect(text).toContain(`${time} ${a.slice(0, 10)}`);
        },
      ),
    );
  });

  it("takes COLUMNS, else the terminal's width, else 100, within 80 to 200", () => {
    expect(tableWidth({ isTTY: false }, undefined)).toBe(100);
    expect(tableWidth({ isTTY: true, columns: 132 }, undefined)).toBe(132);
    expect(tableWidth({ isTTY: false }, 160)).toBe(160);
    expect(tableWidth({ isTTY: true, columns: 132 }, 90)).toBe(90);
    expect(tableWidth({ isTTY: true, columns: 40 }, undefined)).toBe(80);
    expect(tableWidth({ isTTY: false }, 500)).toBe(200);
  });

  it("wraps prose between words, a word longer than the width on its own line", () => {
    expect(wrap("the running set is consistent", 80)).toBe("the running set is consistent");
    const wrapped = wrap(`warning: ${"word ".repeat(30).trim()}`, 40);
    for (const line of lines(wrapped)) expect(line.length).toBeLessThanOrEqual(40);
    expect(lines(wrapped)[1]).toMatch(/^ {2}word/);
  });
});
