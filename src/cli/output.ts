import { tableWidth } from "./table.ts";

/**
 * Where a verb's answer goes: with --json one JSON document on stdout and nothing else there;
 * otherwise lines for a person. Progress and errors go to stderr in both cases.
 */
export type Output = {
  json: boolean;
  /** How wide a table may be (see `tableWidth`). */
  width: number;
  result(document: unknown, human: () => string): void;
  progress(message: string): void;
};

export function createOutput(json: boolean, columns?: number): Output {
  const interactive = process.stderr.isTTY === true;
  return {
    json,
    width: tableWidth(process.stdout, columns),
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
