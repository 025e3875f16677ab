import { endTestThen, judgeMove, type MoveWording, targetViolations } from "./activation-checks.ts";
import type {
  AbTestAbortCommand,
  AbTestPromoteCommand,
  AbTestStartCommand,
  AbTestWeightCommand,
} from "./commands.ts";
import type { LedgerEvent } from "./events.ts";
import { type LedgerState, pluginOf, versionOf } from "./state.ts";
import * as say from "./violation-messages.ts";
import { accepted, type Plan, planned, rejected } from "./violations.ts";

/** The rules of an A/B test of a plugin: start, reweigh, promote, abort (dispatched by `decide.ts`). */

const AB_START: MoveWording = {
  same: say.candidateIsControl,
  notActive: "test against; register it first",
  verb: "A/B test",
};

/**
 * The candidate is judged as an upgrade target would be (released, not deprecated, host and
 * matrix, MAJOR), against the active version as the control. One test per plugin: a start
 * forced past a running test ends that test first.
 */
export function planAbTestStart(command: AbTestStartCommand, state: LedgerState): Plan {
  const { pluginId, candidate, candidateWeightBp, testId, salt } = command;
  const input = [
    ...say.checkPluginId(pluginId),
    ...say.checkVersion(candidate, "A/B candidate"),
    ...say.checkWeight(candidateWeightBp),
    ...say.checkTestIdentity(testId, salt),
  ];
  if (input.length > 0) return rejected(input);
  const move = judgeMove(pluginId, candidate, command.allowMajor, state, AB_START);
  if (!move.ok) return move.plan;
  const { plugin, from: control, violations } = move;
  const started: LedgerEvent = {
    type: "AbTestStarted",
    data: { pluginId, testId, control, candidate, candidateWeightBp, salt },
  };
  return { violations, events: endTestThen(pluginId, plugin, started) };
}

export function planAbTestWeight(command: AbTestWeightCommand, state: LedgerState): Plan {
  const { pluginId, candidateWeightBp } = command;
  const input = [...say.checkPluginId(pluginId), ...say.checkWeight(candidateWeightBp)];
  if (input.length > 0) return rejected(input);
  const test = pluginOf(state, pluginId)?.abTest ?? null;
  if (test === null) return rejected([say.noAbTest(pluginId, "reweigh")]);
  if (test.candidateWeightBp === candidateWeightBp) return rejected([say.weightUnchanged(pluginId, test)]);
  const { testId } = test;
  return accepted({
    type: "AbTestWeightChanged",
    data: { pluginId, testId, fromBp: test.candidateWeightBp, toBp: candidateWeightBp },
  });
}

/** An activation of the candidate: it must still be fit to run alone (it may have been deprecated). */
export function planAbTestPromote(command: AbTestPromoteCommand, state: LedgerState): Plan {
  const { pluginId } = command;
  const input = say.checkPluginId(pluginId);
  if (input.length > 0) return rejected(input);
  const plugin = pluginOf(state, pluginId);
  const test = plugin?.abTest ?? null;
  if (test === null) return rejected([say.noAbTest(pluginId, "promote")]);
  const release = versionOf(plugin, test.candidate);
  if (release === undefined) return rejected([say.notReleased(pluginId, test.candidate)]);
  const { testId, control, candidate } = test;
  const promotion: LedgerEvent = { type: "AbTestPromoted", data: { pluginId, testId, control, candidate } };
  return { violations: targetViolations(pluginId, release, state), events: planned(promotion) };
}

export function planAbTestAbort(command: AbTestAbortCommand, state: LedgerState): Plan {
  const { pluginId } = command;
  const input = say.checkPluginId(pluginId);
  if (input.length > 0) return rejected(input);
  const test = pluginOf(state, pluginId)?.abTest ?? null;
  if (test === null) return rejected([say.noAbTest(pluginId, "abort")]);
  const { testId, control, candidate } = test;
  return accepted({ type: "AbTestAborted", data: { pluginId, testId, control, candidate } });
}
