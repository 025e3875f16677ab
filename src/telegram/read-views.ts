import { BASIS_POINTS, eventSummary, formatPercent } from "../domain/index.ts";
import type {
  AbTestStatus,
  AuditEntry,
  CatalogEntry,
  HistoryInterval,
  MatrixView,
  PluginStatus,
  StatusView,
  VerifyResult,
} from "../ledger/index.ts";
import { bold, code, escapeHtml, italic, truncate } from "./html.ts";

/**
 * The read answers as Telegram HTML, one line per fact so that a long answer splits cleanly.
 * Every value from the ledger is escaped here; nothing else builds markup around it.
 */

const NOTES_MAX = 300;

export function when(at: Date | string | null | undefined): string {
  if (!at) return "";
  const date = at instanceof Date ? at : new Date(at);
  return Number.isNaN(date.getTime())
    ? escapeHtml(String(at))
    : `${date.toISOString().slice(0, 16).replace("T", " ")}Z`;
}

const day = (at: Date | string) => escapeHtml((at instanceof Date ? at.toISOString() : at).slice(0, 10));
const who = (actor: { id: string; name?: string } | null | undefined) =>
  actor ? escapeHtml(actor.name ?? actor.id) : "?";

function hostLine(view: StatusView): string {
  return view.host
    ? `Host: ServiceAPI ${code(view.host.apiVersion)}, DB schema ${code(view.host.dbSchemaVersion)}`
    : "Host: versions not declared";
}

/** `/version`: each active plugin with its release's date, commit, features and A/B state. */
export function statusMessage(
  view: StatusView,
  releases: Map<string, CatalogEntry | undefined>,
  heading: string,
) {
  const lines = [bold(heading), hostLine(view)];
  if (view.plugins.length === 0) lines.push("No plugin runs.");
  for (const plugin of view.plugins) {
    const release = releases.get(plugin.pluginId);
    const facts = [
      release ? `released ${day(release.releasedAt)}` : undefined,
      release?.commitHash ? `commit ${code(release.commitHash.slice(0, 7))}` : undefined,
      `A/B: ${plugin.abTest === null ? "none" : abSplit(plugin.abTest)}`,
    ].filter(Boolean);
    // A deprecated version that still runs is what an operator must act on: said first.
    const deprecated = plugin.deprecated
      ? ` ⚠️ <b>deprecated</b>${release?.deprecationReason ? ` (${escapeHtml(release.deprecationReason)})` : ""}`
      : "";
    lines.push(
      "",
      `${bold(plugin.pluginId)} ${code(plugin.version)}${deprecated} since ${when(plugin.since)}`,
      facts.join(" · "),
    );
    if (release && release.features.length > 0) {
      lines.push(`features: ${release.features.map(escapeHtml).join(", ")}`);
    }
  }
  return lines.join("\n");
}

/** Both arms and their shares: "3.3.0 90% vs 3.4.0 10%". */
function abSplit(test: AbTestStatus): string {
  const controlBp = BASIS_POINTS - test.candidateWeightBp;
  return `${code(test.control)} ${formatPercent(controlBp)} vs ${code(test.candidate)} ${formatPercent(test.candidateWeightBp)}`;
}

/** `/abtest <plugin> status`: the running test, its arms and split, and since when. */
export function abTestMessage(pluginId: string, plugin: PluginStatus | undefined): string {
  if (plugin === undefined) return `${code(pluginId)} does not run, so it runs no A/B test.`;
  const test = plugin.abTest;
  if (test === null) return `${code(pluginId)} runs ${code(plugin.version)} and no A/B test.`;
  return [
    `${bold(pluginId)} A/B test ${code(test.testId)}`,
    `control ${code(test.control)} ${formatPercent(BASIS_POINTS - test.candidateWeightBp)} · candidate ${code(test.candidate)} ${formatPercent(test.candidateWeightBp)}`,
    `since #${test.sincePosition} ${when(test.since)}`,
  ].join("\n");
}

/** `/versions`: every release of a plugin, in version order, the running one marked. */
export function versionsMessage(pluginId: string, items: CatalogEntry[], running: string | null): string {
  if (items.length === 0) return `No released versions of ${code(pluginId)}.`;
  const lines = [`${bold(pluginId)}: ${items.length} released version${items.length === 1 ? "" : "s"}`];
  for (const v of items) {
    const marks = [v.version === running ? "running" : "", v.deprecated ? "deprecated" : ""].filter(Boolean);
    const facts = [
      `built ${day(v.buildDate)}`,
      v.commitHash ? code(v.commitHash.slice(0, 7)) : "",
      `by ${escapeHtml(v.author)}`,
      v.requires.api ? `api ${code(v.requires.api)}` : "",
      v.requires.dbSchema ? `db ${code(v.requires.dbSchema)}` : "",
    ].filter(Boolean);
    lines.push(
      "",
      `${code(v.version)}${marks.length ? ` ${italic(marks.join(", "))}` : ""} · ${facts.join(" · ")}`,
    );
    if (v.features.length > 0) lines.push(`features: ${v.features.map(escapeHtml).join(", ")}`);
    if (v.releaseNotes.trim() !== "")
      lines.push(`notes: ${escapeHtml(truncate(oneLine(v.releaseNotes), NOTES_MAX))}`);
    if (v.deprecated && v.deprecationReason)
      lines.push(`deprecated: ${escapeHtml(oneLine(v.deprecationReason))}`);
  }
  return lines.join("\n");
}

/** `/history`: one line per interval, newest first. */
export function historyMessage(pluginId: string, items: HistoryInterval[]): string {
  if (items.length === 0) return `${code(pluginId)} has never run.`;
  const lines = [`${bold(pluginId)}: ${items.length} interval${items.length === 1 ? "" : "s"}, newest first`];
  for (const h of items) {
    const until = h.toPosition === null ? "<i>running</i>" : `#${h.toPosition} ${when(h.toAt)}`;
    const reason = h.reason ? `: ${escapeHtml(truncate(oneLine(h.reason), 120))}` : "";
    lines.push(
      `${code(h.version)} #${h.fromPosition} ${when(h.fromAt)} → ${until} · ${escapeHtml(h.action)} by ${who(h.actor)}${reason}`,
    );
  }
  return lines.join("\n");
}

export function matrixMessage(view: MatrixView): string {
  const lines = [bold("Compatibility")];
  if (view.items.length === 0) lines.push("No release declares a compatibility range.");
  for (const m of view.items) {
    const verdict = m.satisfied === null ? "not running" : m.satisfied ? "ok" : "<b>NOT satisfied</b>";
    lines.push(
      `${code(m.pluginId)} ${code(m.version)}${m.active ? " (running)" : ""} needs ${code(m.otherPluginId)} ${code(m.range)}: ${m.otherActiveVersion ? code(m.otherActiveVersion) : "-"} ${verdict}`,
    );
  }
  lines.push(
    "",
    view.consistent ? "The running set is consistent." : "<b>The running set is NOT consistent:</b>",
    ...view.violations.map((v) => `• ${escapeHtml(v.code)}: ${escapeHtml(v.message)}`),
  );
  return lines.join("\n");
}

export function auditMessage(items: AuditEntry[]): string {
  if (items.length === 0) return "No events yet.";
  const lines = [bold(`Latest ${items.length} event${items.length === 1 ? "" : "s"}, newest first`)];
  for (const a of items) {
    const forced = a.forced ? ` · <b>forced</b> past ${escapeHtml(a.overrides.join(", ") || "rules")}` : "";
    const reason = a.reason ? `: ${escapeHtml(truncate(oneLine(a.reason), 120))}` : "";
    lines.push(
      `#${a.position} ${when(a.recordedAt)} ${escapeHtml(a.type)} ${escapeHtml(summary(a.data))} · by ${who(a.actor)}${reason}${forced}`,
    );
  }
  return lines.join("\n");
}

export function verifyMessage(result: VerifyResult): string {
  return result.ok
    ? `✅ The chain verifies: ${result.events} events, head ${code(result.headHash)}`
    : [
        `❌ <b>The chain does not verify</b> at position ${result.firstBadPosition}: ${escapeHtml(result.problem ?? "")}`,
        `${result.events} events checked before it; head ${code(result.headHash)}`,
      ].join("\n");
}

/** The few fields a person reads first (plugin, version or from -> to), in plain text. */
export const summary = eventSummary;

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();
