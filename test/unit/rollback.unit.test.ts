import { describe, it } from "vitest";
import type { LedgerEvent } from "../../src/domain/index.ts";
import { refusedUnlessForced, refusedWith } from "../support/domain-scenarios.ts";
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

/** Momentum ran `from`, then was upgraded (or downgraded) to `to`. */
const afterUpgrade = (from: string, to: string): LedgerEvent[] => [
  ...running("momentum", from),
  released("momentum", to),
  upgraded("momentum", from, to),
];

/** 1.0.0 -> 1.1.0 -> 1.2.0 -> 1.3.0: history [1.2.0, 1.1.0, 1.0.0]. */
const climbed: LedgerEvent[] = [
  ...running("momentum", "1.0.0"),
  ...["1.1.0", "1.2.0", "1.3.0"].map((v) => released("momentum", v)),
  upgraded("momentum", "1.0.0", "1.1.0"),
  upgraded("momentum", "1.1.0", "1.2.0"),
  upgraded("momentum", "1.2.0", "1.3.0"),
];

describe("rollback without a target: an undo", () => {
  it.each<[string, LedgerEvent[], string, string]>([
    ["undoes an upgrade: back to the version active before the current one", climbed, "1.3.0", "1.2.0"],
    [
      "undoes a downgrade: back up to the version that ran before",
      afterUpgrade("6.1.0", "6.0.0"),
      "6.0.0",
      "6.1.0",
    ],
    [
      "undoes a rollback: back to the version it rolled back from",
      [...climbed, rolledBack("momentum", "1.3.0", "1.2.0")],
      "1.2.0",
      "1.3.0",
    ],
    [
      "undoes an undo: two rollbacks in a row leave the version of before",
      [...climbed, rolledBack("momentum", "1.3.0", "1.2.0"), rolledBack("momentum", "1.2.0", "1.3.0")],
      "1.3.0",
      "1.2.0",
    ],
    [
      "skips deprecated versions of the history",
      [...climbed, deprecated("momentum", "1.2.0")],
      "1.3.0",
      "1.1.0",
    ],
    [
      "skips incompatible versions of the history (host, matrix)",
      [
        host("2.0.0", "1.0.0"),
        ...running("momentum", "1.0.0"),
        released("momentum", "1.1.0"),
        released("momentum", "1.2.0", { requires: { api: "^1.0.0", dbSchema: null } }),
        released("momentum", "1.3.0"),
        ...running("risk_guard", "1.0.0", { compatibleWith: { momentum: "<1.1.0 || >1.1.0" } }),
        upgraded("momentum", "1.0.0", "1.1.0"),
        upgraded("momentum", "1.1.0", "1.2.0"),
        upgraded("momentum", "1.2.0", "1.3.0"),
      ],
      "1.3.0",
      "1.0.0",
    ],
    [
      "goes back across a MAJOR through history without allowMajor",
      afterUpgrade("1.4.0", "2.0.0"),
      "2.0.0",
      "1.4.0",
    ],
    [
      "never picks a prerelease from history",
      [
        ...running("momentum", "1.0.0"),
        released("momentum", "1.1.0-rc.1"),
        released("momentum", "1.1.0"),
        upgraded("momentum", "1.0.0", "1.1.0-rc.1"),
        upgraded("momentum", "1.1.0-rc.1", "1.1.0"),
      ],
      "1.1.0",
      "1.0.0",
    ],
    [
      "without history, picks the highest lower release of the same MAJOR, by semver",
      [
        ...["1.2.0", "1.9.0", "1.10.0", "1.11.0-rc.1", "0.9.0", "2.0.0"].map((v) => released("momentum", v)),
        ...running("momentum", "1.12.0"),
      ],
      "1.12.0",
      "1.10.0",
    ],
    [
      "without history, skips deprecated and incompatible releases",
      [
        host("1.0.0", "1.0.0"),
        released("momentum", "1.7.0"),
        released("momentum", "1.8.0", { requires: { api: "^2.0.0", dbSchema: null } }),
        released("momentum", "1.9.0"),
        deprecated("momentum", "1.9.0"),
        ...running("momentum", "1.10.0"),
      ],
      "1.10.0",
      "1.7.0",
    ],
  ])("%s", (_name, past, from, to) => {
    given(...past)
      .when(rollback())
      .thenEmits(rolledBack("momentum", from, to));
  });

  it("has nothing to undo on a first registration with nothing released below: NOT_FOUND", () => {
    refusedWith([...running("momentum", "1.0.0"), released("momentum", "1.1.0")], rollback(), [
      "NOT_FOUND",
      "Plugin momentum has nothing to roll back to from 1.0.0: no compatible, non-deprecated, non-prerelease version ran before it or is released below it in MAJOR 1; use upgrade to choose a version.",
    ]);
  });

  it("finds nothing: NOT_FOUND naming what it passed over, even forced", () => {
    const past = [
      released("momentum", "1.0.0"),
      deprecated("momentum", "1.0.0"),
      released("momentum", "1.1.0-beta"),
      released("momentum", "0.9.0"),
      ...running("momentum", "1.2.0"),
    ];
    refusedWith(past, rollback(undefined, { force: true }), [
      "NOT_FOUND",
      "Plugin momentum has nothing to roll back to from 1.2.0: no compatible, non-deprecated, non-prerelease version ran before it or is released below it in MAJOR 1 (passed over: 1.0.0 (deprecated)); use upgrade to choose a version.",
    ]);
  });

  it("refuses a plugin that is not active", () => {
    given(released("momentum", "1.0.0")).when(rollback()).thenRejects("NOT_FOUND");
  });

  it("refuses while an A/B test runs and ends it first when forced", () => {
    refusedUnlessForced(
      [...climbed, abStarted("momentum", "1.3.0", "1.1.0")],
      rollback(),
      ["AB_TEST_RUNNING"],
      abAborted("momentum", "1.3.0", "1.1.0"),
      rolledBack("momentum", "1.3.0", "1.2.0"),
    );
  });
});

describe("rollback to a named version", () => {
  it.each<[string, LedgerEvent[], string, string]>([
    ["goes to any version that ran before, lower", climbed, "1.3.0", "1.0.0"],
    [
      "or higher: a named undo of a rollback",
      [...climbed, rolledBack("momentum", "1.3.0", "1.1.0")],
      "1.1.0",
      "1.3.0",
    ],
    ["may name a prerelease that ran", afterUpgrade("1.1.0-rc.1", "1.1.0"), "1.1.0", "1.1.0-rc.1"],
    [
      "goes back across a MAJOR that ran before, without allowMajor",
      afterUpgrade("9.5.0", "10.0.0"),
      "10.0.0",
      "9.5.0",
    ],
  ])("%s", (_name, past, from, to) => {
    given(...past)
      .when(rollback(to))
      .thenEmits(rolledBack("momentum", from, to));
  });

  it("refuses a version that never ran, even forced: that is an upgrade", () => {
    refusedWith(
      [released("momentum", "1.9.0"), ...running("momentum", "1.10.0")],
      rollback("1.9.0", { force: true }),
      [
        "NOT_FOUND",
        "Version 1.9.0 of plugin momentum is not among the versions that ran before 1.10.0, so a rollback cannot go back to it; use upgrade.",
      ],
    );
  });

  it("refuses the active version, an unreleased one, and bad input", () => {
    const refusals = [
      ["1.3.0", "ALREADY"],
      ["1.0.5", "NOT_FOUND"],
      ["1.0", "INVALID_INPUT"],
    ] as const;
    for (const [version, code] of refusals) {
      given(...climbed)
        .when(rollback(version))
        .thenRejects(code);
    }
  });

  it("refuses a deprecated or incompatible target unless forced", () => {
    const past = [
      ...climbed,
      deprecated("momentum", "1.1.0"),
      ...running("risk_guard", "1.0.0", { compatibleWith: { momentum: ">=1.2.0" } }),
    ];
    refusedUnlessForced(
      past,
      rollback("1.1.0"),
      ["DEPRECATED", "MATRIX_CONFLICT"],
      rolledBack("momentum", "1.3.0", "1.1.0"),
    );
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
    refusedWith(climbed, rollbackToPosition(1, null, true), [
      "NOT_FOUND",
      "Plugin momentum ran no version at position 1, so there is nothing to roll back to.",
    ]);
    given(...climbed)
      .when(rollbackToPosition(8, "1.3.0"))
      .thenRejects("ALREADY");
  });

  it("applies the checks of an upgrade: deprecated unless forced", () => {
    const past = [...climbed, deprecated("momentum", "1.1.0")];
    refusedUnlessForced(
      past,
      rollbackToPosition(5, "1.1.0"),
      ["DEPRECATED"],
      rolledBack("momentum", "1.3.0", "1.1.0"),
    );
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
