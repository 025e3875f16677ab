import { Writable } from "node:stream";
import pino from "pino";
import { expect } from "vitest";
import type { CommandRequest, ExecuteResult } from "../../src/index.ts";
import type { Ledger } from "../../src/ledger/ledger.ts";
import type { Logger } from "../../src/log.ts";
import { DatabaseUnavailableError } from "../../src/store/connection-errors.ts";

/** A warn-level logger whose messages land in `warnings`, for a test to say what was logged. */
export function warningsLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      warnings.push(JSON.parse(String(chunk)).msg);
      done();
    },
  });
  return { logger: pino({ level: "warn" }, sink), warnings };
}

/** What commands run through faults came to. */
export type FaultOutcomes = { ok: ExecuteResult[]; rejected: number; unavailable: number };

/**
 * Runs one command through faults and counts its outcome: written, refused as ALREADY (an
 * earlier try of a command like it was written), or the database reported unavailable; anything
 * else fails the test.
 */
export async function executeCounted(
  ledger: Ledger,
  command: CommandRequest,
  context: Parameters<Ledger["execute"]>[1],
  outcomes: FaultOutcomes,
): Promise<void> {
  try {
    const result = await ledger.execute(command, context);
    if (result.ok) outcomes.ok.push(result);
    else {
      expect(result.violations.map((v) => v.code)).toEqual(["ALREADY"]);
      outcomes.rejected++;
    }
  } catch (error) {
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    outcomes.unavailable++;
  }
}
