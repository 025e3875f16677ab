import { compatibilityViolations } from "./compatibility.ts";
import type { LedgerEvent } from "./events.ts";
import { type LedgerState, type PluginState, pluginOf, type VersionState, versionOf } from "./state.ts";
import { majorOf } from "./versions.ts";
import * as say from "./violation-messages.ts";
import { type Plan, planned, pushAll, rejected, type Violation } from "./violations.ts";

/**
 * The checks shared by the rules that make a released version run: register, upgrade, rollback,
 * an A/B start and a promotion (`decide.ts`, `ab-test-rules.ts`).
 */

/** What makes a released version unfit to become active: deprecation, host, matrix. */
export function targetViolations(pluginId: string, release: VersionState, state: LedgerState): Violation[] {
  const deprecated = release.deprecated ? [say.deprecatedTarget(pluginId, release)] : [];
  return [...deprecated, ...compatibilityViolations(pluginId, release, state)];
}

/** A change forced past a running A/B test ends the test first, so its history stays whole. */
export function endTestThen(pluginId: string, plugin: PluginState, event: LedgerEvent): Plan["events"] {
  if (plugin.abTest === null) return planned(event);
  const { testId, control, candidate } = plugin.abTest;
  return planned({ type: "AbTestAborted", data: { pluginId, testId, control, candidate } }, event);
}

/** How a move names itself in its violations. */
export interface MoveWording {
  /** The ALREADY of a target that is the active version. */
  same: (pluginId: string, version: string) => Violation;
  /** What there is nothing to do when the plugin is not active (NOT_FOUND). */
  notActive: string;
  /** The noun of its MAJOR_MISMATCH. */
  verb: string;
}

export type Move =
  | { ok: false; plan: Plan }
  | { ok: true; plugin: PluginState; from: string; crossesMajor: boolean; violations: Violation[] };

/**
 * A released version about to run instead of the active one (an upgrade's target) or beside it
 * (an A/B candidate): the plugin must be active and the version released and other than the
 * active one (else rejected at once), fit to run, in the active version's MAJOR unless
 * `allowMajor`, and no A/B test may be running. The violations come in that order.
 */
export function judgeMove(
  pluginId: string,
  version: string,
  allowMajor: boolean | undefined,
  state: LedgerState,
  wording: MoveWording,
): Move {
  const plugin = pluginOf(state, pluginId);
  const from = plugin?.active ?? null;
  const release = versionOf(plugin, version);
  if (from === version) return { ok: false, plan: rejected([wording.same(pluginId, version)]) };
  const violations: Violation[] = [];
  if (from === null) violations.push(say.notActive(pluginId, wording.notActive));
  if (release === undefined) violations.push(say.notReleased(pluginId, version));
  else pushAll(violations, targetViolations(pluginId, release, state));
  if (plugin === undefined || from === null || release === undefined) {
    return { ok: false, plan: rejected(violations) };
  }

  const crossesMajor = majorOf(from) !== majorOf(version);
  if (crossesMajor && allowMajor !== true) {
    violations.push(say.majorMismatch(pluginId, wording.verb, from, version));
  }
  if (plugin.abTest !== null) violations.push(say.abTestRunning(pluginId, plugin.abTest));
  return { ok: true, plugin, from, crossesMajor, violations };
}
