import type { VersionDiff } from "./version-diff.ts";

/**
 * How a transport marks up a diff's values: the CLI writes them plain, Telegram escapes them and
 * sets them in code or bold. The facts and their order are the same everywhere.
 */
export type DiffMarkup = {
  /** Any text from the ledger (a feature, a plugin id). */
  text(value: string): string;
  /** A requirement or compatibility range; `null` where there was none. */
  range(value: string | null): string;
  /** A host version. */
  version(value: string): string;
  /** What the operator must not miss: a requirement the host fails, a deprecated target. */
  warning(value: string): string;
  /** The sign of a removal, and of a warning line. */
  minus: string;
  alert: string;
};

/** What a move changes, one fact a line: features, requirements, compatibility, deprecation. */
export function diffChangeLines(diff: VersionDiff, m: DiffMarkup): string[] {
  const lines: string[] = [];
  for (const f of diff.features.added) lines.push(`+ feature ${m.text(f)}`);
  for (const f of diff.features.removed) lines.push(`${m.minus} feature ${m.text(f)}`);
  for (const r of diff.requirements) {
    const what = r.what === "api" ? "ServiceAPI" : "DB schema";
    const version = r.hostVersion ?? "";
    const host =
      r.satisfiedByHost === null
        ? ""
        : r.satisfiedByHost
          ? ` (host ${m.version(version)} satisfies it)`
          : ` (${m.warning(`host ${version} does NOT satisfy it`)})`;
    lines.push(`~ requires ${what} ${m.range(r.from)} → ${m.range(r.to)}${host}`);
  }
  const { added, removed, changed } = diff.compatibility;
  for (const c of added) lines.push(`+ works with ${m.text(c.pluginId)} ${m.range(c.to)}`);
  for (const c of removed) lines.push(`${m.minus} works with ${m.text(c.pluginId)} ${m.range(c.from)}`);
  for (const c of changed)
    lines.push(`~ works with ${m.text(c.pluginId)} ${m.range(c.from)} → ${m.range(c.to)}`);
  if (diff.deprecated.to) {
    lines.push(m.warning(`${m.alert} ${diff.to} is deprecated: ${diff.deprecationReason ?? ""}`));
  }
  return lines;
}
