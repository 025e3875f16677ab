import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assignUnit,
  type Command,
  type CommandRequest,
  type Decision,
  decide,
  foldEvents,
  initialState,
  type LedgerState,
  parseEvent,
} from "../../src/domain/index.ts";
import type { ExecuteResult } from "../../src/index.ts";
import { dumpProjections, openFixture } from "../support/ledger-fixtures.ts";

const ids = ["momentum", "risk_guard"];
const versions = ["0.9.0", "1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0"];
const ranges = ["^1.0.0", ">=1.1.0", "<2.0.0", "*"];

const id = fc.constantFrom(...ids);
const badId = fc.constantFrom("Bad-Id", "x", "");
const version = fc.constantFrom(...versions);
const badVersion = fc.constantFrom("v1.0.0", "1.0", "latest");
// Mostly no requirement: each one needs a matching host or partner before anything can run.
const range = fc.option(fc.constantFrom(...ranges), { nil: null, freq: 1 });

// Mostly a valid split, repeating often enough to meet ALREADY; sometimes out of range.
const weightBp = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 9999 }) },
  { weight: 2, arbitrary: fc.constantFrom(1, 1000, 5000, 9999) },
  { weight: 1, arbitrary: fc.constantFrom(0, 10_000, 12.5) },
);

const releaseCommand = fc
  .record({
    pluginId: fc.oneof({ weight: 9, arbitrary: id }, { weight: 1, arbitrary: badId }),
    version,
    api: range,
    other: range,
  })
  .map(
    ({ pluginId, version, api, other }): Command => ({
      kind: "release",
      pluginId,
      version,
      buildDate: "2024-05-01T12:00:00.000Z",
      author: "ci",
      requires: { api, dbSchema: null },
      compatibleWith: other === null ? {} : { [pluginId === "momentum" ? "risk_guard" : "momentum"]: other },
    }),
  );

const registerCommand = fc.record({ kind: fc.constant("register" as const), pluginId: id, version });

/** Valid and invalid commands, weighted so that plugins get released and activated often. */
const command: fc.Arbitrary<CommandRequest> = fc.oneof(
  { weight: 4, arbitrary: releaseCommand },
  { weight: 4, arbitrary: registerCommand },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("upgrade" as const),
      pluginId: id,
      version,
      allowMajor: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      { kind: fc.constant("rollback" as const), pluginId: id, version, allowMajor: fc.boolean() },
      { requiredKeys: ["kind", "pluginId"] },
    ),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("rollback" as const),
      pluginId: id,
      toPosition: fc.integer({ min: 0, max: 60 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("deprecate" as const), pluginId: id, version }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("deactivate" as const), pluginId: id }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("hostSet" as const),
      apiVersion: fc.constantFrom("1.0.0", "1.5.0", "2.0.0"),
      dbSchemaVersion: fc.constant("3.0.0"),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("upgrade" as const), pluginId: id, version: badVersion }),
  },
  {
    // Raised with the to-position rollbacks, so that A/B tests still start often enough.
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("abTestStart" as const),
      pluginId: id,
      candidate: version,
      candidateWeightBp: weightBp,
      allowMajor: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("abTestWeight" as const),
      pluginId: id,
      candidateWeightBp: weightBp,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("abTestPromote" as const), pluginId: id }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("abTestAbort" as const), pluginId: id }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom("auditChatEnable" as const, "auditChatDisable" as const),
      chatId: fc.constantFrom(-100123, 42),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("auditChatsConfigure" as const),
      chatIds: fc.uniqueArray(fc.constantFrom(-100123, 42, 7), { maxLength: 3 }),
    }),
  },
);

/**
 * The command as the ledger decided it: an A/B start with the id and salt the ledger drew (they
 * are in the planned or written AbTestStarted), or placeholders when it was refused.
 */
function asDecided(command: CommandRequest, result: ExecuteResult): Command {
  if (command.kind !== "abTestStart") return command;
  const started = result.ok ? result.events.find((e) => e.type === "AbTestStarted") : undefined;
  const drawn = started?.type === "AbTestStarted" ? started.data : { testId: "t", salt: "s" };
  return { ...command, testId: drawn.testId, salt: drawn.salt };
}

/** A rollback to a position, as the ledger decides it: with the version that ran there (by as-of). */
async function withRanAtPosition(
  command: Command,
  asOf: (position: number) => Promise<{ plugins: { pluginId: string; version: string }[] }>,
  head: number,
): Promise<Command> {
  if (command.kind !== "rollback" || command.toPosition === undefined) return command;
  const { toPosition } = command;
  const ran =
    toPosition < 1 || toPosition > head
      ? null
      : ((await asOf(toPosition)).plugins.find((p) => p.pluginId === command.pluginId)?.version ?? null);
  return { ...command, ranAtPosition: ran };
}

/**
 * With `aim`, a command is pointed at what can take it, so that the sequences where it runs are
 * common rather than rare: an A/B start at an active plugin, a weight change, promotion or abort
 * at a plugin with a running test, and a register or an A/B start at a released version (the
 * one the generated version points at, in release order; for a start, not the active one). The
 * rules still judge everything else (deprecation, compatibility, MAJOR, weights).
 */
function aimed(
  command: CommandRequest,
  aim: boolean,
  state: LedgerState,
  activations: readonly { position: number; pluginId: string; version: string }[],
): CommandRequest {
  if (!aim) return command;
  const plugins = Object.entries(state.plugins);
  const target = (fits: (p: LedgerState["plugins"][string]) => boolean) =>
    plugins.find(([pluginId, p]) => "pluginId" in command && pluginId === command.pluginId && fits(p))?.[0] ??
    plugins.find(([, p]) => fits(p))?.[0];
  switch (command.kind) {
    case "abTestWeight":
    case "abTestPromote":
    case "abTestAbort":
      return { ...command, pluginId: target((p) => p.abTest !== null) ?? command.pluginId };
    case "abTestStart":
    case "register": {
      const pluginId =
        command.kind === "abTestStart"
          ? (target((p) => p.active !== null) ?? command.pluginId)
          : command.pluginId;
      const plugin = state.plugins[pluginId];
      const released = Object.keys(plugin?.versions ?? {}).filter(
        (v) => command.kind === "register" || v !== plugin?.active,
      );
      const named = command.kind === "register" ? command.version : command.candidate;
      const chosen = released[versions.indexOf(named) % Math.max(1, released.length)] ?? named;
      return command.kind === "register"
        ? { ...command, version: chosen }
        : { ...command, pluginId, candidate: chosen };
    }
    case "rollback": {
      // To a position where a version of a plugin began to run, another than it runs now.
      const others = activations.filter((a) => state.plugins[a.pluginId]?.active !== a.version);
      const at = command.toPosition === undefined ? undefined : others[command.toPosition % others.length];
      return at === undefined ? command : { ...command, pluginId: at.pluginId, toPosition: at.position };
    }
    default:
      return command;
  }
}

const step = fc.record({
  command,
  force: fc.constantFrom(false, false, false, true),
  reason: fc.option(fc.constantFrom("ops", "hotfix"), { nil: undefined }),
  dryRun: fc.constantFrom(false, false, false, false, true),
  aim: fc.boolean(),
});

const plain = (commands: fc.Arbitrary<CommandRequest>) =>
  commands.map((command) => ({
    command,
    force: false,
    reason: undefined,
    dryRun: false,
    aim: true,
  }));

describe("ledger properties (random command sequences on PostgreSQL)", () => {
  it("live projections equal a rebuild and a replay, as-of equals replay everywhere, rejections write nothing", async () => {
    const seen = { written: 0, rejected: 0, abWritten: 0, toPosition: 0 };
    await fc.assert(
      // A few releases and activations first, so that the random steps find something to
      // activate, change and A/B test.
      fc.asyncProperty(
        fc.array(plain(releaseCommand), { minLength: 3, maxLength: 8 }),
        fc.array(plain(registerCommand), { minLength: 1, maxLength: 4 }),
        fc.array(step, { minLength: 10, maxLength: 40 }),
        async (releases, registrations, randomSteps) => {
          const steps = [...releases, ...registrations, ...randomSteps];
          const f = await openFixture();
          try {
            let state: LedgerState = initialState();
            const activations: { position: number; pluginId: string; version: string }[] = [];
            for (const { command: generated, force, reason, dryRun, aim } of steps) {
              const command = aimed(generated, aim, state, activations);
              const before = await f.eventCount();
              const result = await f.run(command, { force, reason, dryRun });
              const decided = await withRanAtPosition(
                asDecided(command, result),
                (p) => f.ledger.asOf(p),
                before,
              );
              const expected = decide({ ...decided, force }, state);
              const after = await f.eventCount();
              if (force && reason === undefined) {
                expect(result).toMatchObject({ ok: false, violations: [{ code: "INVALID_INPUT" }] });
                expect(after).toBe(before);
                continue;
              }
              // The partial state loaded from the projections decides as the full fold does.
              expect(result.ok).toBe(expected.ok);
              // Judged against as-of (the version that ran there) and the fold, accepted or not.
              if (command.kind === "rollback" && command.toPosition !== undefined) seen.toPosition += 1;
              if (!result.ok || !expected.ok) {
                const codes = (r: ExecuteResult | Decision) => (r.ok ? [] : r.violations.map((v) => v.code));
                expect(codes(result)).toEqual(codes(expected));
                seen.rejected += 1;
                expect(after).toBe(before);
                continue;
              }
              expect(result.events.map((e) => ({ type: e.type, data: e.data }))).toEqual(
                expected.events.map((e) => ({ type: e.type, data: e.data })),
              );
              if (result.dryRun) {
                expect(after).toBe(before);
                continue;
              }
              expect(after).toBe(before + result.events.length);
              seen.written += 1;
              if (command.kind.startsWith("abTest")) seen.abWritten += 1;
              for (const e of result.events) {
                const d = e.data as { pluginId: string; version?: string; to?: string; candidate?: string };
                const version =
                  e.type === "PluginRegistered"
                    ? d.version
                    : e.type === "AbTestPromoted"
                      ? d.candidate
                      : d.to;
                if (/^Plugin(Registered|Upgraded|RolledBack)$|^AbTestPromoted$/.test(e.type) && version) {
                  activations.push({ position: e.position, pluginId: d.pluginId, version });
                }
              }
              state = foldEvents(
                result.events.map((e) => parseEvent(e.type, e.data)),
                state,
              );
            }
            const head = await f.eventCount();
            expect(await f.ledger.status()).toEqual(await f.ledger.replay());
            for (let position = 0; position <= head; position++) {
              expect(await f.ledger.asOf(position)).toEqual(await f.ledger.replay({ to: position }));
            }
            const live = await dumpProjections(f.test);
            await f.ledger.rebuild();
            expect(await dumpProjections(f.test)).toEqual(live);
            expect(await f.ledger.verify()).toMatchObject({ ok: true, events: head });
            // Assignment reads the projections as the fold would answer it.
            for (const pluginId of ids) {
              const plugin = state.plugins[pluginId];
              const found = await f.ledger.assign(pluginId, "acct-42");
              const test = plugin?.abTest ?? null;
              if (test === null) {
                expect(found).toMatchObject({ version: plugin?.active ?? null, arm: "only", bucket: null });
              } else {
                const unit = assignUnit(test, "acct-42");
                expect(found).toMatchObject({ version: unit.version, arm: unit.arm, testId: test.testId });
              }
            }
          } finally {
            await f.close();
          }
        },
      ),
      { numRuns: 25, endOnFailure: true },
    );
    // The generators must reach both outcomes often, or the property says little.
    expect(seen.written).toBeGreaterThan(80);
    expect(seen.rejected).toBeGreaterThan(80);
    expect(seen.abWritten).toBeGreaterThan(10);
    expect(seen.toPosition).toBeGreaterThan(20);
  });
});
