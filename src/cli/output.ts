/**
 * Where a verb's answer goes: with --json one JSON document on stdout and nothing else there;
 * otherwise lines for a person. Progress and errors go to stderr in both cases.
 */
export type Output = {
  json: boolean;
  result(document: unknown, human: () => string): void;
  progress(message: string): void;
};

export function createOutput(json: boolean): Output {
  const interactive = process.stderr.isTTY === true;
  return {
    json,
    result(document, human) {
      process.stdout.write(json ? `${JSON.stringify(document)}\n` : `${human()}\n`);
    },
    progress(message) {
      // On a terminal progress rewrites one line; in a log it is one line each time.
      process.stderr.write(interactive ? `\r\x1b[2K${message}` : `${message}\n`);
    },
  };
}

export function endProgress(): void {
  if (process.stderr.isTTY) process.stderr.write("\r\x1b[2K");
}

/** A fixed-width table that fits the terminal: the widest column is cut with an ellipsis. */
export function table(headers: string[], rows: string[][], width = process.stdout.columns || 120): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  while (total() > width) {
    const widest = widths.indexOf(Math.max(...widths));
    if ((widths[widest] ?? 0) <= 8) break;
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
  const cell = (text: string, i: number) => {
    const w = widths[i] ?? 0;
    return text.length > w ? `${text.slice(0, Math.max(0, w - 1))}…` : text.padEnd(w);
  };
  const line = (cells: string[]) =>
    cells
      .map((c, i) => cell(c, i))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
