import { describe, expect, it } from "vitest";
import { endsTestFirst, refusedUnlessForced, refusedWith } from "../support/domain-scenarios.ts";
import {
  abAborted,
  abStarted,
  deactivated,
  deprecated,
  given,
  host,
  registered,
  released,
  running,
  upgraded,
} from "../support/scenario.ts";

const register = (version: string) => ({ kind: "register", pluginId: "momentum", version }) as const;
const upgrade = (version: string) => ({ kind: "upgrade", pluginId: "momentum", version }) as const;

describe("register", () => {
  it("activates a released version for the first time", () => {
    given(released("momentum", "1.0.0"))
      .when({ kind: "register", pluginId: "momentum", version: "1.0.0" })
      .thenEmits(registered("momentum", "1.0.0"));
  });

  it("activates again after a deactivation", () => {
    given(...running("momentum", "1.0.0"), deactivated("momentum", "1.0.0"))
      .when({ kind: "register", pluginId: "momentum", version: "1.0.0" })
      .thenEmits(registered("momentum", "1.0.0"));
  });

  it("refuses a plugin that is active already, even forced", () => {
    const past = [...running("momentum", "1.0.0"), released("momentum", "1.1.0")];
    refusedWith(past, { kind: "register", pluginId: "momentum", version: "1.1.0", force: true }, [
      "ALREADY",
      "Plugin momentum is already active at 1.0.0; use upgrade to change it.",
    ]);
  });

  it("refuses a version that is not released", () => {
    given(released("momentum", "1.0.0"))
      .when({ kind: "register", pluginId: "momentum", version: "1.0.1" })
      .thenRejects("NOT_FOUND");
  });

  it("refuses a deprecated version and says why it was deprecated", () => {
    const past = [released("momentum", "1.0.0"), deprecated("momentum", "1.0.0", "double fills")];
    refusedWith(past, register("1.0.0"), [
      "DEPRECATED",
      'Version 1.0.0 of plugin momentum is deprecated: "double fills".',
    ]);
  });

  it("checks the host API and DB schema with semver, not as text", () => {
    const requires = { api: ">=9.5.0", dbSchema: "^1.9.0" };
    given(host("10.0.0", "1.10.0"), released("momentum", "1.0.0", { requires }))
      .when({ kind: "register", pluginId: "momentum", version: "1.0.0" })
      .thenEmits(registered("momentum", "1.0.0"));
    refusedWith(
      [host("9.4.0", "2.0.0"), released("momentum", "1.0.0", { requires })],
      register("1.0.0"),
      [
        "API_UNSATISFIED",
        "Plugin momentum 1.0.0 requires host API in range >=9.5.0, but the host declares API 9.4.0.",
      ],
      [
        "DB_SCHEMA_UNSATISFIED",
        "Plugin momentum 1.0.0 requires host DB schema in range ^1.9.0, but the host declares DB schema 2.0.0.",
      ],
    );
  });

  it("treats requirements as unsatisfied while the host versions are not declared", () => {
    refusedWith(
      [released("momentum", "1.0.0", { requires: { api: "^2.0.0", dbSchema: null } })],
      register("1.0.0"),
      [
        "API_UNSATISFIED",
        "Plugin momentum 1.0.0 requires host API in range ^2.0.0, but the host versions are not declared.",
      ],
    );
  });

  it("needs no host for a release without requirements", () => {
    given(released("momentum", "1.0.0"))
      .when({ kind: "register", pluginId: "momentum", version: "1.0.0" })
      .thenEmits(registered("momentum", "1.0.0"));
  });

  it("works for a plugin named like an object property", () => {
    given(released("constructor", "1.0.0"))
      .when({ kind: "register", pluginId: "constructor", version: "1.0.0" })
      .thenEmits(registered("constructor", "1.0.0"));
    given().when({ kind: "register", pluginId: "constructor", version: "1.0.0" }).thenRejects("NOT_FOUND");
  });
});

describe("upgrade", () => {
  const past = [
    ...running("momentum", "1.2.0"),
    released("momentum", "1.3.0"),
    released("momentum", "1.1.0"),
  ];

  it("moves up", () => {
    given(...past)
      .when({ kind: "upgrade", pluginId: "momentum", version: "1.3.0" })
      .thenEmits(upgraded("momentum", "1.2.0", "1.3.0"));
  });

  it("moves down too, marked as a downgrade", () => {
    const [event] = given(...past)
      .when({ kind: "upgrade", pluginId: "momentum", version: "1.1.0" })
      .thenEmits(upgraded("momentum", "1.2.0", "1.1.0"));
    expect(event?.data).toMatchObject({ direction: "down", crossesMajor: false });
  });

  it.each([
    ["compares 1.10.0 above 1.9.0 (up, same MAJOR)", "1.9.0", "1.10.0", false],
    ["compares 10.0.0 above 9.5.0 (up, across a MAJOR)", "9.5.0", "10.0.0", true],
    [
      "counts 1.0.0 to 2.0.0-rc.1 as crossing a MAJOR, and allows an explicit prerelease",
      "1.0.0",
      "2.0.0-rc.1",
      true,
    ],
  ] as const)("%s", (_name, from, to, crossesMajor) => {
    const [event] = given(...running("momentum", from), released("momentum", to))
      .when({ ...upgrade(to), ...(crossesMajor ? { allowMajor: true } : {}) })
      .thenEmits(upgraded("momentum", from, to));
    expect(event?.data).toMatchObject({ direction: "up", crossesMajor });
  });

  it("refuses to cross a MAJOR, either way, without allowMajor", () => {
    refusedWith([...running("momentum", "9.5.0"), released("momentum", "10.0.0")], upgrade("10.0.0"), [
      "MAJOR_MISMATCH",
      "The upgrade of plugin momentum from 9.5.0 to 10.0.0 crosses a MAJOR version; allow it with allowMajor.",
    ]);
    given(...running("momentum", "2.0.0"), released("momentum", "1.9.0"))
      .when({ kind: "upgrade", pluginId: "momentum", version: "1.9.0" })
      .thenRejects("MAJOR_MISMATCH");
  });

  it("refuses the version that is active already", () => {
    given(...past)
      .when({ kind: "upgrade", pluginId: "momentum", version: "1.2.0" })
      .thenRejects("ALREADY");
  });

  it("refuses a plugin that is not active, and a version that is not released", () => {
    refusedWith(
      [released("momentum", "1.0.0")],
      { ...upgrade("1.1.0"), force: true },
      ["NOT_FOUND", "Plugin momentum is not active, so there is nothing to upgrade; register it first."],
      ["NOT_FOUND", "Version 1.1.0 of plugin momentum is not released."],
    );
  });

  it("reports every rule it breaks at once", () => {
    given(
      host("1.0.0", "1.0.0"),
      ...running("momentum", "1.0.0"),
      ...running("risk_guard", "1.0.0"),
      released("momentum", "2.0.0", {
        requires: { api: "^2.0.0", dbSchema: null },
        compatibleWith: { risk_guard: "^2.0.0" },
      }),
      deprecated("momentum", "2.0.0"),
      abStarted("momentum", "1.0.0", "2.0.0"),
    )
      .when({ kind: "upgrade", pluginId: "momentum", version: "2.0.0" })
      .thenRejects("DEPRECATED", "API_UNSATISFIED", "MATRIX_CONFLICT", "MAJOR_MISMATCH", "AB_TEST_RUNNING");
  });

  it("refuses while an A/B test runs, naming the test", () => {
    refusedWith([...past, abStarted("momentum", "1.2.0", "1.3.0")], upgrade("1.1.0"), [
      "AB_TEST_RUNNING",
      'Plugin momentum runs A/B test "t1" (1.2.0 against 1.3.0); promote or abort it first.',
    ]);
  });

  it("ends the A/B test first when forced past it", () => {
    const testing = [...past, abStarted("momentum", "1.2.0", "1.3.0")];
    endsTestFirst(testing, upgrade("1.1.0"), ["1.2.0", "1.3.0"], upgraded("momentum", "1.2.0", "1.1.0"));
  });
});

describe("deactivate", () => {
  it("deactivates the active version", () => {
    given(...running("momentum", "1.0.0"))
      .when({ kind: "deactivate", pluginId: "momentum" })
      .thenEmits(deactivated("momentum", "1.0.0"));
  });

  it("refuses a plugin that is not active", () => {
    given(released("momentum", "1.0.0"))
      .when({ kind: "deactivate", pluginId: "momentum" })
      .thenRejects("NOT_FOUND");
    given(...running("momentum", "1.0.0"), deactivated("momentum", "1.0.0"))
      .when({ kind: "deactivate", pluginId: "momentum", force: true })
      .thenRejects("NOT_FOUND");
  });

  it("refuses while an A/B test runs, and ends the test first when forced", () => {
    const past = [
      ...running("momentum", "1.0.0"),
      released("momentum", "1.1.0"),
      abStarted("momentum", "1.0.0", "1.1.0"),
    ];
    refusedUnlessForced(
      past,
      { kind: "deactivate", pluginId: "momentum" },
      ["AB_TEST_RUNNING"],
      abAborted("momentum", "1.0.0", "1.1.0"),
      deactivated("momentum", "1.0.0"),
    );
  });

  it("refuses an invalid plugin id", () => {
    given().when({ kind: "deactivate", pluginId: "Momentum" }).thenRejects("INVALID_INPUT");
  });
});
