import { Writable } from "node:stream";
import pino from "pino";

export type LogLine = { level: number; msg: string; [field: string]: unknown };

/** A pino logger whose lines a test can read (warn is level 40). */
export function capturingLogger(level = "info") {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level, base: undefined }, sink), lines };
}
