import { expect } from "vitest";
import type { Command, LedgerEvent, PlannedEvent, RuleCode } from "../../src/domain/index.ts";
import { abAborted, given } from "./scenario.ts";

/**
 * Given/When/Then shapes that the rule tests share, over `given` of `scenario.ts`: a refusal with
 * its sentences, a refusal that `force` overrides, a change forced past a running A/B test.
 */

/** Rejected with exactly these violations, in this order: each a code and its sentence. */
export function refusedWith(past: LedgerEvent[], command: Command, ...expected: [RuleCode, string][]): void {
  const violations = given(...past)
    .when(command)
    .thenRejects(...expected.map(([code]) => code));
  expect(violations.map((v) => v.message)).toEqual(expected.map(([, message]) => message));
}

/** Rejected with these forceable codes; forced, it goes through with these events, overriding them. */
export function refusedUnlessForced(
  past: LedgerEvent[],
  command: Command,
  codes: RuleCode[],
  ...forced: LedgerEvent[]
): PlannedEvent[] {
  given(...past)
    .when(command)
    .thenRejects(...codes);
  return given(...past)
    .when({ ...command, force: true })
    .thenOverrides(codes, ...forced);
}

/** Forced past the running A/B test of control and candidate: the test ends first, then the change. */
export function endsTestFirst(
  past: LedgerEvent[],
  command: Command & { pluginId: string },
  [control, candidate]: [string, string],
  change: LedgerEvent,
): PlannedEvent[] {
  return given(...past)
    .when({ ...command, force: true })
    .thenOverrides(["AB_TEST_RUNNING"], abAborted(command.pluginId, control, candidate), change);
}
