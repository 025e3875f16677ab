import { describe, expect, it } from "vitest";
import type { LedgerEvent } from "../../src/domain/index.ts";
import {
  abAborted,
  abStarted,
  deprecated,
  given,
  host,
  released,
  rolledBack,
  running,
  upgraded,
} from "../support/scenario.ts";

const rollback = (version?: string, extra: { allowMajor?: boolean; force?: boolean } = {}) => ({
  kind: "rollback" as const,
  pluginId: "momentum",
  ...(version === undefined ? {} : { version }),
  ...extra,
});

/** `--to-position N` as the ledger hands it to the rules: with the version it found running there. */
const rollbackToPosition = (toPosition: number, ranAtPosition: string | null, force = false) => ({
  kind: "rollback" as const,
  pluginId: "momentum",
  toPosition,
  ranAtPosition,
  force,
});

/** 1.0.0 -> 1.1.0 -> 1.2.0 -> 1.3.0: history [1.2.0, 1.1.0, 1.0.0]. */
const climbed: LedgerEvent[] = [
  ...running("momentum", "1.0.0"),
  ...["1.1.0", "1.2.0", "1.3.0"].map((v) => released("momentum", v)),
  upgraded("momentum", "1.0.0", "1.1.0"),
  upgraded("momentum", "1.1.0", "1.2.0"),
  upgraded("momentum", "1.2.0", "1.3.0"),
];

describe("rollback without a target: an undo", () => {
  it("undoes an upgrade: back to the version active before the current one", () => {
    given(...climbed)
      .when(rollback())
      .thenEmits(rolledBack("momentum", "1.3.0", "1.2.0"));
  });

  it("undoes a downgrade: back up to the version that ran before", () => {
    given(
      ...running("momentum", "6.1.0"),
      released("momentum", "6.0.0"),
      upgraded("momentum", "6.1.0", "6.0.0"),
    )
      .when(rollback())
      .thenEmits(rolledBack("momentum", "6.0.0", "6.1.0"));
  });

  it("undoes a rollback: back to the version it rolled back from", () => {
    given(...climbed, rolledBack("momentum", "1.3.0", "1.2.0"))
      .when(rollback())
      .thenEmits(rolledBack("momentum", "1.2.0", "1.3.0"));
  });

  it("undoes an undo: two rollbacks in a row leave the version of before", () => {
    given(...climbed, rolledBack("momentum", "1.3.0", "1.2.0"), rolledBack("momentum", "1.2.0", "1.3.0"))
      .when(rollback())
      .thenEmits(rolledBack("momentum", "1.3.0", "1.2.0"));
  });

  it("has nothing to undo on a first registration with nothing released below: NOT_FOUND", () => {
    const [v] = given(...running("momentum", "1.0.0"), released("momentum", "1.1.0"))
      .when(rollback())
      .thenRejects("NOT_FOUND");
    expect(v?.message).toBe(
      "Plugin momentum has nothing to roll back to from 1.0.0: no compatible, non-deprecated, non-prerelease version ran before it or is released below it in MAJOR 1; use upgrade to choose a version.",
    );
  });

  it("skips deprecated versions of the history", () => {
    given(...climbed, deprecated("momentum", "1.2.0"))
      .when(rollback())
      .thenEmits(rolledBack("momentum", "1.3.0", "1.1.0"));
  });

  it("skips incompatible versions of the history (host, matrix)", () => {
    given(
      host("2.0.0", "1.0.0"),
      ...running("momentum", "1.0.0"),
      released("momentum", "1.1.0"),
      released("momentum", "1.2.0", { requires: { api: "^1.0.0", dbSchema: null } }),
      released("momentum", "1.3.0"),
      ...running("risk_guard", "1.0.0", { compatibleWith: { momentum: "<1.1.0 || >1.1.0" } }),
      upgraded("momentum", "1.0.0", "1.1.0"),
      upgraded("momentum", "1.1.0", "1.2.0"),
      upgraded("momentum", "1.2.0", "1.3.0"),
    )
      .when(rollback())
      .thenEmits(rolledBack("momentum", "1.3.0", "1.0.0"));
  });

  it("goes back across a MAJOR through history without allowMajor", () => {
    given(
      ...running("momentum", "1.4.0"),
      released("momentum", "2.0.0"),
      upgraded("momentum", "1.4.0", "2.0.0"),
    )
      .when(rollback())
      .thenEmits(rolledBack("momentum", "2.0.0", "1.4.0"));
  });

  it("never picks a prerelease from history", () => {
    given(
      ...running("momentum", "1.0.0"),
      released("momentum", "1.1.0-rc.1"),
      released("momentum", "1.1.0"),
      upgraded("momentum", "1.0.0", "1.1.0-rc.1"),
      upgraded("momentum", "1.1.0-rc.1", "1.1.0"),
    )
      .when(rollback())
      .thenEmits(rolledBack("momentum", "1.1.0", "1.0.0"));
  });

  it("without history, picks the highest lower release of the same MAJOR, by semver", () => {
    given(
      ...["1.2.0", "1.9.0", "1.10.0", "1.11.0-rc.1", "0.9.0", "2.0.0"].map((v) => released("momentum", v)),
      ...running("momentum", "1.12.0"),
    )
      .when(rollback())
      .thenEmits(rolledBack("momentum", "1.12.0", "1.10.0"));
  });

  it("without history, skips deprecated and incompatible releases", () => {
    given(
      host("1.0.0", "1.0.0"),
      released("momentum", "1.7.0"),
      released("momentum", "1.8.0", { requires: { api: "^2.0.0", dbSchema: null } }),
      released("momentum", "1.9.0"),
      deprecated("momentum", "1.9.0"),
      ...running("momentum", "1.10.0"),
    )
      .when(rollback())
      .thenEmits(rolledBack("momentum", "1.10.0", "1.7.0"));
  });

  it("finds nothing: NOT_FOUND naming what it passed over, even forced", () => {
    const [v] = given(
      released("momentum", "1.0.0"),
      deprecated("momentum", "1.0.0"),
      released("momentum", "1.1.0-beta"),
      released("momentum", "0.9.0"),
      ...running("momentum", "1.2.0"),
    )
      .when(rollback(undefined, { force: true }))
      .thenRejects("NOT_FOUND");
    expect(v?.message).toBe(
      "Plugin momentum has nothing to roll back to from 1.2.0: no compatible, non-deprecated, non-prerelease version ran before it or is released below it in MAJOR 1 (passed over: 1.0.0 (deprecated)); use upgrade to choose a version.",
    );
  });

  it("refuses a plugin that is not active", () => {
    given(released("momentum", "1.0.0")).when(rollback()).thenRejects("NOT_FOUND");
  });

  it("refuses while an A/B test runs and ends it first when forced", () => {
    const testing = [...climbed, abStarted("momentum", "1.3.0", "1.1.0")];
    given(...testing)
      .when(rollback())
      .thenRejects("AB_TEST_RUNNING");
    given(...testing)
      .when(rollback(undefined, { force: true }))
      .thenOverrides(
        ["AB_TEST_RUNNING"],
        abAborted("momentum", "1.3.0", "1.1.0"),
        rolledBack("momentum", "1.3.0", "1.2.0"),
      );
  });
});

describe("rollback to a named version", () => {
  it("goes to any version that ran before, lower", () => {
    given(...climbed)
      .when(rollback("1.0.0"))
      .thenEmits(rolledBack("momentum", "1.3.0", "1.0.0"));
  });

  it("or higher: a named undo of a rollback", () => {
    given(...climbed, rolledBack("momentum", "1.3.0", "1.1.0"))
      .when(rollback("1.3.0"))
      .thenEmits(rolledBack("momentum", "1.1.0", "1.3.0"));
  });

  it("may name a prerelease that ran", () => {
    given(
      ...running("momentum", "1.1.0-rc.1"),
      released("momentum", "1.1.0"),
      upgraded("momentum", "1.1.0-rc.1", "1.1.0"),
    )
      .when(rollback("1.1.0-rc.1"))
      .thenEmits(rolledBack("momentum", "1.1.0", "1.1.0-rc.1"));
  });

  it("refuses a version that never ran, even forced: that is an upgrade", () => {
    const [v] = given(released("momentum", "1.9.0"), ...running("momentum", "1.10.0"))
      .when(rollback("1.9.0", { force: true }))
      .thenRejects("NOT_FOUND");
    expect(v?.message).toBe(
      "Version 1.9.0 of plugin momentum is not among the versions that ran before 1.10.0, so a rollback cannot go back to it; use upgrade.",
    );
  });

  it("refuses the active version, an unreleased one, and bad input", () => {
    given(...climbed)
      .when(rollback("1.3.0"))
      .thenRejects("ALREADY");
    given(...climbed)
      .when(rollback("1.0.5"))
      .thenRejects("NOT_FOUND");
    given(...climbed)
      .when(rollback("1.0"))
      .thenRejects("INVALID_INPUT");
  });

  it("goes back across a MAJOR that ran before, without allowMajor", () => {
    given(
      ...running("momentum", "9.5.0"),
      released("momentum", "10.0.0"),
      upgraded("momentum", "9.5.0", "10.0.0"),
    )
      .when(rollback("9.5.0"))
      .thenEmits(rolledBack("momentum", "10.0.0", "9.5.0"));
  });

  it("refuses a deprecated or incompatible target unless forced", () => {
    const past = [
      ...climbed,
      deprecated("momentum", "1.1.0"),
      ...running("risk_guard", "1.0.0", { compatibleWith: { momentum: ">=1.2.0" } }),
    ];
    given(...past)
      .when(rollback("1.1.0"))
      .thenRejects("DEPRECATED", "MATRIX_CONFLICT");
    given(...past)
      .when(rollback("1.1.0", { force: true }))
      .thenOverrides(["DEPRECATED", "MATRIX_CONFLICT"], rolledBack("momentum", "1.3.0", "1.1.0"));
  });
});

describe("rollback to a position", () => {
  it("goes to the version that ran at that position, lower or higher", () => {
    given(...climbed)
      .when(rollbackToPosition(4, "1.1.0"))
      .thenEmits(rolledBack("momentum", "1.3.0", "1.1.0"));
    given(...climbed, rolledBack("momentum", "1.3.0", "1.0.0"))
      .when(rollbackToPosition(9, "1.2.0"))
      .thenEmits(rolledBack("momentum", "1.0.0", "1.2.0"));
  });

  it("is not bound to the recent history: what ran there ran", () => {
    const many = Array.from({ length: 25 }, (_, i) => `1.${i + 1}.0`);
    given(
      ...running("momentum", "1.0.0"),
      ...many.map((v) => released("momentum", v)),
      ...many.map((v, i) => upgraded("momentum", i === 0 ? "1.0.0" : (many[i - 1] as string), v)),
    )
      .when(rollbackToPosition(2, "1.0.0"))
      .thenEmits(rolledBack("momentum", "1.25.0", "1.0.0"));
  });

  it("refuses a position where the plugin ran nothing, or ran what runs now", () => {
    const [v] = given(...climbed)
      .when(rollbackToPosition(1, null, true))
      .thenRejects("NOT_FOUND");
    expect(v?.message).toBe(
      "Plugin momentum ran no version at position 1, so there is nothing to roll back to.",
    );
    given(...climbed)
      .when(rollbackToPosition(8, "1.3.0"))
      .thenRejects("ALREADY");
  });

  it("applies the checks of an upgrade: deprecated unless forced", () => {
    const past = [...climbed, deprecated("momentum", "1.1.0")];
    given(...past)
      .when(rollbackToPosition(5, "1.1.0"))
      .thenRejects("DEPRECATED");
    given(...past)
      .when(rollbackToPosition(5, "1.1.0", true))
      .thenOverrides(["DEPRECATED"], rolledBack("momentum", "1.3.0", "1.1.0"));
  });

  it("refuses a bad position, a position with a version, and an unresolved position", () => {
    for (const toPosition of [0, -1, 1.5, Number.NaN]) {
      given(...climbed)
        .when(rollbackToPosition(toPosition, "1.1.0"))
        .thenRejects("INVALID_INPUT");
    }
    given(...climbed)
      .when({ ...rollback("1.1.0"), toPosition: 4, ranAtPosition: "1.1.0" })
      .thenRejects("INVALID_INPUT");
    given(...climbed)
      .when({ kind: "rollback", pluginId: "momentum", toPosition: 4 })
      .thenRejects("INVALID_INPUT");
  });
});
