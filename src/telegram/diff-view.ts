import type { VersionDiff } from "../domain/index.ts";
import { bold, code, escapeHtml, italic, truncate } from "./html.ts";

/**
 * A version diff as Telegram HTML, one fact a line, every ledger value escaped: the answer to
 * /diff, and the part of a preview or an audit message that says what the move changes.
 */
const NOTES_MAX = 200;
const BETWEEN_MAX = 10;

const range = (value: string | null) => (value === null ? "none" : code(value));

export function diffLines(diff: VersionDiff): string[] {
  if (diff.direction === "same") return ["The same version: nothing changes."];
  const lines: string[] = [];
  for (const f of diff.features.added) lines.push(`+ feature ${escapeHtml(f)}`);
  for (const f of diff.features.removed) lines.push(`− feature ${escapeHtml(f)}`);
  for (const r of diff.requirements) {
    const what = r.what === "api" ? "ServiceAPI" : "DB schema";
    const host =
      r.satisfiedByHost === null
        ? ""
        : r.satisfiedByHost
          ? ` (host ${code(r.hostVersion ?? "")} satisfies it)`
          : ` (${bold(`host ${r.hostVersion ?? ""} does NOT satisfy it`)})`;
    lines.push(`~ requires ${what} ${range(r.from)} → ${range(r.to)}${host}`);
  }
  const { added, removed, changed } = diff.compatibility;
  for (const c of added) lines.push(`+ works with ${escapeHtml(c.pluginId)} ${range(c.to)}`);
  for (const c of removed) lines.push(`− works with ${escapeHtml(c.pluginId)} ${range(c.from)}`);
  for (const c of changed)
    lines.push(`~ works with ${escapeHtml(c.pluginId)} ${range(c.from)} → ${range(c.to)}`);
  if (diff.deprecated.to) {
    lines.push(bold(`⚠ ${diff.to} is deprecated: ${diff.deprecationReason ?? ""}`));
  }
  if (lines.length === 0) lines.push("No change in features, requirements or compatibility.");
  lines.push(
    `built ${escapeHtml(diff.buildDate.from.slice(0, 10))} → ${escapeHtml(diff.buildDate.to.slice(0, 10))}` +
      ` · author ${escapeHtml(diff.author.from)} → ${escapeHtml(diff.author.to)}` +
      (diff.commitHash.to ? ` · commit ${code(diff.commitHash.to.slice(0, 7))}` : ""),
  );
  const shown = diff.between.slice(0, BETWEEN_MAX);
  lines.push(italic(diff.direction === "up" ? "Versions brought in:" : "Versions taken out:"));
  for (const v of shown) {
    const notes = v.releaseNotes.trim() ? escapeHtml(truncate(v.releaseNotes.trim(), NOTES_MAX)) : "no notes";
    lines.push(
      `• ${code(v.version)}${v.deprecated ? " (deprecated)" : ""} ${escapeHtml(v.author)}: ${notes}`,
    );
  }
  if (diff.between.length > shown.length) lines.push(`… and ${diff.between.length - shown.length} more`);
  return lines;
}

export function diffMessage(diff: VersionDiff): string {
  return [bold(`${diff.pluginId} ${diff.from} → ${diff.to}`), ...diffLines(diff)].join("\n");
}
