import { tableWidth } from "./table.ts";

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
  /** How wide a table may be (see `tableWidth`). */
  width: number;
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
export function createOutput(json: boolean, stdout: CliStream, stderr: CliStream, columns?: number): Output {
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
    width: tableWidth(stdout, columns),
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
