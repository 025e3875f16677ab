import type { Command } from "commander";
import { quote } from "../domain/index.ts";
import { CliError, ExitCode } from "./exit-codes.ts";

/**
 * `plugin-ledger statu`: the default verb (start) receives the word, and answers as git does,
 * "unknown command 'statu' (did you mean status?)", instead of "too many arguments".
 */
export function unknownVerb(program: Command, word: string): CliError {
  // `start` is the hidden default verb, never a suggestion.
  return unknownCommand(program, word, "plugin-ledger", ["start"]);
}

/**
 * `plugin-ledger abtest` alone or with a word that is none of its commands: one line naming
 * them, where commander would print the whole help on stderr.
 */
export function missingSubcommand(group: Command, word: string | undefined): CliError {
  const path = `plugin-ledger ${group.name()}`;
  if (word !== undefined) return unknownCommand(group, word, path);
  const names = group.commands.map((c) => c.name());
  const list = `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
  return new CliError(`${group.name()} needs a command: ${list}; see ${path} --help`, ExitCode.invalid);
}

function unknownCommand(parent: Command, word: string, path: string, hidden: string[] = []): CliError {
  const verbs = parent.commands.map((c) => c.name()).filter((name) => !hidden.includes(name));
  const near = verbs
    .map((verb) => ({ verb, distance: editDistance(word.toLowerCase(), verb) }))
    .filter(({ verb, distance }) => distance <= Math.max(1, Math.floor(verb.length / 3)))
    .sort((a, b) => a.distance - b.distance)
    .map(({ verb }) => verb);
  const hint = near.length > 0 ? ` (did you mean ${near.slice(0, 2).join(" or ")}?)` : "";
  const shown = word.length > 40 ? quote(word) : `'${word}'`;
  return new CliError(`unknown command ${shown}${hint}; see ${path} --help`, ExitCode.invalid);
}

/** Levenshtein distance, with a transposition counting as one edit (statsu -> status). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Number.POSITIVE_INFINITY;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}
