import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Command,
  decide,
  evolve,
  foldEvents,
  initialState,
  isPluginId,
  type LedgerEvent,
  type LedgerState,
  PREVIOUS_LIMIT,
  parseEvent,
  RULE_CODES,
} from "../../src/domain/index.ts";
import { BUILD_DATE, releaseData } from "../support/scenario.ts";

const ids = ["momentum", "risk_guard", "constructor"];
const versions = [
  "0.9.0",
  "1.0.0",
  "1.2.0",
  "1.9.0",
  "1.10.0",
  "2.0.0-rc.1",
  "2.0.0",
  "9.5.0",
  "10.0.0",
  "1.0.0+b",
];
const ranges = ["^1.0.0", ">=9.5.0", "<2.0.0", "*", "~1.9.0", ">=2.0.0-rc.1", "1.x || >=10.0.0"];

const id = fc.constantFrom(...ids);
const version = fc.constantFrom(...versions);
const range = fc.constantFrom(...ranges);
const arms = fc.uniqueArray(version, { minLength: 2, maxLength: 2 });
const bp = fc.integer({ min: 1, max: 9999 });

/** Schema-valid events in any order: evolve must take whatever the ledger holds. */
const event: fc.Arbitrary<LedgerEvent> = fc.oneof(
  fc.record({ pluginId: id, version, api: fc.option(range), db: fc.option(range), other: id, r: range }).map(
    ({ pluginId, version, api, db, other, r }): LedgerEvent => ({
      type: "VersionReleased",
      data: {
        ...releaseData(pluginId, version),
        requires: { api, dbSchema: db },
        compatibleWith: other === pluginId ? {} : { [other]: r },
      },
    }),
  ),
  fc
    .record({ pluginId: id, version, reason: fc.string() })
    .map((data): LedgerEvent => ({ type: "VersionDeprecated", data })),
  fc.record({ pluginId: id, version }).map((data): LedgerEvent => ({ type: "PluginRegistered", data })),
  fc
    .record({
      pluginId: id,
      from: version,
      to: version,
      direction: fc.constantFrom("up" as const, "down" as const),
      crossesMajor: fc.boolean(),
    })
    .map((data): LedgerEvent => ({ type: "PluginUpgraded", data })),
  fc
    .record({ pluginId: id, from: version, to: version })
    .map((data): LedgerEvent => ({ type: "PluginRolledBack", data })),
  fc.record({ pluginId: id, version }).map((data): LedgerEvent => ({ type: "PluginDeactivated", data })),
  fc
    .record({ apiVersion: version, dbSchemaVersion: version })
    .map((data): LedgerEvent => ({ type: "HostVersionsDeclared", data })),
  fc.record({ pluginId: id, arms, candidateWeightBp: bp }).map(
    ({ pluginId, arms: [control = "1.0.0", candidate = "1.2.0"], candidateWeightBp }): LedgerEvent => ({
      type: "AbTestStarted",
      data: { pluginId, testId: "t1", control, candidate, candidateWeightBp, salt: "s" },
    }),
  ),
  fc
    .record({ pluginId: id, testId: fc.constantFrom("t1", "t2"), fromBp: bp, toBp: bp })
    .map((data): LedgerEvent => ({ type: "AbTestWeightChanged", data })),
  fc.record({ pluginId: id, arms, promote: fc.boolean() }).map(
    ({ pluginId, arms: [control = "1.0.0", candidate = "1.2.0"], promote }): LedgerEvent => ({
      type: promote ? "AbTestPromoted" : "AbTestAborted",
      data: { pluginId, testId: "t1", control, candidate },
    }),
  ),
  fc
    .record({
      on: fc.boolean(),
      chatId: fc.constantFrom(-100123, 42),
      source: fc.constantFrom("config" as const, "command" as const),
    })
    .map(
      ({ on, chatId, source }): LedgerEvent => ({
        type: on ? "AuditChatEnabled" : "AuditChatDisabled",
        data: { chatId, source },
      }),
    ),
);

/** Whole runs of release + registration too, or plugins would rarely be active. */
const activation = fc.record({ pluginId: id, version }).map(({ pluginId, version }): LedgerEvent[] => [
  { type: "VersionReleased", data: releaseData(pluginId, version) },
  { type: "PluginRegistered", data: { pluginId, version } },
]);
const history = fc
  .array(
    fc.oneof(
      event.map((e) => [e]),
      activation,
    ),
    { maxLength: 40 },
  )
  .map((chunks) => chunks.flat());

/** Mostly meaningful, often nonsense, so that both the rules and the input checks get exercised. */
const text = (pool: string[]) =>
  fc.oneof({ arbitrary: fc.constantFrom(...pool), weight: 4 }, { arbitrary: fc.string(), weight: 1 });
const options = { force: fc.boolean(), dryRun: fc.boolean() };
const weight = fc.oneof(
  { arbitrary: bp, weight: 4 },
  { arbitrary: fc.constantFrom(0, 10_000, 12.5, -1, Number.NaN), weight: 1 },
);

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant("release" as const),
    pluginId: text(ids),
    version: text(versions),
    buildDate: text([BUILD_DATE]),
    author: text(["ci"]),
    commitHash: fc.option(text(["abcdef1"])),
    requires: fc.record({ api: fc.option(text(ranges)), dbSchema: fc.option(text(ranges)) }),
    compatibleWith: fc.dictionary(text(ids), text(ranges), { maxKeys: 2 }),
    features: fc.array(text(["news-filter"]), { maxLength: 2 }),
    ...options,
  }),
  fc.record({
    kind: fc.constant("import" as const),
    releases: fc.array(
      fc.record({
        pluginId: text(ids),
        version: text(versions),
        buildDate: text([BUILD_DATE]),
        author: fc.string(),
      }),
    ),
    ...options,
  }),
  fc.record({
    kind: fc.constant("deprecate" as const),
    pluginId: text(ids),
    version: text(versions),
    reason: fc.string(),
    ...options,
  }),
  fc.record({
    kind: fc.constantFrom("register" as const),
    pluginId: text(ids),
    version: text(versions),
    ...options,
  }),
  fc.record({
    kind: fc.constant("upgrade" as const),
    pluginId: text(ids),
    version: text(versions),
    allowMajor: fc.boolean(),
    ...options,
  }),
  fc.record(
    {
      kind: fc.constant("rollback" as const),
      pluginId: text(ids),
      version: text(versions),
      allowMajor: fc.boolean(),
      ...options,
    },
    { requiredKeys: ["kind", "pluginId"] },
  ),
  fc.record(
    {
      kind: fc.constant("rollback" as const),
      pluginId: text(ids),
      toPosition: fc.oneof(fc.integer({ min: -2, max: 60 }), fc.constantFrom(1.5, Number.NaN)),
      ranAtPosition: fc.option(text(versions), { nil: null }),
      ...options,
    },
    { requiredKeys: ["kind", "pluginId", "toPosition"] },
  ),
  fc.record({ kind: fc.constant("deactivate" as const), pluginId: text(ids), ...options }),
  fc.record({
    kind: fc.constant("hostSet" as const),
    apiVersion: text(versions),
    dbSchemaVersion: text(versions),
    ...options,
  }),
  fc.record({
    kind: fc.constant("abTestStart" as const),
    pluginId: text(ids),
    candidate: text(versions),
    candidateWeightBp: weight,
    testId: text(["t2"]),
    salt: text(["s2"]),
    allowMajor: fc.boolean(),
    ...options,
  }),
  fc.record({
    kind: fc.constant("abTestWeight" as const),
    pluginId: text(ids),
    candidateWeightBp: weight,
    ...options,
  }),
  fc.record({ kind: fc.constant("abTestPromote" as const), pluginId: text(ids), ...options }),
  fc.record({ kind: fc.constant("abTestAbort" as const), pluginId: text(ids), ...options }),
  fc.record({
    kind: fc.constantFrom("auditChatEnable" as const, "auditChatDisable" as const),
    chatId: fc.constantFrom(-100123, 42, 0, 1.5),
    ...options,
  }),
  fc.record({
    kind: fc.constant("auditChatsConfigure" as const),
    chatIds: fc.array(fc.constantFrom(-100123, 42, 7), { maxLength: 3 }),
    ...options,
  }),
);

describe("properties", () => {
  it("evolve is deterministic, pure, and agrees with the in-place fold", () => {
    fc.assert(
      fc.property(history, (events) => {
        let state: LedgerState = initialState();
        for (const e of events) {
          const before = JSON.stringify(state);
          const next = evolve(state, e);
          expect(evolve(state, e)).toEqual(next);
          expect(JSON.stringify(state)).toBe(before);
          state = next;
        }
        expect(state).toEqual(foldEvents(events));
      }),
    );
  });

  it("keeps the history well formed: newest first, each version once, never the active one", () => {
    fc.assert(
      fc.property(history, (events) => {
        for (const plugin of Object.values(foldEvents(events).plugins)) {
          expect(new Set(plugin.previous).size).toBe(plugin.previous.length);
          expect(plugin.previous.length).toBeLessThanOrEqual(PREVIOUS_LIMIT);
          if (plugin.active !== null) expect(plugin.previous).not.toContain(plugin.active);
        }
      }),
    );
  });

  it("decide never throws: it answers valid events or named violations", () => {
    fc.assert(
      fc.property(history, command, (events, cmd) => {
        const decision = decide(cmd, foldEvents(events));
        if (decision.ok) {
          for (const e of decision.events) expect(() => parseEvent(e.type, e.data)).not.toThrow();
          expect(decision.events.length).toBeGreaterThan(0);
        } else {
          expect(decision.violations.length).toBeGreaterThan(0);
          for (const v of decision.violations) {
            expect(RULE_CODES).toContain(v.code);
            expect(v.message).toMatch(/^[^\n]+\.$/);
          }
        }
        const pluginId = "pluginId" in cmd ? cmd.pluginId : undefined;
        if (pluginId !== undefined && !isPluginId(pluginId)) {
          expect(decision.ok).toBe(false);
          if (!decision.ok) expect(decision.violations.map((v) => v.code)).toContain("INVALID_INPUT");
        }
      }),
      { numRuns: 500 },
    );
  });

  it("a rollback without a target undoes itself: the next one goes back, when that version is still fit", () => {
    let undone = 0;
    fc.assert(
      fc.property(history, fc.constantFrom(...ids), fc.boolean(), (events, pluginId, force) => {
        const state = foldEvents(events);
        const first = decide({ kind: "rollback", pluginId, force }, state);
        fc.pre(first.ok);
        const back = first.ok ? first.events.find((e) => e.type === "PluginRolledBack") : undefined;
        if (back?.type !== "PluginRolledBack") return expect.fail("a rollback emits PluginRolledBack");
        const after = first.ok ? foldEvents(first.events, structuredClone(state)) : state;
        // Fit: what an upgrade to it would accept, and not a prerelease (never picked unnamed).
        const fit = decide({ kind: "upgrade", pluginId, version: back.data.from, allowMajor: true }, after);
        fc.pre(fit.ok && !back.data.from.includes("-"));
        const second = decide({ kind: "rollback", pluginId }, after);
        expect(second.ok && second.events.map((e) => e.data)).toEqual([
          { pluginId, from: back.data.to, to: back.data.from },
        ]);
        undone += 1;
      }),
      { numRuns: 300 },
    );
    // The generated histories must reach the case often, or the property says little.
    expect(undone).toBeGreaterThan(30);
  });

  it("a command that went through once is ALREADY done the second time", () => {
    const repeatable = command.filter((c) =>
      [
        "release",
        "deprecate",
        "register",
        "upgrade",
        "hostSet",
        "abTestWeight",
        "auditChatEnable",
        "auditChatDisable",
        "auditChatsConfigure",
      ].includes(c.kind),
    );
    fc.assert(
      fc.property(history, repeatable, (events, cmd) => {
        const state = foldEvents(events);
        const first = decide(cmd, state);
        fc.pre(first.ok);
        const after = first.ok ? foldEvents(first.events, state) : state;
        const second = decide(cmd, after);
        expect(second.ok).toBe(false);
        if (!second.ok) expect(second.violations.map((v) => v.code)).toContain("ALREADY");
      }),
      { numRuns: 300 },
    );
  });
});
