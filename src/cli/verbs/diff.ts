import type { Command } from "commander";
import { type DiffMarkup, diffChangeLines, type VersionDiff } from "../../domain/index.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { pluginIdArg } from "./arguments.ts";
import type { Run } from "./run.ts";

export function registerDiffVerb(program: Command, run: Run): void {
  program
    .command("diff")
    .argument("<plugin>", "a plugin id", pluginIdArg)
    .argument("<from>", "a released version")
    .argument("<to>", "another released version")
    .description("what changes from one released version to another: features, requirements, matrix, notes")
    .action(
      run(async (ctx, pluginId: string, from: string, to: string) => {
        const result = await (await ctx.ledger()).diff(pluginId, from, to);
        if (!result.ok) {
          const invalid = result.violations.every((v) => v.code === "INVALID_INPUT");
          throw new CliError(
            result.violations.map((v) => v.message).join(" "),
            invalid ? ExitCode.invalid : ExitCode.rejected,
          );
        }
        ctx.out.result(result.diff, () => diffText(result.diff));
      }),
    );
}

const arrow = (from: string | null, to: string | null) => `${from ?? "(none)"} → ${to ?? "(none)"}`;

const plain = (value: string) => value;
const PLAIN: DiffMarkup = {
  text: plain,
  range: (value) => value ?? "(none)",
  version: plain,
  warning: plain,
  minus: "-",
  alert: "!",
};

/** The diff as lines for a terminal: only what changed, then the notes of the versions between. */
export function diffText(diff: VersionDiff): string {
  const lines = [`${diff.pluginId} ${diff.from} → ${diff.to} (${diff.direction})`];
  if (diff.direction === "same") return `${lines[0]}\nthe same version: nothing changes`;
  const changes = diffChangeLines(diff, PLAIN);
  for (const line of changes) lines.push(`  ${line}`);
  if (changes.length === 0) lines.push("  no change in features, requirements or compatibility");
  lines.push(
    `  built ${diff.buildDate.from.slice(0, 10)} → ${diff.buildDate.to.slice(0, 10)}, ` +
      `commit ${arrow(diff.commitHash.from, diff.commitHash.to)}, author ${diff.author.from} → ${diff.author.to}`,
  );
  lines.push(diff.direction === "up" ? "versions brought in:" : "versions taken out:");
  for (const v of diff.between) {
    const notes = v.releaseNotes.trim() || "(no release notes)";
    lines.push(
      `  ${v.version}${v.deprecated ? " (deprecated)" : ""} ${v.buildDate.slice(0, 10)} ${v.author}: ${notes}`,
    );
  }
  return lines.join("\n");
}
