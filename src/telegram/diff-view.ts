import { type DiffMarkup, diffChangeLines, type VersionDiff } from "../domain/index.ts";
import { bold, code, escapeHtml, italic, truncate } from "./html.ts";

/**
 * A version diff as Telegram HTML, one fact a line, every ledger value escaped: the answer to
 * /diff, and the part of a preview or an audit message that says what the move changes.
 */
const NOTES_MAX = 200;
const BETWEEN_MAX = 10;

const HTML: DiffMarkup = {
  text: escapeHtml,
  range: (value) => (value === null ? "none" : code(value)),
  version: code,
  warning: bold,
  minus: "−",
  alert: "⚠",
};

export function diffLines(diff: VersionDiff): string[] {
  if (diff.direction === "same") return ["The same version: nothing changes."];
  const lines = diffChangeLines(diff, HTML);
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
