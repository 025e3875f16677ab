import { BASIS_POINTS, formatPercent, type VersionDiff, versionMove } from "../domain/index.ts";
import type { RecordedEvent } from "../ledger/index.ts";
import { diffLines } from "./diff-view.ts";
import { bold, code, escapeHtml, MESSAGE_LIMIT, splitHtml, truncate } from "./html.ts";

/**
 * What the audit chats read: one message per change (an append's events together: a change
 * forced past a running A/B test brings the test's end with it), and one per run of releases and
 * deprecations, listed up to the message limit with "… and N more". Pure: the diffs come in.
 */

/** Events told together: consecutive releases and deprecations, or one append's other events. */
export type ChangeGroup = { catalog: boolean; events: RecordedEvent[] };

const isCatalog = (event: RecordedEvent) =>
  event.type === "VersionReleased" || event.type === "VersionDeprecated";

/** One append's events share their metadata, idempotency key included. */
const sameAppend = (a: RecordedEvent, b: RecordedEvent) =>
  a.metadata.idempotencyKey !== undefined
    ? a.metadata.idempotencyKey === b.metadata.idempotencyKey
    : a.recordedAt.getTime() === b.recordedAt.getTime() && a.streamId === b.streamId;

export function groupChanges(events: readonly RecordedEvent[]): ChangeGroup[] {
  const groups: ChangeGroup[] = [];
  for (const event of events) {
    const last = groups.at(-1);
    const previous = last?.events.at(-1);
    const catalog = isCatalog(event);
    if (last && previous && last.catalog === catalog && (catalog || sameAppend(previous, event))) {
      last.events.push(event);
    } else groups.push({ catalog, events: [event] });
  }
  return groups;
}

/** The versions a change moves between, whose diff the message shows. */
export function diffAsked(group: ChangeGroup): { pluginId: string; from: string; to: string } | null {
  return versionMove(group.events);
}

/** The actor as a person reads it: "ada (Telegram 1001)", "alice (CLI)". */
export function actorText(actor: RecordedEvent["metadata"]["actor"] | undefined): string {
  if (!actor) return "someone unknown";
  const via = { telegram: `Telegram ${actor.id}`, cli: "CLI", http: "HTTP API", system: "system" }[
    actor.kind
  ];
  const name = actor.name ?? actor.id;
  return `${name} (${via ?? actor.kind}${actor.kind !== "telegram" && actor.name && actor.name !== actor.id ? ` ${actor.id}` : ""})`;
}

const split = (control: string, candidate: string, candidateBp: number) =>
  `${code(control)} ${formatPercent(BASIS_POINTS - candidateBp)} vs ${code(candidate)} ${formatPercent(candidateBp)}`;

const NOT_RUNNING = "<i>not running</i>";

/** One line per event of a change: the plugin, from → to, and the action. */
export function changeLine(event: RecordedEvent): string {
  switch (event.type) {
    case "PluginRegistered":
      return `${bold(event.data.pluginId)}: ${NOT_RUNNING} → ${code(event.data.version)} (registered)`;
    case "PluginUpgraded":
      return `${bold(event.data.pluginId)}: ${code(event.data.from)} → ${code(event.data.to)} (${event.data.direction === "up" ? "upgraded" : "downgraded"}${event.data.crossesMajor ? ", across a MAJOR" : ""})`;
    case "PluginRolledBack":
      return `${bold(event.data.pluginId)}: ${code(event.data.from)} → ${code(event.data.to)} (rolled back)`;
    case "PluginDeactivated":
      return `${bold(event.data.pluginId)}: ${code(event.data.version)} → ${NOT_RUNNING} (deactivated)`;
    case "AbTestStarted":
      return `${bold(event.data.pluginId)}: A/B test started, ${split(event.data.control, event.data.candidate, event.data.candidateWeightBp)}`;
    case "AbTestWeightChanged":
      return `${bold(event.data.pluginId)}: A/B split changed, candidate ${formatPercent(event.data.fromBp)} → ${formatPercent(event.data.toBp)}`;
    case "AbTestPromoted":
      return `${bold(event.data.pluginId)}: ${code(event.data.control)} → ${code(event.data.candidate)} (A/B candidate promoted)`;
    case "AbTestAborted":
      return `${bold(event.data.pluginId)}: A/B test ended, ${code(event.data.control)} keeps running, ${code(event.data.candidate)} stops`;
    case "HostVersionsDeclared":
      return `Host declared: ServiceAPI ${code(event.data.apiVersion)}, DB schema ${code(event.data.dbSchemaVersion)}`;
    case "AuditChatEnabled":
      return `🔔 Chat ${code(String(event.data.chatId))} is told of every change from now on (${event.data.source === "config" ? "TELEGRAM_AUDIT_CHAT_IDS" : "/notify on"})`;
    case "AuditChatDisabled":
      return `🔕 Chat ${code(String(event.data.chatId))} is told nothing more (${event.data.source === "config" ? "no longer in TELEGRAM_AUDIT_CHAT_IDS" : "/notify off"})`;
    case "VersionReleased":
      return `• ${bold(event.data.pluginId)} ${code(event.data.version)} released${event.data.features.length ? ` (${escapeHtml(truncate(event.data.features.join(", "), 120))})` : ""}`;
    case "VersionDeprecated":
      return `• ${bold(event.data.pluginId)} ${code(event.data.version)} deprecated${event.data.reason ? `: ${escapeHtml(truncate(event.data.reason, 200))}` : ""}`;
  }
}

/** Where the change sits in the log: its position(s) and the hash the head had after it. */
function whereLine(events: readonly RecordedEvent[]): string {
  const first = events[0] as RecordedEvent;
  const last = events.at(-1) as RecordedEvent;
  const at = first === last ? `#${last.position}` : `#${first.position}–#${last.position}`;
  return `${at} · head ${code(last.hash.slice(0, 12))} · ${escapeHtml(last.recordedAt.toISOString().slice(0, 19).replace("T", " "))}Z`;
}

function whoLines(events: readonly RecordedEvent[]): string[] {
  const first = events[0] as RecordedEvent;
  const { metadata } = first;
  const lines = [`By ${escapeHtml(actorText(metadata.actor))}`];
  lines.push(
    metadata.reason ? `Reason: ${escapeHtml(truncate(metadata.reason, 500))}` : "Reason: <i>none given</i>",
  );
  const overrides = metadata.overrides ?? [];
  if (metadata.forced || overrides.length > 0) {
    lines.push(
      `⚠️ ${bold("FORCED")}${overrides.length ? ` past ${escapeHtml(overrides.join(", "))}` : ""}: the rules refused it, an admin overrode them`,
    );
  }
  return lines;
}

/** The A/B split a plugin runs after the change, when a test runs. */
function splitLine(events: readonly RecordedEvent[]): string[] {
  for (const event of [...events].reverse()) {
    if (event.type === "AbTestStarted") {
      return [
        `A/B split now: ${split(event.data.control, event.data.candidate, event.data.candidateWeightBp)}`,
      ];
    }
    if (event.type === "AbTestWeightChanged") {
      return [
        `A/B split now: candidate ${formatPercent(event.data.toBp)}, control ${formatPercent(BASIS_POINTS - event.data.toBp)}`,
      ];
    }
  }
  return [];
}

/** A change (not a run of releases): what, who, why, forced or not, the split, where, the diff. */
export function changeMessage(group: ChangeGroup, diff: VersionDiff | null): string {
  const lines = [
    ...group.events.map(changeLine),
    ...whoLines(group.events),
    ...splitLine(group.events),
    whereLine(group.events),
  ];
  if (diff) lines.push("", bold(`What changes, ${diff.from} → ${diff.to}:`), ...diffLines(diff));
  return lines.join("\n");
}

/**
 * A run of releases and deprecations in one message: a heading, as many lines as fit under the
 * limit, then "… and N more". An import of thousands stays one message.
 */
export function catalogMessage(group: ChangeGroup, limit = MESSAGE_LIMIT): string {
  const released = group.events.filter((e) => e.type === "VersionReleased").length;
  const deprecated = group.events.length - released;
  const counts = [
    released ? `${released} release${released === 1 ? "" : "s"}` : "",
    deprecated ? `${deprecated} deprecation${deprecated === 1 ? "" : "s"}` : "",
  ].filter(Boolean);
  const actors = new Set(group.events.map((e) => actorText(e.metadata.actor)));
  const reasons = new Set(group.events.map((e) => e.metadata.reason ?? ""));
  const head = [
    `📦 ${bold(counts.join(", "))}`,
    actors.size === 1 ? `By ${escapeHtml([...actors][0] as string)}` : `By ${actors.size} people`,
    ...(reasons.size === 1 && [...reasons][0]
      ? [`Reason: ${escapeHtml(truncate([...reasons][0] as string, 300))}`]
      : []),
    ...(group.events.some((e) => e.metadata.forced) ? [`⚠️ ${bold("FORCED")}`] : []),
    whereLine(group.events),
  ];
  // Room for the heading and the "… and N more" line; each listed line must fit what is left.
  const tail = (n: number) => `… and ${n} more`;
  let length = head.join("\n").length + tail(group.events.length).length + 2;
  const listed: string[] = [];
  for (const event of group.events) {
    const line = changeLine(event);
    if (length + line.length + 1 > limit) break;
    listed.push(line);
    length += line.length + 1;
  }
  const more = group.events.length - listed.length;
  return [...head, ...listed, ...(more > 0 ? [tail(more)] : [])].join("\n");
}

/** The message of a group, in parts each under Telegram's limit. */
export function groupMessages(group: ChangeGroup, diff: VersionDiff | null): string[] {
  return splitHtml(group.catalog ? catalogMessage(group) : changeMessage(group, diff));
}
