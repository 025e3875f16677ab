import { describe, expect, it } from "vitest";
import { decide, foldEvents, UNFORCEABLE_CODES } from "../../src/domain/index.ts";
import { deprecated, given, host, released, running, upgraded } from "../support/scenario.ts";

const past = [
  host("1.0.0", "1.0.0"),
  ...running("risk_guard", "2.0.0", { compatibleWith: { momentum: "^1.0.0" } }),
  ...running("momentum", "1.0.0"),
  released("momentum", "2.0.0", {
    requires: { api: "^2.0.0", dbSchema: null },
    compatibleWith: { risk_guard: "^1.0.0" },
  }),
  deprecated("momentum", "2.0.0"),
];

describe("force", () => {
  it("turns rule violations into overrides, each code once", () => {
    given(...past)
      .when({ kind: "upgrade", pluginId: "momentum", version: "2.0.0", force: true })
      .thenOverrides(
        ["MAJOR_MISMATCH", "DEPRECATED", "API_UNSATISFIED", "MATRIX_CONFLICT"],
        upgraded("momentum", "1.0.0", "2.0.0"),
      );
  });

  it("leaves the same command rejected without it", () => {
    given(...past)
      .when({ kind: "upgrade", pluginId: "momentum", version: "2.0.0" })
      .thenRejects("MAJOR_MISMATCH", "DEPRECATED", "API_UNSATISFIED", "MATRIX_CONFLICT", "MATRIX_CONFLICT");
  });

  it("cannot push past INVALID_INPUT, NOT_FOUND or ALREADY, and still lists every violation", () => {
    expect([...UNFORCEABLE_CODES].sort()).toEqual(["ALREADY", "INVALID_INPUT", "NOT_FOUND"]);
    given(released("momentum", "1.0.0"), deprecated("momentum", "1.0.0"))
      .when({ kind: "upgrade", pluginId: "momentum", version: "1.0.0", force: true })
      .thenRejects("NOT_FOUND", "DEPRECATED");
  });

  it("records no override when nothing was broken", () => {
    given(...running("momentum", "1.0.0"), released("momentum", "1.1.0"))
      .when({ kind: "upgrade", pluginId: "momentum", version: "1.1.0", force: true })
      .thenEmits(upgraded("momentum", "1.0.0", "1.1.0"));
  });
});

describe("dryRun", () => {
  it("is the ledger's business: decide answers the same with or without it", () => {
    const state = foldEvents(past);
    for (const force of [false, true]) {
      const command = { kind: "upgrade", pluginId: "momentum", version: "2.0.0", force } as const;
      expect(decide({ ...command, dryRun: true }, state)).toEqual(decide(command, state));
    }
  });
});
