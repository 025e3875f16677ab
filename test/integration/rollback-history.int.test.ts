import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { projections } from "../../projections/index.ts";
import {
  type Command,
  type CommandRequest,
  decide,
  foldEvents,
  initialState,
  type LedgerState,
  PREVIOUS_LIMIT,
  parseEvent,
} from "../../src/domain/index.ts";
import type { ExecuteResult } from "../../src/index.ts";
import { loadState } from "../../src/ledger/state-loader.ts";
import { createEventStore } from "../../src/store/index.ts";
import { entry, openFixture } from "../support/ledger-fixtures.ts";

const PLUGIN = "long_lived";

/** An A/B start as the ledger decided it, with the id and salt it drew. */
function asDecided(command: CommandRequest, result: ExecuteResult): Command {
  if (command.kind !== "abTestStart") return command;
  const started = result.ok ? result.events.find((e) => e.type === "AbTestStarted") : undefined;
  const drawn = started?.type === "AbTestStarted" ? started.data : { testId: "t", salt: "s" };
  return { ...command, testId: drawn.testId, salt: drawn.salt };
}
const VERSIONS = Array.from({ length: 40 }, (_, minor) => `1.${minor}.0`);
const version = fc.constantFrom(...VERSIONS);

/** Steps that start and end the running version in every way the history knows. */
const step: fc.Arbitrary<CommandRequest> = fc.oneof(
  {
    weight: 6,
    arbitrary: version.map((v): CommandRequest => ({ kind: "upgrade", pluginId: PLUGIN, version: v })),
  },
  { weight: 3, arbitrary: fc.constant<CommandRequest>({ kind: "rollback", pluginId: PLUGIN }) },
  { weight: 2, arbitrary: fc.constant<CommandRequest>({ kind: "deactivate", pluginId: PLUGIN }) },
  {
    weight: 3,
    arbitrary: version.map((v): CommandRequest => ({ kind: "register", pluginId: PLUGIN, version: v })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(version, fc.integer({ min: 1, max: 9999 })).map(
      ([v, bp]): CommandRequest => ({
        kind: "abTestStart",
        pluginId: PLUGIN,
        candidate: v,
        candidateWeightBp: bp,
      }),
    ),
  },
  { weight: 1, arbitrary: fc.constant<CommandRequest>({ kind: "abTestPromote", pluginId: PLUGIN }) },
  {
    weight: 1,
    arbitrary: version.map(
      (v): CommandRequest => ({ kind: "deprecate", pluginId: PLUGIN, version: v, reason: "bad" }),
    ),
  },
);

/**
 * The rollback history a command reads from the projections (the state loader) equals the
 * fold's, for histories far past PREVIOUS_LIMIT distinct versions, with deactivations,
 * re-registrations, promotions and deprecations in between; and the default rollback decided
 * on it equals the fold's decision at every step.
 */
describe("rollback history from the projections", () => {
  it("equals the fold's for long histories", async () => {
    let longest = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 40, maxLength: 120 }), async (steps) => {
        const f = await openFixture();
        const store = createEventStore({ pool: f.test.db.pool, schema: f.test.schema });
        const names = projections.map((p) => p.name);
        try {
          let fold: LedgerState = initialState();
          const apply = (events: { type: string; data: unknown }[]) => {
            fold = foldEvents(
              events.map((e) => parseEvent(e.type, e.data)),
              fold,
            );
          };
          apply((await f.ok({ kind: "import", releases: VERSIONS.map((v) => entry(PLUGIN, v)) })).events);
          // More than PREVIOUS_LIMIT distinct versions run first, each once.
          apply((await f.ok({ kind: "register", pluginId: PLUGIN, version: VERSIONS[0] as string })).events);
          for (const v of VERSIONS.slice(1, PREVIOUS_LIMIT + 6)) {
            apply((await f.ok({ kind: "upgrade", pluginId: PLUGIN, version: v })).events);
          }
          for (const command of steps) {
            const loaded = await store.transact((session) =>
              loadState(session, { kind: "rollback", pluginId: PLUGIN }, names),
            );
            const folded = fold.plugins[PLUGIN];
            const fromProjections = loaded.plugins[PLUGIN];
            expect(fromProjections?.active).toBe(folded?.active);
            expect(fromProjections?.stops).toEqual(folded?.stops);
            expect(fromProjections?.previous).toEqual(folded?.previous);

            const result = await f.run(command);
            const expected = decide({ ...asDecided(command, result), force: false }, fold);
            expect(result.ok).toBe(expected.ok);
            if (!result.ok || !expected.ok || result.dryRun) continue;
            expect(result.events.map((e) => ({ type: e.type, data: e.data }))).toEqual(
              expected.events.map((e) => ({ type: e.type, data: e.data })),
            );
            apply(result.events);
          }
          const versionsRun = await f.test.db.pool.query(
            `SELECT count(DISTINCT version)::int AS n FROM "${f.test.schema}".version_history`,
          );
          longest = Math.max(longest, versionsRun.rows[0].n);
        } finally {
          await f.close();
        }
      }),
      { numRuns: 6, endOnFailure: true },
    );
    expect(longest).toBeGreaterThan(PREVIOUS_LIMIT + 5);
  });
});
