import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  evolve,
  foldEvents,
  initialState,
  type LedgerEvent,
  PREVIOUS_LIMIT,
  previousOf,
} from "../../src/domain/index.ts";
import { deactivated, registered, rolledBack, upgraded } from "../support/scenario.ts";

const VERSIONS = Array.from({ length: 30 }, (_, minor) => `1.${minor}.0`);

/** A plugin's activations and deactivations, each consistent with what ran before it. */
const life = fc
  .array(fc.tuple(fc.constantFrom("switch", "rollback", "off"), fc.constantFrom(...VERSIONS)), {
    minLength: 30,
    maxLength: 200,
  })
  .map((moves) => {
    const events: LedgerEvent[] = [];
    let active: string | null = null;
    for (const [move, version] of moves) {
      if (active === null) {
        if (move !== "off") {
          events.push(registered("momentum", version));
          active = version;
        }
      } else if (move === "off") {
        events.push(deactivated("momentum", active));
        active = null;
      } else if (version !== active) {
        events.push(
          move === "rollback"
            ? rolledBack("momentum", active, version)
            : upgraded("momentum", active, version),
        );
        active = version;
      }
    }
    return events;
  });

describe("rollback history (previous and stops)", () => {
  it("keeps previous equal to the distinct versions of the last stops, however long the life", () => {
    fc.assert(
      fc.property(life, (events) => {
        let pure = initialState();
        for (const event of events) {
          pure = evolve(pure, event);
          const plugin = pure.plugins.momentum;
          if (!plugin) continue;
          expect(plugin.stops.length).toBeLessThanOrEqual(PREVIOUS_LIMIT);
          expect(plugin.previous).toEqual(previousOf(plugin.stops, plugin.active));
        }
        expect(foldEvents(events)).toEqual(pure);
      }),
      { numRuns: 200 },
    );
  });

  it("remembers a version again when a newer stop still holds it after an older one falls off", () => {
    const events: LedgerEvent[] = [registered("momentum", "1.0.0")];
    let active = "1.0.0";
    // 1.0.0 stops first and again as the 21st-newest stop: the oldest one falls off, the version stays.
    for (const next of [...VERSIONS.slice(1, PREVIOUS_LIMIT), "1.0.0", "1.29.0"]) {
      events.push(upgraded("momentum", active, next));
      active = next;
    }
    const plugin = foldEvents(events).plugins.momentum;
    expect(plugin?.stops).toHaveLength(PREVIOUS_LIMIT);
    expect(plugin?.previous[0]).toBe("1.0.0");
    expect(plugin?.previous).toEqual(previousOf(plugin?.stops ?? [], "1.29.0"));
  });
});
