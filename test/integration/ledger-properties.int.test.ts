import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Command,
  type Decision,
  decide,
  foldEvents,
  initialState,
  type LedgerState,
  parseEvent,
} from "../../src/domain/index.ts";
import type { ExecuteResult } from "../../src/index.ts";
import { dumpProjections, openFixture } from "./ledger-fixtures.ts";

const ids = ["momentum", "risk_guard"];
const versions = ["0.9.0", "1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0"];
const ranges = ["^1.0.0", ">=1.1.0", "<2.0.0", "*"];

const id = fc.constantFrom(...ids);
const badId = fc.constantFrom("Bad-Id", "x", "");
const version = fc.constantFrom(...versions);
const badVersion = fc.constantFrom("v1.0.0", "1.0", "latest");
// Mostly no requirement: each one needs a matching host or partner before anything can run.
const range = fc.option(fc.constantFrom(...ranges), { nil: null, freq: 1 });

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

/** Valid and invalid commands, weighted so that plugins get released and activated often. */
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: releaseCommand },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("register" as const), pluginId: id, version }) },
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
);

const step = fc.record({
  command,
  force: fc.constantFrom(false, false, false, true),
  reason: fc.option(fc.constantFrom("ops", "hotfix"), { nil: undefined }),
  dryRun: fc.constantFrom(false, false, false, false, true),
});

const plain = (commands: fc.Arbitrary<Command>) =>
  commands.map((command) => ({ command, force: false, reason: undefined, dryRun: false }));

describe("ledger properties (random command sequences on PostgreSQL)", () => {
  it("live projections equal a rebuild and a replay, as-of equals replay everywhere, rejections write nothing", async () => {
    const seen = { written: 0, rejected: 0 };
    await fc.assert(
      // A few releases first, so that the random steps find something to activate.
      fc.asyncProperty(
        fc.array(plain(releaseCommand), { minLength: 3, maxLength: 8 }),
        fc.array(step, { minLength: 10, maxLength: 40 }),
        async (prelude, randomSteps) => {
          const steps = [...prelude, ...randomSteps];
          const f = await openFixture();
          try {
            let state: LedgerState = initialState();
            for (const { command, force, reason, dryRun } of steps) {
              const before = await f.eventCount();
              const expected = decide({ ...command, force }, state);
              const result = await f.run(command, { force, reason, dryRun });
              const after = await f.eventCount();
              if (force && reason === undefined) {
                expect(result).toMatchObject({ ok: false, violations: [{ code: "INVALID_INPUT" }] });
                expect(after).toBe(before);
                continue;
              }
              // The partial state loaded from the projections decides as the full fold does.
              expect(result.ok).toBe(expected.ok);
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
  });
});
