import {
  BASIS_POINTS,
  type CommandRequest,
  formatPercent,
  type PlannedEvent,
  type VersionDiff,
  type Violation,
  type ViolationCode,
} from "../domain/index.ts";
import type { ExecuteResult } from "../ledger/index.ts";
import { diffLines } from "./diff-view.ts";
import { bold, code, escapeHtml, truncate } from "./html.ts";
import { summary } from "./read-views.ts";

/** The change in a few words, the way an operator would say it ("upgrade combined_v3 to 3.3.0"). */
export function describeCommand(command: CommandRequest): string {
  switch (command.kind) {
    case "upgrade":
      return `upgrade ${command.pluginId} to ${command.version}`;
    case "rollback":
      return `roll back ${command.pluginId}${rollbackGoal(command, (v) => v)}`;
    case "register":
      return `start running ${command.pluginId} ${command.version}`;
    case "deactivate":
      return `stop running ${command.pluginId}`;
    case "deprecate":
      return `deprecate ${command.pluginId} ${command.version}`;
    case "hostSet":
      return `declare the host: ServiceAPI ${command.apiVersion}, DB schema ${command.dbSchemaVersion}`;
    case "release":
      return `release ${command.pluginId} ${command.version}`;
    case "import":
      return `import ${command.releases.length} releases`;
    case "abTestStart":
      return `start an A/B test of ${command.pluginId} ${command.candidate} at ${formatPercent(command.candidateWeightBp)}`;
    case "abTestWeight":
      return `give the A/B candidate of ${command.pluginId} ${formatPercent(command.candidateWeightBp)}`;
    case "abTestPromote":
      return `promote the A/B candidate of ${command.pluginId}`;
    case "abTestAbort":
      return `abort the A/B test of ${command.pluginId}`;
    case "auditChatEnable":
      return `tell chat ${command.chatId} of every change`;
    case "auditChatDisable":
      return `stop telling chat ${command.chatId} of the changes`;
    case "auditChatsConfigure":
      return "set the audit chats to the configured ones";
  }
}

/** What changes for the plugin: "3.2.1 → 3.3.0", from the plan when there is one. */
export function changeLine(
  command: CommandRequest,
  running: string | null,
  events: readonly PlannedEvent[] = [],
): string {
  const plugin = "pluginId" in command ? `${code(command.pluginId)}: ` : "";
  const from = running === null ? "<i>not running</i>" : code(running);
  for (const event of events) {
    switch (event.type) {
      case "PluginUpgraded":
      case "PluginRolledBack":
        return `${plugin}${code(event.data.from)} → ${code(event.data.to)}`;
      case "PluginRegistered":
        return `${plugin}<i>not running</i> → ${code(event.data.version)}`;
      case "PluginDeactivated":
        return `${plugin}${code(event.data.version)} → <i>not running</i>`;
      case "VersionDeprecated":
        return `${plugin}${code(event.data.version)} → <i>deprecated</i> (running: ${from})`;
      case "AbTestStarted":
        return `${plugin}${split(event.data.control, event.data.candidate, event.data.candidateWeightBp)}`;
      case "AbTestWeightChanged":
        return `${plugin}candidate share ${formatPercent(event.data.fromBp)} → ${formatPercent(event.data.toBp)}`;
      case "AbTestPromoted":
        return `${plugin}${code(event.data.control)} → ${code(event.data.candidate)} (A/B candidate promoted)`;
      case "AbTestAborted":
        // Also the first event of a change forced past a running test: that change's own line counts.
        if (command.kind === "abTestAbort") {
          return `${plugin}A/B test ends: ${code(event.data.control)} keeps running, ${code(event.data.candidate)} stops`;
        }
        break;
    }
  }
  switch (command.kind) {
    case "upgrade":
    case "register":
      return `${plugin}${from} → ${code(command.version)}`;
    case "rollback":
      return `${plugin}${from} → ${rollbackGoal(command, code).replace(/^ to /, "") || "the version that ran before"}`;
    case "deactivate":
      return `${plugin}${from} → <i>not running</i>`;
    case "deprecate":
      return `${plugin}${code(command.version)} → <i>deprecated</i>`;
    case "abTestStart":
      return `${plugin}${from} vs ${code(command.candidate)} @ ${formatPercent(command.candidateWeightBp)}`;
    case "abTestWeight":
      return `${plugin}candidate share → ${formatPercent(command.candidateWeightBp)}`;
    case "abTestPromote":
      return `${plugin}${from} → the A/B candidate`;
    case "abTestAbort":
      return `${plugin}A/B test ends, ${from} keeps running`;
    default:
      return escapeHtml(describeCommand(command));
  }
}

/** An A/B split in words: "3.3.0 90% vs 3.4.0 10%". */
export function split(control: string, candidate: string, candidateWeightBp: number): string {
  return `${code(control)} ${formatPercent(BASIS_POINTS - candidateWeightBp)} vs ${code(candidate)} ${formatPercent(candidateWeightBp)}`;
}

function violationLines(violations: readonly Violation[]): string[] {
  return violations.map((v) => `• ${escapeHtml(v.code)}: ${escapeHtml(truncate(v.message, 400))}`);
}

function overridesLine(overrides: readonly ViolationCode[]): string[] {
  return overrides.length > 0 ? [`<b>Forced past:</b> ${escapeHtml(overrides.join(", "))}`] : [];
}

const reasonLine = (reason: string | undefined) => (reason ? [`Reason: ${escapeHtml(reason)}`] : []);

export type Preview = {
  command: CommandRequest;
  running: string | null;
  reason: string | undefined;
  dryRun: ExecuteResult;
  ttlMinutes: number;
  /** A hint for an admin when every violation could be forced. */
  forceHint: string | null;
  /** What changes between the versions an upgrade, rollback or A/B start moves between. */
  diff?: VersionDiff | null;
};

/** The preview: what would change and what would be recorded, or why the rules refuse it. */
export function previewMessage(p: Preview): string {
  const head = `${bold(capitalise(describeCommand(p.command)))}`;
  if (!p.dryRun.ok) {
    return [
      `${head}: refused`,
      changeLine(p.command, p.running),
      ...violationLines(p.dryRun.violations),
      ...(p.forceHint ? [`An admin may force it: ${code(p.forceHint)}`] : []),
      "Nothing was recorded.",
    ].join("\n");
  }
  const events = p.dryRun.events as PlannedEvent[];
  return [
    `${head}?`,
    changeLine(p.command, p.running, events),
    ...reasonLine(p.reason),
    `Will record: ${events.map((e) => `${escapeHtml(e.type)} ${escapeHtml(summary(e.data))}`).join("; ")}`,
    ...overridesLine(p.dryRun.overrides),
    ...(p.diff ? diffPart(p.diff) : []),
    `Confirm within ${p.ttlMinutes} minute${p.ttlMinutes === 1 ? "" : "s"}.`,
  ].join("\n");
}

/** Room for the diff in a preview, which is one message (it carries the buttons). */
const PREVIEW_DIFF_MAX = 3_000;

/** The diff, cut to fit the preview's one message; /diff shows all of it. */
function diffPart(diff: VersionDiff): string[] {
  const lines = ["", bold(`What changes, ${diff.from} → ${diff.to}:`)];
  let length = 0;
  for (const line of diffLines(diff)) {
    if (length + line.length + 1 > PREVIEW_DIFF_MAX) {
      lines.push(`… more with ${code(`/diff ${diff.pluginId} ${diff.from} ${diff.to}`)}`);
      break;
    }
    lines.push(line);
    length += line.length + 1;
  }
  return [...lines, ""];
}

/** The preview message, edited once the Confirm ran. */
export function resultMessage(command: CommandRequest, result: ExecuteResult, by: string): string {
  if (!result.ok) {
    return [
      `${bold(capitalise(describeCommand(command)))}: <b>not done</b>, the ledger changed since the preview`,
      ...violationLines(result.violations),
    ].join("\n");
  }
  // A confirmed change is never a dry run; the narrowing only tells TypeScript so.
  const events = result.dryRun ? [] : result.events;
  const replayed = !result.dryRun && result.replayed;
  return [
    `✅ ${bold(capitalise(describeCommand(command)))}: done by ${escapeHtml(by)}`,
    changeLine(command, null, events),
    ...events.map((e) => `#${e.position} ${escapeHtml(e.type)} ${escapeHtml(summary(e.data))}`),
    ...reasonLine(events[0]?.metadata.reason),
    ...overridesLine(result.overrides),
    ...(replayed ? ["(already recorded for this same press; nothing new was written)"] : []),
  ].join("\n");
}

export function cancelledMessage(command: CommandRequest, by: string): string {
  return `${bold(capitalise(describeCommand(command)))}: cancelled by ${escapeHtml(by)}. Nothing was recorded.`;
}

export function expiredMessage(command: CommandRequest): string {
  return `${bold(capitalise(describeCommand(command)))}: the preview expired. Nothing was recorded; send the command again.`;
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** " to 1.2.0", " to the version that ran at position 42", or "" for the undo. */
function rollbackGoal(
  command: { version?: string; toPosition?: number },
  show: (v: string) => string,
): string {
  if (command.version) return ` to ${show(command.version)}`;
  if (command.toPosition !== undefined) return ` to the version that ran at position ${command.toPosition}`;
  return "";
}
