import { planAbTestAbort, planAbTestPromote, planAbTestStart, planAbTestWeight } from "./ab-test-rules.ts";
import { endTestThen, judgeMove, type MoveWording, targetViolations } from "./activation-checks.ts";
import { planAuditChatDisable, planAuditChatEnable, planAuditChatsConfigure } from "./audit-chats.ts";
import type {
  Command,
  DeactivateCommand,
  DeprecateCommand,
  HostSetCommand,
  ImportCommand,
  RegisterCommand,
  ReleaseCommand,
  RollbackCommand,
  UpgradeCommand,
} from "./commands.ts";
import { hostChangeViolations } from "./compatibility.ts";
import type { LedgerEvent } from "./events.ts";
import { releaseLabel, releaseViolations, toReleasedData } from "./release-input.ts";
import { chooseRollbackTarget } from "./rollback-target.ts";
import { type LedgerState, pluginOf, versionOf } from "./state.ts";
import { isLower, precedenceKey } from "./versions.ts";
import * as say from "./violation-messages.ts";
import {
  accepted,
  type Decision,
  type Plan,
  planned,
  plannedAll,
  pushAll,
  rejected,
  settle,
  type Violation,
} from "./violations.ts";

/**
 * The rule book: what each command may do given the past, as events or violations.
 * Every violation of a command is reported, not just the first; only an invalid input stops
 * the rules early, since they cannot be judged on nonsense. Of plugins other than the
 * target it reads only what `compatibility.ts` reads: their running versions.
 * The plugin's rules are here; an A/B test's are in `ab-test-rules.ts`, the audit chats' in
 * `audit-chats.ts`, and the checks every activation shares in `activation-checks.ts`.
 */
export function decide(command: Command, state: LedgerState): Decision {
  return settle(plan(command, state), command.force === true);
}

function plan(command: Command, state: LedgerState): Plan {
  switch (command.kind) {
    case "release":
      return planRelease(command, state);
    case "import":
      return planImport(command, state);
    case "deprecate":
      return planDeprecate(command, state);
    case "register":
      return planRegister(command, state);
    case "upgrade":
      return planUpgrade(command, state);
    case "rollback":
      return planRollback(command, state);
    case "deactivate":
      return planDeactivate(command, state);
    case "hostSet":
      return planHostSet(command, state);
    case "abTestStart":
      return planAbTestStart(command, state);
    case "abTestWeight":
      return planAbTestWeight(command, state);
    case "abTestPromote":
      return planAbTestPromote(command, state);
    case "abTestAbort":
      return planAbTestAbort(command, state);
    case "auditChatEnable":
      return planAuditChatEnable(command, state);
    case "auditChatDisable":
      return planAuditChatDisable(command, state);
    case "auditChatsConfigure":
      return planAuditChatsConfigure(command, state);
    default:
      return rejected([say.unknownCommand((command as { kind: unknown }).kind)]);
  }
}

function planRelease(command: ReleaseCommand, state: LedgerState): Plan {
  const subject = (label: string) => (label ? `Release ${label}` : "The release");
  const input = releaseViolations(command, subject, ["kind", "force", "dryRun"]);
  if (input.length > 0) return rejected(input);
  const taken = releasedVersions(state)(command.pluginId, command.version);
  if (taken !== undefined) {
    return rejected([say.alreadyReleased(command.pluginId, command.version, taken, "Release")]);
  }
  return accepted({ type: "VersionReleased", data: toReleasedData(command) });
}

/** All or nothing: one bad entry rejects the import, and every bad entry is named. */
function planImport(command: ImportCommand, state: LedgerState): Plan {
  if (!Array.isArray(command.releases) || command.releases.length === 0) return rejected([say.emptyImport()]);
  const takenAs = releasedVersions(state);
  const entryOf = new Map<string, number>();
  const violations: Violation[] = [];
  const events: LedgerEvent[] = [];
  command.releases.forEach((entry, index) => {
    const subject = (label: string) => `Import entry ${index + 1}${label ? ` (${label})` : ""}`;
    const input = releaseViolations(entry, subject);
    pushAll(violations, input);
    if (input.length > 0) return;
    const key = `${entry.pluginId}@${precedenceKey(entry.version)}`;
    const earlier = entryOf.get(key);
    if (earlier !== undefined) {
      violations.push(say.importRepeats(subject(releaseLabel(entry)), earlier));
      return;
    }
    entryOf.set(key, index + 1);
    const taken = takenAs(entry.pluginId, entry.version);
    if (taken === undefined) events.push({ type: "VersionReleased", data: toReleasedData(entry) });
    else violations.push(say.alreadyReleased(entry.pluginId, entry.version, taken, subject("")));
  });
  return violations.length > 0 ? rejected(violations) : { violations: [], events: plannedAll(events) };
}

function planDeprecate(command: DeprecateCommand, state: LedgerState): Plan {
  const { pluginId, version, reason = "" } = command;
  const input = [...say.checkPluginId(pluginId), ...say.checkVersion(version, "version")];
  if (typeof reason !== "string") input.push(say.invalid("The deprecation reason must be text."));
  if (input.length > 0) return rejected(input);
  const release = versionOf(pluginOf(state, pluginId), version);
  if (release === undefined) return rejected([say.notReleased(pluginId, version)]);
  if (release.deprecated) return rejected([say.alreadyDeprecated(pluginId, version)]);
  return accepted({ type: "VersionDeprecated", data: { pluginId, version, reason } });
}

function planRegister(command: RegisterCommand, state: LedgerState): Plan {
  const { pluginId, version } = command;
  const input = [...say.checkPluginId(pluginId), ...say.checkVersion(version, "version")];
  if (input.length > 0) return rejected(input);
  const plugin = pluginOf(state, pluginId);
  const active = plugin?.active ?? null;
  if (active !== null) return rejected([say.alreadyActive(pluginId, active, "; use upgrade to change it")]);
  const release = versionOf(plugin, version);
  if (release === undefined) return rejected([say.notReleased(pluginId, version)]);
  const registration: LedgerEvent = { type: "PluginRegistered", data: { pluginId, version } };
  return { violations: targetViolations(pluginId, release, state), events: planned(registration) };
}

const UPGRADE: MoveWording = {
  same: say.alreadyActive,
  notActive: "upgrade; register it first",
  verb: "upgrade",
};

/** Any released version, up or down; the event records which way and whether a MAJOR is crossed. */
function planUpgrade(command: UpgradeCommand, state: LedgerState): Plan {
  const { pluginId, version } = command;
  const input = [...say.checkPluginId(pluginId), ...say.checkVersion(version, "version")];
  if (input.length > 0) return rejected(input);
  const move = judgeMove(pluginId, version, command.allowMajor, state, UPGRADE);
  if (!move.ok) return move.plan;
  const { plugin, from, crossesMajor, violations } = move;
  const direction = isLower(version, from) ? "down" : "up";
  const upgrade: LedgerEvent = {
    type: "PluginUpgraded",
    data: { pluginId, from, to: version, direction, crossesMajor },
  };
  return { violations, events: endTestThen(pluginId, plugin, upgrade) };
}

/**
 * An undo, as `helm rollback` is: to a version that ran before, higher or lower. Without a
 * target `rollback-target.ts` picks one; a named version must be in the plugin's history;
 * `toPosition` goes to the version the ledger found running there. Every target either ran
 * before or keeps the MAJOR, so no MAJOR check applies; the rest of an upgrade's checks do.
 */
function planRollback(command: RollbackCommand, state: LedgerState): Plan {
  const { pluginId, version, toPosition } = command;
  const input = [...say.checkPluginId(pluginId), ...rollbackTargetInput(command)];
  if (input.length > 0) return rejected(input);
  const plugin = pluginOf(state, pluginId);
  const from = plugin?.active ?? null;
  if (plugin === undefined || from === null) return rejected([say.notActive(pluginId, "roll back")]);
  const violations = plugin.abTest === null ? [] : [say.abTestRunning(pluginId, plugin.abTest)];

  let to: string;
  if (version === undefined && toPosition === undefined) {
    const choice = chooseRollbackTarget(pluginId, plugin, state);
    if (choice.version === null) return rejected([say.noRollbackTarget(choice.message), ...violations]);
    to = choice.version;
  } else {
    const named = version ?? command.ranAtPosition;
    if (named === null || named === undefined) {
      return rejected([say.notRunningAt(pluginId, toPosition ?? 0), ...violations]);
    }
    if (named === from) return rejected([say.alreadyActive(pluginId, named)]);
    const release = versionOf(plugin, named);
    if (release === undefined) return rejected([say.notReleased(pluginId, named), ...violations]);
    // A position names what ran there; a version must be found in the history (the last
    // PREVIOUS_LIMIT versions that ran), or the rollback would be an upgrade in disguise.
    if (version !== undefined && !plugin.previous.includes(version)) {
      return rejected([say.neverRan(pluginId, version, from), ...violations]);
    }
    pushAll(violations, targetViolations(pluginId, release, state));
    to = named;
  }
  const rollback: LedgerEvent = { type: "PluginRolledBack", data: { pluginId, from, to } };
  return { violations, events: endTestThen(pluginId, plugin, rollback) };
}

/** A version or a position, not both; a position is a whole number from 1. */
function rollbackTargetInput(command: RollbackCommand): Violation[] {
  const { version, toPosition, ranAtPosition } = command;
  if (version !== undefined && toPosition !== undefined) return [say.rollbackTargetTwice()];
  if (version !== undefined) return say.checkVersion(version, "rollback target");
  if (toPosition === undefined) return [];
  if (!Number.isSafeInteger(toPosition) || toPosition < 1) return [say.badPosition(toPosition)];
  if (ranAtPosition !== null && typeof ranAtPosition !== "string")
    return [say.positionUnresolved(toPosition)];
  return [];
}

function planDeactivate(command: DeactivateCommand, state: LedgerState): Plan {
  const { pluginId } = command;
  const input = say.checkPluginId(pluginId);
  if (input.length > 0) return rejected(input);
  const plugin = pluginOf(state, pluginId);
  if (plugin === undefined || plugin.active === null)
    return rejected([say.notActive(pluginId, "deactivate")]);
  const violations = plugin.abTest === null ? [] : [say.abTestRunning(pluginId, plugin.abTest)];
  const deactivation: LedgerEvent = { type: "PluginDeactivated", data: { pluginId, version: plugin.active } };
  return { violations, events: endTestThen(pluginId, plugin, deactivation) };
}

/** Rejected (unless forced) when it would leave a running plugin's host requirements unmet. */
function planHostSet(command: HostSetCommand, state: LedgerState): Plan {
  const { apiVersion, dbSchemaVersion } = command;
  const input = [
    ...say.checkVersion(apiVersion, "host API version"),
    ...say.checkVersion(dbSchemaVersion, "host DB schema version"),
  ];
  if (input.length > 0) return rejected(input);
  if (state.host?.apiVersion === apiVersion && state.host.dbSchemaVersion === dbSchemaVersion) {
    return rejected([say.alreadyDeclared(apiVersion, dbSchemaVersion)]);
  }
  const next = { apiVersion, dbSchemaVersion };
  const declaration: LedgerEvent = { type: "HostVersionsDeclared", data: next };
  return { violations: hostChangeViolations(next, state), events: planned(declaration) };
}

/**
 * Looks up the released version with the same precedence as a new one: "1.2.3+b" is refused
 * after "1.2.3+a", since semver cannot order them. Each plugin is indexed once per decision,
 * so an import of thousands of releases stays linear.
 */
function releasedVersions(state: LedgerState): (pluginId: string, version: string) => string | undefined {
  const indexes = new Map<string, Map<string, string>>();
  return (pluginId, version) => {
    const plugin = pluginOf(state, pluginId);
    if (plugin === undefined) return undefined;
    let index = indexes.get(pluginId);
    if (index === undefined) {
      index = new Map(Object.keys(plugin.versions).map((released) => [precedenceKey(released), released]));
      indexes.set(pluginId, index);
    }
    return index.get(precedenceKey(version));
  };
}
