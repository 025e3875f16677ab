/**
 * Tables that fit the terminal. Each column says how much it matters: the columns that must
 * never be cut (a time, a "still running" marker, what identifies the row) are `keep`; the
 * others give way least useful first (lowest `rank`), first cut with an ellipsis down to
 * their `min`, then, if `optional`, left out altogether, with a line saying which.
 */
export type Column = {
  header: string;
  /** Never cut nor left out. */
  keep?: boolean;
  /** How useful the column is: the lowest gives way first. */
  rank?: number;
  /** The narrowest it is cut to (default 8, or its header if shorter). */
  min?: number;
  /** May be left out when even cut the table does not fit. */
  optional?: boolean;
};

/** Width used when nobody says: stdout is a file or a pipe and COLUMNS is unset. */
export const DEFAULT_WIDTH = 100;
const NARROWEST = 80;
const WIDEST = 200;
const GAP = 2;

/** COLUMNS when set, else the terminal's width, else 100; always within 80 to 200. */
export function tableWidth(
  stdout: { isTTY?: boolean; columns?: number },
  columns: number | undefined,
): number {
  const asked = columns ?? (stdout.isTTY && stdout.columns ? stdout.columns : DEFAULT_WIDTH);
  return Math.min(WIDEST, Math.max(NARROWEST, asked));
}

export function fitTable(columns: Column[], rows: string[][], width: number): string {
  // A loop, not Math.max(...rows): a catalog of 100,000 versions must not overflow the stack.
  const natural = columns.map((c, i) =>
    rows.reduce((w, r) => Math.max(w, (r[i] ?? "").length), c.header.length),
  );
  const widths = [...natural];
  const shown = columns.map(() => true);
  const total = () =>
    widths.reduce((sum, w, i) => sum + (shown[i] ? w : 0), 0) + GAP * (shown.filter(Boolean).length - 1);
  // Least useful first; among equals, the rightmost first (tables put what matters left).
  const yielding = columns
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => !c.keep)
    .sort((a, b) => (a.c.rank ?? 0) - (b.c.rank ?? 0) || b.i - a.i);
  const floor = (i: number) => Math.min(natural[i] ?? 0, columns[i]?.min ?? 8);

  // Each column in turn, least useful first, is cut to its minimum and, if that is not enough
  // and it may go, left out: a more useful column is touched only when the less useful ones
  // could not make room.
  for (const { c, i } of yielding) {
    const over = total() - width;
    if (over <= 0) break;
    widths[i] = Math.max(floor(i), (widths[i] ?? 0) - over);
    if (total() > width && c.optional) shown[i] = false;
  }
  // Leaving a column out may free more than needed: give it back, most useful first.
  for (const { i } of [...yielding].reverse()) {
    const slack = width - total();
    if (slack <= 0) break;
    if (shown[i]) widths[i] = Math.min(natural[i] ?? 0, (widths[i] ?? 0) + slack);
  }

  const cell = (text: string, i: number) => {
    const w = widths[i] ?? 0;
    return text.length > w ? `${text.slice(0, Math.max(0, w - 1))}…` : text.padEnd(w);
  };
  const line = (cells: string[]) =>
    cells
      .map((text, i) => (shown[i] ? cell(text, i) : null))
      .filter((text) => text !== null)
      .join(" ".repeat(GAP))
      .trimEnd();
  const lines = [
    line(columns.map((c) => c.header)),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
  ];
  const left = columns.filter((_, i) => !shown[i]).map((c) => c.header);
  if (left.length > 0) {
    lines.push(wrap(`(left out to fit ${width} columns: ${left.join(", ")}; --json has all)`, width));
  }
  return lines.join("\n");
}

/** Prose under or above a table, broken between words to the table's width. */
export function wrap(text: string, width: number, indent = "  "): string {
  return text
    .split("\n")
    .map((paragraph) => {
      const lines: string[] = [];
      let line = "";
      for (const word of paragraph.split(" ")) {
        const next = line === "" ? word : `${line} ${word}`;
        if (next.length <= width || line.trim() === "") line = next;
        else {
          lines.push(line);
          line = `${indent}${word}`;
        }
      }
      lines.push(line);
      return lines.join("\n");
    })
    .join("\n");
}

/** A time in a table: to the second, UTC (the header says so), as wide on every row. */
export function tableTime(at: Date | null | undefined): string {
  return at ? at.toISOString().slice(0, 19).replace("T", " ") : "";
}

/** A free text (a reason, a message) in one cell or line: its line breaks and runs of spaces as one space. */
export const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();
