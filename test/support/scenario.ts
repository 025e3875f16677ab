import semver from "semver";
import { expect } from "vitest";
import {
  type Command,
  type Decision,
  decide,
  foldEvents,
  type LedgerEvent,
  type LedgerState,
  type PlannedEvent,
  parseEvent,
  type RuleCode,
  streamIdOf,
  type VersionReleasedData,
  type Violation,
} from "../../src/domain/index.ts";

/**
 * Given/When/Then over the decider: `given(...past).when(command)` and then one of
 * `thenEmits`, `thenRejects`, `thenOverrides`. Fixtures pass `parseEvent`, so a test can
 * never build a past that the ledger would refuse to read.
 */
export function given(...past: LedgerEvent[]) {
  const state = foldEvents(past.map((event) => parseEvent(event.type, event.data)));
  return givenState(state);
}

export function givenState(state: LedgerState) {
  return {
    state,
    when(command: Command) {
      return then(decide(command, state));
    },
  };
}

function then(decision: Decision) {
  return {
    decision,
    thenEmits(...expected: LedgerEvent[]): PlannedEvent[] {
      expect(decision).toMatchObject({ ok: true, overrides: [] });
      return checkEvents(decision, expected);
    },
    thenRejects(...codes: RuleCode[]): Violation[] {
      if (decision.ok) expect.fail(`expected a rejection, got ${JSON.stringify(decision.events)}`);
      expect(decision.violations.map((v) => v.code).sort()).toEqual([...codes].sort());
      for (const v of decision.violations) expect(v.message).toMatch(/^[A-Z].*[.]$/);
      return decision.violations;
    },
    thenOverrides(codes: RuleCode[], ...expected: LedgerEvent[]): PlannedEvent[] {
      if (!decision.ok) expect.fail(`expected forced events, got ${JSON.stringify(decision.violations)}`);
      expect([...decision.overrides].sort()).toEqual([...codes].sort());
      return checkEvents(decision, expected);
    },
  };
}

function checkEvents(decision: Decision, expected: LedgerEvent[]): PlannedEvent[] {
  if (!decision.ok) return expect.fail(`expected events, got ${JSON.stringify(decision.violations)}`);
  expect(decision.events.map(({ type, data }) => ({ type, data }))).toEqual(expected);
  for (const event of decision.events) {
    expect(event.streamId).toBe(streamIdOf(event));
    expect(() => parseEvent(event.type, event.data)).not.toThrow();
  }
  return decision.events;
}

export const BUILD_DATE = "2024-05-01T12:00:00.000Z";

// Event builders: the past, briefly.

export function released(
  pluginId: string,
  version: string,
  extra: Partial<VersionReleasedData> = {},
): LedgerEvent {
  return { type: "VersionReleased", data: { ...releaseData(pluginId, version), ...extra } };
}

export function releaseData(pluginId: string, version: string): VersionReleasedData {
  return {
    pluginId,
    version,
    buildDate: BUILD_DATE,
    commitHash: null,
    author: "ci",
    requires: { api: null, dbSchema: null },
    compatibleWith: {},
    features: [],
    releaseNotes: "",
  };
}

export const host = (apiVersion: string, dbSchemaVersion: string): LedgerEvent => ({
  type: "HostVersionsDeclared",
  data: { apiVersion, dbSchemaVersion },
});

export const deprecated = (pluginId: string, version: string, reason = "broken"): LedgerEvent => ({
  type: "VersionDeprecated",
  data: { pluginId, version, reason },
});

export const registered = (pluginId: string, version: string): LedgerEvent => ({
  type: "PluginRegistered",
  data: { pluginId, version },
});

export const upgraded = (pluginId: string, from: string, to: string): LedgerEvent => ({
  type: "PluginUpgraded",
  data: {
    pluginId,
    from,
    to,
    direction: semver.lt(to, from) ? "down" : "up",
    crossesMajor: semver.major(from) !== semver.major(to),
  },
});

export const rolledBack = (pluginId: string, from: string, to: string): LedgerEvent => ({
  type: "PluginRolledBack",
  data: { pluginId, from, to },
});

export const deactivated = (pluginId: string, version: string): LedgerEvent => ({
  type: "PluginDeactivated",
  data: { pluginId, version },
});

export const abStarted = (
  pluginId: string,
  control: string,
  candidate: string,
  weightBp = 1000,
): LedgerEvent => ({
  type: "AbTestStarted",
  data: { pluginId, testId: "t1", control, candidate, candidateWeightBp: weightBp, salt: "s1" },
});

export const abAborted = (pluginId: string, control: string, candidate: string): LedgerEvent => ({
  type: "AbTestAborted",
  data: { pluginId, testId: "t1", control, candidate },
});

/** Released and active: the usual starting point. */
export const running = (pluginId: string, version: string, extra: Partial<VersionReleasedData> = {}) => [
  released(pluginId, version, extra),
  registered(pluginId, version),
];

export const abWeighted = (pluginId: string, fromBp: number, toBp: number): LedgerEvent => ({
  type: "AbTestWeightChanged",
  data: { pluginId, testId: "t1", fromBp, toBp },
});

export const abPromoted = (pluginId: string, control: string, candidate: string): LedgerEvent => ({
  type: "AbTestPromoted",
  data: { pluginId, testId: "t1", control, candidate },
});
