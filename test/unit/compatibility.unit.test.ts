import { describe, expect, it } from "vitest";
import { emptyPluginState, type LedgerEvent, type LedgerState } from "../../src/domain/index.ts";
import { refusedWith } from "../support/domain-scenarios.ts";
import {
  abStarted,
  deactivated,
  given,
  givenState,
  host,
  registered,
  releaseData,
  released,
  running,
  upgraded,
} from "../support/scenario.ts";

const register = (version: string) => ({ kind: "register", pluginId: "momentum", version }) as const;

describe("the compatibility matrix", () => {
  it("refuses a target whose range excludes an active plugin (forward)", () => {
    const past = [
      ...running("risk_guard", "2.1.0"),
      released("momentum", "1.0.0", { compatibleWith: { risk_guard: "^1.0.0" } }),
    ];
    refusedWith(past, register("1.0.0"), [
      "MATRIX_CONFLICT",
      "Plugin momentum 1.0.0 requires risk_guard in range ^1.0.0, but risk_guard 2.1.0 is active.",
    ]);
  });

  it("refuses a target that an active plugin's range excludes (reverse)", () => {
    const past = [
      ...running("risk_guard", "1.3.0", { compatibleWith: { momentum: "<2.0.0" } }),
      ...running("momentum", "1.0.0"),
      released("momentum", "2.0.0"),
    ];
    refusedWith(past, { kind: "upgrade", pluginId: "momentum", version: "2.0.0", allowMajor: true }, [
      "MATRIX_CONFLICT",
      "Active plugin risk_guard 1.3.0 requires momentum in range <2.0.0, which momentum 2.0.0 does not satisfy.",
    ]);
  });

  it("reports both directions at once", () => {
    given(
      ...running("risk_guard", "1.3.0", { compatibleWith: { momentum: "^1.0.0" } }),
      released("momentum", "2.0.0", { compatibleWith: { risk_guard: "^2.0.0" } }),
    )
      .when({ kind: "register", pluginId: "momentum", version: "2.0.0" })
      .thenRejects("MATRIX_CONFLICT", "MATRIX_CONFLICT");
  });

  it.each<[string, LedgerEvent[], string]>([
    [
      "accepts ranges that hold both ways, compared as semver (10.0.0 >= 9.5.0)",
      [
        ...running("risk_guard", "10.0.0", { compatibleWith: { momentum: "^1.9.0" } }),
        released("momentum", "1.10.0", { compatibleWith: { risk_guard: ">=9.5.0" } }),
      ],
      "1.10.0",
    ],
    [
      "leaves plugins that a map does not name unconstrained",
      [
        ...running("risk_guard", "7.0.0", { compatibleWith: { news_filter: "^1.0.0" } }),
        released("momentum", "1.0.0", { compatibleWith: { news_filter: "^1.0.0" } }),
      ],
      "1.0.0",
    ],
    [
      "ignores plugins that are released but not active",
      [
        released("risk_guard", "2.0.0", { compatibleWith: { momentum: "^9.0.0" } }),
        ...running("news_filter", "1.0.0"),
        deactivated("news_filter", "1.0.0"),
        released("momentum", "1.0.0", { compatibleWith: { risk_guard: "^1.0.0", news_filter: "^2.0.0" } }),
      ],
      "1.0.0",
    ],
  ])("%s", (_name, past, version) => {
    given(...past)
      .when(register(version))
      .thenEmits(registered("momentum", version));
  });

  it("counts an A/B candidate as active, in both directions", () => {
    const past = [
      ...running("risk_guard", "1.0.0"),
      released("risk_guard", "2.0.0", { compatibleWith: { momentum: "^2.0.0" } }),
      abStarted("risk_guard", "1.0.0", "2.0.0"),
    ];
    refusedWith(
      [...past, released("momentum", "1.0.0", { compatibleWith: { risk_guard: "^1.0.0" } })],
      register("1.0.0"),
      [
        "MATRIX_CONFLICT",
        "Plugin momentum 1.0.0 requires risk_guard in range ^1.0.0, but risk_guard 2.0.0 runs as an A/B candidate.",
      ],
      [
        "MATRIX_CONFLICT",
        "A/B candidate of plugin risk_guard 2.0.0 requires momentum in range ^2.0.0, which momentum 1.0.0 does not satisfy.",
      ],
    );
  });

  it("lets a prerelease satisfy only a range that names a prerelease of its tuple", () => {
    const rc = running("risk_guard", "2.0.0-rc.2");
    given(...rc, released("momentum", "1.0.0", { compatibleWith: { risk_guard: ">=1.0.0" } }))
      .when({ kind: "register", pluginId: "momentum", version: "1.0.0" })
      .thenRejects("MATRIX_CONFLICT");
    given(...rc, released("momentum", "1.0.0", { compatibleWith: { risk_guard: ">=2.0.0-rc.1" } }))
      .when({ kind: "register", pluginId: "momentum", version: "1.0.0" })
      .thenEmits(registered("momentum", "1.0.0"));
  });

  it("needs only the running versions of other plugins (a partially loaded state)", () => {
    const riskGuard = { ...releaseData("risk_guard", "3.0.0"), compatibleWith: { momentum: "^1.0.0" } };
    const momentum = { ...releaseData("momentum", "2.0.0") };
    const state: LedgerState = {
      host: null,
      auditChats: {},
      plugins: {
        risk_guard: {
          ...emptyPluginState(),
          active: "3.0.0",
          versions: { "3.0.0": { ...riskGuard, deprecated: false } },
        },
        momentum: { ...emptyPluginState(), versions: { "2.0.0": { ...momentum, deprecated: false } } },
      },
    };
    givenState(state)
      .when({ kind: "register", pluginId: "momentum", version: "2.0.0" })
      .thenRejects("MATRIX_CONFLICT");
  });

  it("is overridden by force and the override is recorded", () => {
    given(
      ...running("risk_guard", "2.0.0"),
      ...running("momentum", "1.0.0"),
      released("momentum", "1.1.0", { compatibleWith: { risk_guard: "^1.0.0" } }),
    )
      .when({ kind: "upgrade", pluginId: "momentum", version: "1.1.0", force: true })
      .thenOverrides(["MATRIX_CONFLICT"], upgraded("momentum", "1.0.0", "1.1.0"));
  });
});

describe("hostSet", () => {
  it("declares the host versions", () => {
    given()
      .when({ kind: "hostSet", apiVersion: "2.0.0", dbSchemaVersion: "41.0.0" })
      .thenEmits(host("2.0.0", "41.0.0"));
  });

  it("refuses versions that are not strict semver, naming each", () => {
    refusedWith(
      [],
      { kind: "hostSet", apiVersion: "v2", dbSchemaVersion: "41", force: true },
      ["INVALID_INPUT", 'The host API version "v2" is not strict semver such as 1.2.3 or 2.0.0-rc.1.'],
      ["INVALID_INPUT", 'The host DB schema version "41" is not strict semver such as 1.2.3 or 2.0.0-rc.1.'],
    );
  });

  it("refuses the versions already declared", () => {
    given(host("2.0.0", "41.0.0"))
      .when({ kind: "hostSet", apiVersion: "2.0.0", dbSchemaVersion: "41.0.0" })
      .thenRejects("ALREADY");
  });

  it("refuses a host that breaks running plugins, names them, and yields to force", () => {
    const past = [
      host("2.0.0", "41.0.0"),
      ...running("momentum", "1.0.0", { requires: { api: "^2.0.0", dbSchema: ">=41.0.0" } }),
      ...running("risk_guard", "1.0.0"),
      released("risk_guard", "1.1.0", { requires: { api: null, dbSchema: "41.x" } }),
      abStarted("risk_guard", "1.0.0", "1.1.0"),
    ];
    const violations = given(...past)
      .when({ kind: "hostSet", apiVersion: "3.0.0", dbSchemaVersion: "42.0.0" })
      .thenRejects("API_UNSATISFIED", "DB_SCHEMA_UNSATISFIED");
    expect(violations.map((v) => v.message)).toEqual([
      "Active plugin momentum 1.0.0 requires host API in range ^2.0.0, which API 3.0.0 does not satisfy.",
      "A/B candidate of plugin risk_guard 1.1.0 requires host DB schema in range 41.x, which DB schema 42.0.0 does not satisfy.",
    ]);
    given(...past)
      .when({ kind: "hostSet", apiVersion: "3.0.0", dbSchemaVersion: "42.0.0", force: true })
      .thenOverrides(["API_UNSATISFIED", "DB_SCHEMA_UNSATISFIED"], host("3.0.0", "42.0.0"));
  });

  it("compares host versions with semver, not as text", () => {
    given(...running("momentum", "1.0.0", { requires: { api: ">=9.5.0", dbSchema: null } }))
      .when({ kind: "hostSet", apiVersion: "10.0.0", dbSchemaVersion: "1.0.0" })
      .thenEmits(host("10.0.0", "1.0.0"));
  });
});
