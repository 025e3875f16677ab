/** A stream the CLI writes to: the process's own, or a test's. */
export type CliStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/**
 * Where a verb's answer goes: with --json one JSON document on stdout and nothing else there;
 * otherwise lines for a person. Progress and errors go to stderr in both cases.
 */
export type Output = {
  json: boolean;
  stdout: CliStream;
  stderr: CliStream;
  result(document: unknown, human: () => string): void;
  /**
   * A chunk of a long answer (`events`, a chart), waiting while the reader is behind, so a
   * million events piped into `head` never buffer in memory. False once the reader has gone.
   */
  write(chunk: string | Uint8Array): Promise<boolean>;
  /** True once stdout's reader has gone (`| head -1`): the rest of the answer is not wanted. */
  readonly closed: boolean;
  progress(message: string): void;
  endProgress(): void;
};

/**
 * An early-closed stdout (EPIPE) is the reader saying it has enough: it ends the answer
 * quietly, never the process with an unhandled 'error' event.
 */
export function createOutput(json: boolean, stdout: CliStream, stderr: CliStream): Output {
  let closed = false;
  stdout.on("error", (error: NodeJS.ErrnoException) => {
    closed = true;
    if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") {
      stderr.write(`plugin-ledger: cannot write the answer: ${error.message}\n`);
    }
  });
  stderr.on("error", () => {});
  const interactive = stderr.isTTY === true;
  const output: Output = {
    json,
    stdout,
    stderr,
    get closed() {
      return closed;
    },
    result(document, human) {
      if (!closed) stdout.write(json ? `${JSON.stringify(document)}\n` : `${human()}\n`);
    },
    async write(chunk) {
      if (closed) return false;
      if (stdout.write(chunk)) return true;
      await new Promise<void>((resolve) => {
        const done = () => {
          stdout.off("drain", done);
          stdout.off("error", done);
          stdout.off("close", done);
          resolve();
        };
        stdout.on("drain", done);
        stdout.on("error", done);
        stdout.on("close", done);
      });
      return !closed;
    },
    progress(message) {
      // On a terminal progress rewrites one line; in a log it is one line each time.
      stderr.write(interactive ? `\r\x1b[2K${message}` : `${message}\n`);
    },
    endProgress() {
      if (interactive) stderr.write("\r\x1b[2K");
    },
  };
  return output;
}

/** A fixed-width table that fits the terminal: the widest column is cut with an ellipsis. */
export function table(headers: string[], rows: string[][], width = process.stdout.columns || 120): string {
  // Loops, not Math.max(...): a catalog of 100,000 versions must not overflow the stack.
  const widths = headers.map((h, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? "").length), h.length));
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  while (total() > width) {
    const widest = widths.indexOf(widths.reduce((a, b) => Math.max(a, b), 0));
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
