import { eventSummary, formatPercent } from "../domain/index.ts";
import type {
  AbTestStatus,
  AuditEntry,
  CatalogEntry,
  HistoryInterval,
  MatrixItem,
  MatrixView,
  StatusView,
} from "../ledger/index.ts";
import { type Column, fitTable, oneLine, tableTime, wrap } from "./table.ts";

/**
 * The read verbs' answers for a person: the tables and lines of `status`, `versions`, `history`,
 * `audit` and `matrix` (their --json documents come from the ledger as they are).
 */

const who = (actor: { id: string; name?: string } | null | undefined) =>
  actor ? (actor.name ?? actor.id) : "";

/** Both arms and the candidate's share: "3.3.0 vs 3.4.0 @ 10%". */
function split(test: AbTestStatus | null): string {
  return test ? `${test.control} vs ${test.candidate} @ ${formatPercent(test.candidateWeightBp)}` : "";
}

export function statusText(view: StatusView, heading: string, width: number): string {
  const host = view.host
    ? `host: ServiceAPI ${view.host.apiVersion}, DB schema ${view.host.dbSchemaVersion}`
    : "host: versions not declared";
  if (view.plugins.length === 0) return `${heading}\n${wrap(host, width)}\nno active plugins`;
  const deprecated = view.plugins.filter((p) => p.deprecated);
  return [
    heading,
    wrap(host, width),
    fitTable(
      [
        { header: "plugin", keep: true },
        { header: "version", keep: true },
        { header: "since (UTC)", keep: true },
        { header: "position", rank: 1, optional: true },
        { header: "A/B", rank: 2, min: 16 },
      ],
      view.plugins.map((p) => [
        p.pluginId,
        `${p.version}${p.deprecated ? " (deprecated)" : ""}`,
        tableTime(p.since),
        String(p.sincePosition),
        split(p.abTest),
      ]),
      width,
    ),
    // Deprecated yet running: the one thing on this page someone must act on.
    ...(deprecated.length === 0
      ? []
      : [
          wrap(
            `warning: deprecated versions run: ${deprecated.map((p) => `${p.pluginId} ${p.version}`).join(", ")} (upgrade or roll back)`,
            width,
          ),
        ]),
  ].join("\n");
}

export function versionsText(pluginId: string, items: CatalogEntry[], width: number): string {
  if (items.length === 0) return `no released versions of ${pluginId}`;
  return fitTable(
    [
      { header: "version", keep: true },
      { header: "built", rank: 4 },
      { header: "commit", rank: 2, optional: true },
      { header: "author", rank: 1, optional: true },
      { header: "api", rank: 3, min: 6 },
      { header: "db schema", rank: 3, min: 6 },
      { header: "deprecated", keep: true },
      { header: "features", rank: 0, optional: true },
    ],
    items.map((v) => [
      v.version,
      v.buildDate.slice(0, 10),
      (v.commitHash ?? "").slice(0, 8),
      v.author,
      v.requires.api ?? "*",
      v.requires.dbSchema ?? "*",
      v.deprecated ? "yes" : "",
      v.features.join(","),
    ]),
    width,
  );
}

/** `history`'s columns: a version's interval never loses its ends, the reason gives way first. */
export const HISTORY_COLUMNS: readonly Column[] = [
  { header: "version", keep: true },
  { header: "from (UTC)", keep: true },
  { header: "to (UTC)", keep: true },
  { header: "action", rank: 4 },
  { header: "actor", rank: 2, optional: true },
  { header: "reason", rank: 1, optional: true },
  { header: "ended by", rank: 3, optional: true },
];

export function historyText(pluginId: string, items: HistoryInterval[], width: number): string {
  if (items.length === 0) return `${pluginId} has never run`;
  return fitTable(
    [...HISTORY_COLUMNS],
    items.map((h) => [
      h.version,
      `#${h.fromPosition} ${tableTime(h.fromAt)}`,
      h.toPosition === null ? "(running)" : `#${h.toPosition} ${tableTime(h.toAt)}`,
      h.action,
      who(h.actor),
      oneLine(h.reason ?? ""),
      h.endedBy ?? "",
    ]),
    width,
  );
}

export function auditText(items: AuditEntry[], width: number): string {
  return fitTable(
    [
      { header: "#", keep: true },
      { header: "when (UTC)", keep: true },
      { header: "event", rank: 4, min: 12 },
      { header: "change", rank: 5, min: 20 },
      { header: "actor", rank: 2, optional: true },
      { header: "reason", rank: 1, optional: true },
      { header: "forced", rank: 3, optional: true },
    ],
    items.map((a) => [
      String(a.position),
      tableTime(a.recordedAt),
      a.type,
      eventSummary(a.data),
      who(a.actor),
      oneLine(a.reason ?? ""),
      a.forced ? a.overrides.join(",") || "yes" : "",
    ]),
    width,
  );
}

/**
 * The running versions' declarations, and a verdict for the running set. What releases that do
 * not run declare says nothing of the running set, so it shows only with `--all`, after them,
 * its verdict spelled "if run".
 */
export function matrixText(view: MatrixView, all: boolean, width: number): string {
  const running = view.items.filter((m) => m.active);
  const idle = view.items.filter((m) => !m.active);
  const shown = all ? [...running, ...idle] : running;
  const verdict = (m: MatrixItem) => {
    if (m.satisfied === null) return m.active ? "(not running)" : "";
    const ok = m.satisfied ? "yes" : "NO";
    return m.active ? ok : `if run: ${ok.toLowerCase()}`;
  };
  const lines = [
    shown.length === 0
      ? view.items.length === 0
        ? "no release declares a compatibility range"
        : "no running version declares a compatibility range"
      : fitTable(
          [
            { header: "plugin", keep: true },
            { header: "version", keep: true },
            { header: "works with", rank: 3, min: 10 },
            { header: "range", rank: 2, min: 10 },
            { header: "running", rank: 1, min: 7, optional: true },
            { header: "ok", keep: true },
          ],
          shown.map((m) => [
            m.pluginId,
            `${m.version}${m.deprecated ? " (deprecated)" : ""}`,
            m.otherPluginId,
            m.range,
            m.otherActiveVersion ?? "-",
            verdict(m),
          ]),
          width,
        ),
  ];
  if (!all && idle.length > 0) {
    lines.push(`(${idle.length} declarations of releases that do not run: matrix --all)`);
  }
  lines.push(
    view.consistent
      ? "the running set is consistent"
      : [
          "the running set is NOT consistent:",
          ...view.violations.map((v) => wrap(`  ${v.code}: ${v.message}`, width, "    ")),
        ].join("\n"),
  );
  return lines.join("\n");
}
