import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "commander";
import {
  isPluginId,
  type LedgerPoint,
  POINT_FORMS,
  parsePoint,
  parsePosition,
  quote,
} from "../../domain/index.ts";
import { NoteError, parseVerifierKey, type Verifier } from "../../domain/signed-note.ts";
import type { CliContext } from "../context.ts";
import { CliError, ExitCode } from "../exit-codes.ts";

/** Commander argument parsers: a bad value becomes a one-line usage error (exit 2). */
export function nonNegativeInt(value: string): number {
  const n = parsePosition(value);
  if (n === null) throw new InvalidArgumentError(`expected a whole number, got ${quote(value)}`);
  return n;
}

export function positiveInt(value: string): number {
  const n = nonNegativeInt(value);
  if (n === 0) throw new InvalidArgumentError("expected a number above 0");
  return n;
}

/** Every --at, --from, --to and `asof` argument: the domain's one strict reading of a point. */
export function pointInLedger(value: string): LedgerPoint {
  const point = parsePoint(value);
  if (point === null) throw new InvalidArgumentError(`expected ${POINT_FORMS}, got ${quote(value)}`);
  return point;
}

/** A position only (`--to-position`, `events --from`). */
export function positionArg(value: string): number {
  const position = parsePosition(value);
  if (position === null) {
    throw new InvalidArgumentError(`expected a position (a whole number such as 42), got ${quote(value)}`);
  }
  return position;
}

/** A plugin id a read verb is asked about: one that cannot exist is a usage error (exit 2). */
export function pluginIdArg(value: string): string {
  if (!isPluginId(value)) {
    throw new InvalidArgumentError(
      `${quote(value)} is not a plugin id (a lower-case letter, then 1-63 of a-z, 0-9, _)`,
    );
  }
  return value;
}

/**
 * A read of a plugin the ledger has never heard of is answered NOT_FOUND (exit 3), as a change
 * to it would be, rather than with an empty list that looks like a plugin with no history.
 */
export async function requireKnownPlugins(ctx: CliContext, pluginIds: readonly string[]): Promise<void> {
  const ledger = await ctx.ledger();
  const unknown: string[] = [];
  for (const pluginId of pluginIds) {
    if ((await ledger.versions(pluginId)).length === 0) unknown.push(pluginId);
  }
  if (unknown.length > 0) {
    const which = unknown.length === 1 ? `plugin ${unknown[0]} is` : `plugins ${unknown.join(", ")} are`;
    throw new CliError(`NOT_FOUND: ${which} unknown: no version was ever released`, ExitCode.rejected);
  }
}

/** A --key verifier key (`<name>+<key id>+<base64>`); one that does not parse is a usage error. */
export function verifierOf(text: string): Verifier {
  try {
    return parseVerifierKey(text);
  } catch (error) {
    if (error instanceof NoteError) throw new CliError(`--key: ${error.message}`, ExitCode.invalid);
    throw error;
  }
}

/** A file the verb reads (a checkpoint, a proof); one that cannot be read is a usage error. */
export function readInputFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, ExitCode.invalid);
  }
}
