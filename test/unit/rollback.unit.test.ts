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
} from "./scenario.ts";

const rollback = (version?: string, extra: { allowMajor?: boolean; force?: boolean } = {}) => ({
  kind: "rollback" as const,
  pluginId: "momentum",
  ...(version === undefined ? {} : { version }),
  ...extra,
});

/** 1.0.0 -> 1.1.0 -> 1.2.0 -> 1.3.0: history [1.2.0, 1.1.0, 1.0.0]. */
const climbed: LedgerEvent[] = [
  ...running("momentum", "1.0.0"),
  ...["1.1.0", "1.2.0", "1.3.0"].map((v) => released("momentum", v)),
  upgraded("momentum", "1.0.0", "1.1.0"),
  upgraded("momentum", "1.1.0", "1.2.0"),
  upgraded("momentum", "1.2.0", "1.3.0"),
];

describe("rollback without a target", () => {
  it("goes to the version active before the current one", () => {
    given(...climbed)
      .when(rollback())
      .thenEmits(rolledBack("momentum", "1.3.0", "1.2.0"));
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

  it("does not climb back to the version it just rolled back from", () => {
    given(...climbed, rolledBack("momentum", "1.3.0", "1.2.0"))
      .when(rollback())
      .thenEmits(rolledBack("momentum", "1.2.0", "1.1.0"));
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
      "Plugin momentum has no version to roll back to from 1.2.0: no earlier compatible, non-deprecated, non-prerelease version in its history or below it in MAJOR 1 (passed over: 1.0.0 (deprecated)); name a version explicitly.",
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
  it("goes to any lower released version", () => {
    given(...climbed)
      .when(rollback("1.0.0"))
      .thenEmits(rolledBack("momentum", "1.3.0", "1.0.0"));
  });

  it("may name a prerelease", () => {
    given(...running("momentum", "1.1.0"), released("momentum", "1.1.0-rc.1"))
      .when(rollback("1.1.0-rc.1"))
      .thenEmits(rolledBack("momentum", "1.1.0", "1.1.0-rc.1"));
  });

  it("refuses to go up, even forced: that is an upgrade", () => {
    const [v] = given(...climbed, rolledBack("momentum", "1.3.0", "1.1.0"))
      .when(rollback("1.3.0", { force: true }))
      .thenRejects("INVALID_INPUT");
    expect(v?.message).toBe(
      "Rollback of plugin momentum from 1.1.0 to 1.3.0 goes up, but a rollback goes lower; use upgrade.",
    );
  });

  it("compares 1.9.0 below 1.10.0", () => {
    given(released("momentum", "1.9.0"), ...running("momentum", "1.10.0"))
      .when(rollback("1.9.0"))
      .thenEmits(rolledBack("momentum", "1.10.0", "1.9.0"));
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

  it("needs allowMajor across a MAJOR (9.5.0 is below 10.0.0)", () => {
    const past = [released("momentum", "9.5.0"), ...running("momentum", "10.0.0")];
    given(...past)
      .when(rollback("9.5.0"))
      .thenRejects("MAJOR_MISMATCH");
    given(...past)
      .when(rollback("9.5.0", { allowMajor: true }))
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
