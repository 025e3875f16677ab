import type { Command } from "commander";
import type { VersionDiff } from "../../domain/index.ts";
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

/** The diff as lines for a terminal: only what changed, then the notes of the versions between. */
export function diffText(diff: VersionDiff): string {
  const lines = [`${diff.pluginId} ${diff.from} → ${diff.to} (${diff.direction})`];
  if (diff.direction === "same") return `${lines[0]}\nthe same version: nothing changes`;
  for (const f of diff.features.added) lines.push(`  + feature ${f}`);
  for (const f of diff.features.removed) lines.push(`  - feature ${f}`);
  for (const r of diff.requirements) {
    const what = r.what === "api" ? "ServiceAPI" : "DB schema";
    const host =
      r.satisfiedByHost === null
        ? ""
        : r.satisfiedByHost
          ? ` (host ${r.hostVersion} satisfies it)`
          : ` (host ${r.hostVersion} does NOT satisfy it)`;
    lines.push(`  ~ requires ${what} ${arrow(r.from, r.to)}${host}`);
  }
  const { added, removed, changed } = diff.compatibility;
  for (const c of added) lines.push(`  + works with ${c.pluginId} ${c.to}`);
  for (const c of removed) lines.push(`  - works with ${c.pluginId} ${c.from}`);
  for (const c of changed) lines.push(`  ~ works with ${c.pluginId} ${arrow(c.from, c.to)}`);
  if (diff.deprecated.to) lines.push(`  ! ${diff.to} is deprecated: ${diff.deprecationReason}`);
  if (lines.length === 1) lines.push("  no change in features, requirements or compatibility");
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
