import { describe, expect, it } from "vitest";
import {
  evolve,
  evolveMut,
  foldEvents,
  initialState,
  type LedgerEvent,
  type LedgerState,
  PREVIOUS_LIMIT,
  pluginOf,
} from "../../src/domain/index.ts";
import {
  abAborted,
  abStarted,
  deactivated,
  deprecated,
  host,
  registered,
  released,
  rolledBack,
  upgraded,
} from "../support/scenario.ts";

const fold = (...events: LedgerEvent[]) => foldEvents(events);

describe("evolve", () => {
  it("starts empty", () => {
    expect(initialState()).toEqual({ host: null, plugins: {}, auditChats: {} });
  });

  it("keeps each audit chat's last change, and leaves the plugins alone", () => {
    const state = foldEvents([
      { type: "AuditChatEnabled", data: { chatId: -100123, source: "config" } },
      { type: "AuditChatDisabled", data: { chatId: -100123, source: "command" } },
      { type: "AuditChatEnabled", data: { chatId: 42, source: "command" } },
    ]);
    expect(state).toEqual({
      host: null,
      plugins: {},
      auditChats: {
        "-100123": { enabled: false, source: "command" },
        "42": { enabled: true, source: "command" },
      },
    });
  });

  it("catalogs a release as not deprecated, and marks a deprecation with its reason", () => {
    const state = fold(released("momentum", "1.0.0"), deprecated("momentum", "1.0.0", "leaks orders"));
    expect(state.plugins.momentum?.versions["1.0.0"]).toMatchObject({
      version: "1.0.0",
      deprecated: true,
      deprecationReason: "leaks orders",
    });
    expect(fold(released("momentum", "1.0.0")).plugins.momentum?.versions["1.0.0"]?.deprecated).toBe(false);
  });

  it("records the host versions", () => {
    expect(fold(host("2.0.0", "41.0.0")).host).toEqual({ apiVersion: "2.0.0", dbSchemaVersion: "41.0.0" });
  });

  it("keeps the previously active versions newest first, each once, never the active one", () => {
    const state = fold(
      registered("momentum", "1.0.0"),
      upgraded("momentum", "1.0.0", "1.1.0"),
      upgraded("momentum", "1.1.0", "1.2.0"),
      rolledBack("momentum", "1.2.0", "1.0.0"),
      upgraded("momentum", "1.0.0", "1.3.0"),
    );
    expect(state.plugins.momentum).toMatchObject({ active: "1.3.0", previous: ["1.0.0", "1.2.0", "1.1.0"] });
  });

  it("puts a deactivated version into the history and can register again", () => {
    const off = fold(registered("momentum", "1.0.0"), deactivated("momentum", "1.0.0"));
    expect(off.plugins.momentum).toMatchObject({ active: null, previous: ["1.0.0"] });
    const again = foldEvents([registered("momentum", "1.1.0")], off);
    expect(again.plugins.momentum).toMatchObject({ active: "1.1.0", previous: ["1.0.0"] });
  });

  it("bounds the history", () => {
    const events: LedgerEvent[] = [registered("momentum", "1.0.0")];
    for (let minor = 1; minor <= PREVIOUS_LIMIT + 10; minor++) {
      events.push(upgraded("momentum", `1.${minor - 1}.0`, `1.${minor}.0`));
    }
    const previous = foldEvents(events).plugins.momentum?.previous ?? [];
    expect(previous).toHaveLength(PREVIOUS_LIMIT);
    expect(previous[0]).toBe(`1.${PREVIOUS_LIMIT + 9}.0`);
  });

  it("runs an A/B test: start, weight change, promotion", () => {
    const started = fold(registered("momentum", "1.0.0"), abStarted("momentum", "1.0.0", "1.1.0", 500));
    expect(started.plugins.momentum?.abTest).toEqual({
      testId: "t1",
      control: "1.0.0",
      candidate: "1.1.0",
      candidateWeightBp: 500,
      salt: "s1",
    });
    const weighted = evolve(started, {
      type: "AbTestWeightChanged",
      data: { pluginId: "momentum", testId: "t1", fromBp: 500, toBp: 2500 },
    });
    expect(weighted.plugins.momentum?.abTest?.candidateWeightBp).toBe(2500);
    const promoted = evolve(weighted, {
      type: "AbTestPromoted",
      data: { pluginId: "momentum", testId: "t1", control: "1.0.0", candidate: "1.1.0" },
    });
    expect(promoted.plugins.momentum).toMatchObject({ active: "1.1.0", previous: ["1.0.0"], abTest: null });
  });

  it("aborts an A/B test back to the control, and ignores a weight change of another test", () => {
    const started = fold(registered("momentum", "1.0.0"), abStarted("momentum", "1.0.0", "1.1.0"));
    const other = evolve(started, {
      type: "AbTestWeightChanged",
      data: { pluginId: "momentum", testId: "t0", fromBp: 1000, toBp: 9000 },
    });
    expect(other.plugins.momentum?.abTest?.candidateWeightBp).toBe(1000);
    const aborted = evolve(started, abAborted("momentum", "1.0.0", "1.1.0"));
    expect(aborted.plugins.momentum).toMatchObject({ active: "1.0.0", previous: [], abTest: null });
  });

  it("treats a plugin called constructor like any other", () => {
    const state = fold(released("constructor", "1.0.0"), registered("constructor", "1.0.0"));
    expect(Object.hasOwn(state.plugins, "constructor")).toBe(true);
    expect(pluginOf(state, "constructor")?.active).toBe("1.0.0");
  });
});

describe("evolve is pure, evolveMut is its in-place twin", () => {
  const history: LedgerEvent[] = [
    host("2.0.0", "40.0.0"),
    released("momentum", "1.0.0"),
    released("momentum", "1.1.0"),
    registered("momentum", "1.0.0"),
    upgraded("momentum", "1.0.0", "1.1.0"),
    deprecated("momentum", "1.0.0"),
    abStarted("momentum", "1.1.0", "1.0.0"),
    abAborted("momentum", "1.1.0", "1.0.0"),
    rolledBack("momentum", "1.1.0", "1.0.0"),
  ];

  it("leaves every earlier state untouched", () => {
    let state: LedgerState = deepFreeze(initialState());
    const snapshots: string[] = [];
    for (const event of history) {
      snapshots.push(JSON.stringify(state));
      const next = evolve(state, event);
      expect(JSON.stringify(state)).toBe(snapshots.at(-1));
      state = deepFreeze(next);
    }
    expect(state).toEqual(foldEvents(history));
  });

  it("returns the same state object from evolveMut", () => {
    const state = initialState();
    expect(evolveMut(state, host("1.0.0", "1.0.0"))).toBe(state);
  });
});

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
