import { describe, expect, it } from "vitest";
import { type AbTestStartCommand, foldEvents, parseEvent } from "../../src/domain/index.ts";
import { endsTestFirst, refusedUnlessForced, refusedWith } from "../support/domain-scenarios.ts";
import {
  abAborted,
  abPromoted,
  abStarted,
  abWeighted,
  deactivated,
  deprecated,
  given,
  host,
  released,
  rolledBack,
  running,
  upgraded,
} from "../support/scenario.ts";

/** An A/B start as the ledger hands it to the rules: with the id and salt it generated. */
const start = (candidate: string, candidateWeightBp = 1000, extra: Partial<AbTestStartCommand> = {}) =>
  ({
    kind: "abTestStart",
    pluginId: "momentum",
    candidate,
    candidateWeightBp,
    testId: "t1",
    salt: "s1",
    ...extra,
  }) satisfies AbTestStartCommand;

const twoVersions = [...running("momentum", "1.0.0"), released("momentum", "1.1.0")];
const testing = [...twoVersions, abStarted("momentum", "1.0.0", "1.1.0", 1000)];

describe("abTestStart", () => {
  it("starts a test of a released version against the active one, the control", () => {
    given(...twoVersions)
      .when(start("1.1.0", 1000))
      .thenEmits(abStarted("momentum", "1.0.0", "1.1.0", 1000));
  });

  it("takes any weight from 0.01% to 99.99%, and nothing outside it, even forced", () => {
    given(...twoVersions)
      .when(start("1.1.0", 1))
      .thenEmits(abStarted("momentum", "1.0.0", "1.1.0", 1));
    given(...twoVersions)
      .when(start("1.1.0", 9999))
      .thenEmits(abStarted("momentum", "1.0.0", "1.1.0", 9999));
    for (const weight of [0, 10_000, -5, 12.5, Number.NaN, "1000" as unknown as number]) {
      given(...twoVersions)
        .when(start("1.1.0", weight, { force: true }))
        .thenRejects("INVALID_INPUT");
    }
    const [v] = given(...twoVersions)
      .when(start("1.1.0", 0))
      .thenRejects("INVALID_INPUT");
    expect(v?.message).toBe(
      "The candidate weight must be a whole number of basis points from 1 to 9999 (0.01% to 99.99%), not 0.",
    );
  });

  it("needs the test id and salt that the ledger generates", () => {
    given(...twoVersions)
      .when(start("1.1.0", 1000, { testId: "", salt: undefined as unknown as string }))
      .thenRejects("INVALID_INPUT", "INVALID_INPUT");
  });

  it("refuses a plugin that is not active", () => {
    refusedWith([released("momentum", "1.0.0"), released("momentum", "1.1.0")], start("1.1.0"), [
      "NOT_FOUND",
      "Plugin momentum is not active, so there is nothing to test against; register it first.",
    ]);
    given(...twoVersions, deactivated("momentum", "1.0.0"))
      .when(start("1.1.0", 1000, { force: true }))
      .thenRejects("NOT_FOUND");
  });

  it("refuses a candidate that is not released, even forced", () => {
    given(...running("momentum", "1.0.0"))
      .when(start("1.1.0", 1000, { force: true }))
      .thenRejects("NOT_FOUND");
  });

  it("refuses the control itself as the candidate, even forced", () => {
    refusedWith(twoVersions, start("1.0.0", 1000, { force: true }), [
      "ALREADY",
      "Plugin momentum is already active at 1.0.0; an A/B test needs another version as its candidate.",
    ]);
  });

  it("refuses a deprecated candidate unless forced", () => {
    const past = [...twoVersions, deprecated("momentum", "1.1.0", "leaks")];
    refusedUnlessForced(past, start("1.1.0"), ["DEPRECATED"], abStarted("momentum", "1.0.0", "1.1.0"));
  });

  it("refuses a candidate in another MAJOR unless allowMajor", () => {
    const past = [...running("momentum", "1.0.0"), released("momentum", "2.0.0")];
    refusedWith(past, start("2.0.0"), [
      "MAJOR_MISMATCH",
      "The A/B test of plugin momentum from 1.0.0 to 2.0.0 crosses a MAJOR version; allow it with allowMajor.",
    ]);
    given(...past)
      .when(start("2.0.0", 1000, { allowMajor: true }))
      .thenEmits(abStarted("momentum", "1.0.0", "2.0.0"));
  });

  it("checks the candidate against the host as an upgrade would", () => {
    given(
      host("2.0.0", "1.0.0"),
      ...running("momentum", "1.0.0"),
      released("momentum", "1.1.0", { requires: { api: "^3.0.0", dbSchema: null } }),
    )
      .when(start("1.1.0"))
      .thenRejects("API_UNSATISFIED");
  });

  it("checks the candidate against the running plugins, in both directions", () => {
    const past = [
      ...running("risk_guard", "1.0.0", { compatibleWith: { momentum: "~1.0.0" } }),
      ...running("momentum", "1.0.0"),
      released("momentum", "1.1.0", { compatibleWith: { risk_guard: "^2.0.0" } }),
    ];
    refusedWith(
      past,
      start("1.1.0"),
      [
        "MATRIX_CONFLICT",
        "Plugin momentum 1.1.0 requires risk_guard in range ^2.0.0, but risk_guard 1.0.0 is active.",
      ],
      [
        "MATRIX_CONFLICT",
        "Active plugin risk_guard 1.0.0 requires momentum in range ~1.0.0, which momentum 1.1.0 does not satisfy.",
      ],
    );
  });

  it("runs one test per plugin: a second start is AB_TEST_RUNNING, and forced it ends the first", () => {
    const past = [...testing, released("momentum", "1.2.0")];
    refusedWith(past, start("1.2.0"), [
      "AB_TEST_RUNNING",
      'Plugin momentum runs A/B test "t1" (1.0.0 against 1.1.0); promote or abort it first.',
    ]);
    endsTestFirst(past, start("1.2.0", 500, { testId: "t2", salt: "s2" }), ["1.0.0", "1.1.0"], {
      type: "AbTestStarted",
      data: {
        pluginId: "momentum",
        testId: "t2",
        control: "1.0.0",
        candidate: "1.2.0",
        candidateWeightBp: 500,
        salt: "s2",
      },
    });
  });

  it("starts again once the previous test is over", () => {
    given(...testing, abAborted("momentum", "1.0.0", "1.1.0"))
      .when(start("1.1.0", 2000))
      .thenEmits(abStarted("momentum", "1.0.0", "1.1.0", 2000));
  });
});

describe("abTestWeight", () => {
  it("changes the split of the running test", () => {
    given(...testing)
      .when({ kind: "abTestWeight", pluginId: "momentum", candidateWeightBp: 9000 })
      .thenEmits(abWeighted("momentum", 1000, 9000));
    given(...testing, abWeighted("momentum", 1000, 9000))
      .when({ kind: "abTestWeight", pluginId: "momentum", candidateWeightBp: 5 })
      .thenEmits(abWeighted("momentum", 9000, 5));
  });

  it("refuses an unchanged weight as ALREADY, and a weight out of range as INVALID_INPUT", () => {
    refusedWith(
      testing,
      { kind: "abTestWeight", pluginId: "momentum", candidateWeightBp: 1000, force: true },
      ["ALREADY", 'A/B test "t1" of plugin momentum already gives candidate 1.1.0 10%.'],
    );
    given(...testing)
      .when({ kind: "abTestWeight", pluginId: "momentum", candidateWeightBp: 10_000 })
      .thenRejects("INVALID_INPUT");
  });

  it("refuses when no test runs", () => {
    refusedWith(twoVersions, { kind: "abTestWeight", pluginId: "momentum", candidateWeightBp: 500 }, [
      "NOT_FOUND",
      "Plugin momentum runs no A/B test, so there is nothing to reweigh.",
    ]);
    given(...testing, abPromoted("momentum", "1.0.0", "1.1.0"))
      .when({ kind: "abTestWeight", pluginId: "momentum", candidateWeightBp: 500 })
      .thenRejects("NOT_FOUND");
  });
});

describe("abTestPromote", () => {
  it("makes the candidate the active version and ends the test", () => {
    const events = given(...testing)
      .when({ kind: "abTestPromote", pluginId: "momentum" })
      .thenEmits(abPromoted("momentum", "1.0.0", "1.1.0"));
    const after = foldEvents([...testing, ...events].map((e) => parseEvent(e.type, e.data)));
    expect(after.plugins.momentum).toMatchObject({ active: "1.1.0", previous: ["1.0.0"], abTest: null });
  });

  it("refuses a candidate deprecated during the test, unless forced", () => {
    const past = [...testing, deprecated("momentum", "1.1.0", "slow")];
    const promote = { kind: "abTestPromote", pluginId: "momentum" } as const;
    refusedUnlessForced(past, promote, ["DEPRECATED"], abPromoted("momentum", "1.0.0", "1.1.0"));
  });

  it("refuses when no test runs, even forced", () => {
    refusedWith(twoVersions, { kind: "abTestPromote", pluginId: "momentum", force: true }, [
      "NOT_FOUND",
      "Plugin momentum runs no A/B test, so there is nothing to promote.",
    ]);
  });
});

describe("abTestAbort", () => {
  it("ends the test; the control stays active", () => {
    const events = given(...testing, abWeighted("momentum", 1000, 4000))
      .when({ kind: "abTestAbort", pluginId: "momentum" })
      .thenEmits(abAborted("momentum", "1.0.0", "1.1.0"));
    const after = foldEvents([...testing, ...events].map((e) => parseEvent(e.type, e.data)));
    expect(after.plugins.momentum).toMatchObject({ active: "1.0.0", previous: [], abTest: null });
  });

  it("refuses when no test runs, and an invalid plugin id", () => {
    given(...twoVersions)
      .when({ kind: "abTestAbort", pluginId: "momentum" })
      .thenRejects("NOT_FOUND");
    given(...testing, abAborted("momentum", "1.0.0", "1.1.0"))
      .when({ kind: "abTestAbort", pluginId: "momentum" })
      .thenRejects("NOT_FOUND");
    given().when({ kind: "abTestAbort", pluginId: "Momentum" }).thenRejects("INVALID_INPUT");
  });
});

describe("other changes while a test runs", () => {
  // 1.0.0 runs, 1.1.0 is its candidate, 0.9.0 ran before (a rollback target), 1.2.0 an upgrade target.
  const past = [...running("momentum", "0.9.0"), ...testing, released("momentum", "1.2.0")];

  it("refuses upgrade, rollback and deactivate with AB_TEST_RUNNING", () => {
    given(...past)
      .when({ kind: "upgrade", pluginId: "momentum", version: "1.2.0" })
      .thenRejects("AB_TEST_RUNNING");
    given(...past)
      .when({ kind: "rollback", pluginId: "momentum", version: "0.9.0", allowMajor: true })
      .thenRejects("AB_TEST_RUNNING");
    given(...past)
      .when({ kind: "deactivate", pluginId: "momentum" })
      .thenRejects("AB_TEST_RUNNING");
  });

  it("ends the test first when one of them is forced", () => {
    const rollback = { kind: "rollback", pluginId: "momentum", version: "0.9.0", allowMajor: true } as const;
    endsTestFirst(past, rollback, ["1.0.0", "1.1.0"], rolledBack("momentum", "1.0.0", "0.9.0"));
    const upgrade = { kind: "upgrade", pluginId: "momentum", version: "1.2.0" } as const;
    endsTestFirst(past, upgrade, ["1.0.0", "1.1.0"], upgraded("momentum", "1.0.0", "1.2.0"));
  });

  it("lets another plugin's change through only if the candidate accepts it too", () => {
    const candidateNeeds = [
      ...running("risk_guard", "1.0.0"),
      released("risk_guard", "2.0.0"),
      ...running("momentum", "1.0.0"),
      released("momentum", "1.1.0", { compatibleWith: { risk_guard: "^1.0.0" } }),
      abStarted("momentum", "1.0.0", "1.1.0"),
    ];
    given(...candidateNeeds)
      .when({ kind: "upgrade", pluginId: "risk_guard", version: "2.0.0", allowMajor: true })
      .thenRejects("MATRIX_CONFLICT");
  });
});
