import { describe, expect, it } from "vitest";
import type { ReleaseInput } from "../../src/domain/index.ts";
import { BUILD_DATE, deprecated, given, released } from "../support/scenario.ts";

const release = (pluginId: string, version: string, extra: Partial<ReleaseInput> = {}): ReleaseInput => ({
  pluginId,
  version,
  buildDate: BUILD_DATE,
  author: "ci",
  ...extra,
});

describe("release", () => {
  it("records a version with its defaults filled in", () => {
    given()
      .when({ kind: "release", ...release("momentum", "1.0.0") })
      .thenEmits(released("momentum", "1.0.0"));
  });

  it("records every piece of metadata", () => {
    const metadata = {
      commitHash: "0123abc",
      requires: { api: "^2.0.0", dbSchema: ">=40.0.0 <50.0.0" },
      compatibleWith: { risk_guard: "^1.4.0" },
      features: ["trailing-stop", "news-filter"],
      releaseNotes: "Adds a trailing stop.",
    };
    given()
      .when({
        kind: "release",
        ...release("momentum", "2.0.0-rc.1+sha.5", metadata),
        force: false,
        dryRun: true,
      })
      .thenEmits(released("momentum", "2.0.0-rc.1+sha.5", metadata));
  });

  it("accepts a release below existing ones (a backported fix)", () => {
    given(released("momentum", "2.0.0"))
      .when({ kind: "release", ...release("momentum", "1.9.1") })
      .thenEmits(released("momentum", "1.9.1"));
  });

  it("refuses a version that is already released, even forced", () => {
    const [v] = given(released("momentum", "1.0.0"))
      .when({ kind: "release", ...release("momentum", "1.0.0"), force: true })
      .thenRejects("ALREADY");
    expect(v?.message).toBe("Release: version 1.0.0 of plugin momentum is already released.");
  });

  it("refuses a version that differs only in build metadata, since semver cannot order the two", () => {
    const [v] = given(released("momentum", "1.0.0+a"))
      .when({ kind: "release", ...release("momentum", "1.0.0+b") })
      .thenRejects("ALREADY");
    expect(v?.message).toContain("already released as 1.0.0+a");
  });

  it("treats a deprecated version as released", () => {
    given(released("momentum", "1.0.0"), deprecated("momentum", "1.0.0"))
      .when({ kind: "release", ...release("momentum", "1.0.0") })
      .thenRejects("ALREADY");
  });

  it("reports every invalid field at once, even forced", () => {
    const violations = given()
      .when({
        kind: "release",
        force: true,
        pluginId: "Momentum",
        version: "v1.2.3",
        buildDate: "last tuesday",
        author: " ",
        commitHash: "XYZ",
        requires: { api: "^^2", dbSchema: "" },
        compatibleWith: { "Risk-Guard": "^1", risk_guard: "one" },
        features: [""],
      })
      .thenRejects(...Array<"INVALID_INPUT">(10).fill("INVALID_INPUT"));
    expect(violations.map((v) => v.message)).toEqual([
      'The release has an invalid plugin id "Momentum": it must match ^[a-z][a-z0-9_]{1,63}$.',
      'The release has an invalid version "v1.2.3": it must be strict semver such as 1.2.3 or 2.0.0-rc.1.',
      'The release has an invalid build date "last tuesday": it must be an ISO 8601 date or date-time.',
      "The release has no author.",
      'The release has an invalid commit hash "XYZ": it must be 7 to 40 lowercase hex characters.',
      'The release has an invalid requires.api range "^^2".',
      'The release has an invalid requires.dbSchema range "".',
      'The release names an invalid plugin id "Risk-Guard" in compatibleWith.',
      'The release has an invalid compatibleWith range "one" for "risk_guard".',
      'The release has an empty or non-text feature "".',
    ]);
  });

  it("refuses a compatibility with itself and names the release", () => {
    const [v] = given()
      .when({ kind: "release", ...release("momentum", "1.0.0", { compatibleWith: { momentum: "^1.0.0" } }) })
      .thenRejects("INVALID_INPUT");
    expect(v?.message).toBe("Release momentum@1.0.0 declares compatibility with itself.");
  });

  it("refuses unknown fields, so a typo cannot drop a requirement", () => {
    const typo = { ...release("momentum", "1.0.0"), require: { api: "^2.0.0" } } as ReleaseInput;
    given()
      .when({ kind: "release", ...typo })
      .thenRejects("INVALID_INPUT");
    const inner = release("momentum", "1.0.0", {
      requires: { apiVersion: "^2" } as ReleaseInput["requires"],
    });
    given()
      .when({ kind: "release", ...inner })
      .thenRejects("INVALID_INPUT");
  });
});

describe("import", () => {
  it("records every release, in order", () => {
    given(released("momentum", "1.0.0"))
      .when({
        kind: "import",
        releases: [
          release("momentum", "1.1.0"),
          release("risk_guard", "0.1.0"),
          release("momentum", "1.10.0"),
        ],
      })
      .thenEmits(
        released("momentum", "1.1.0"),
        released("risk_guard", "0.1.0"),
        released("momentum", "1.10.0"),
      );
  });

  it("is all or nothing and names each offending entry", () => {
    const violations = given(released("momentum", "1.0.0"))
      .when({
        kind: "import",
        force: true,
        releases: [
          release("momentum", "1.1.0"),
          release("momentum", "1.0.0"),
          release("momentum", "1.2"),
          release("momentum", "1.1.0+rebuild"),
          "junk" as unknown as ReleaseInput,
        ],
      })
      .thenRejects("ALREADY", "INVALID_INPUT", "INVALID_INPUT", "INVALID_INPUT");
    expect(violations.map((v) => v.message)).toEqual([
      "Import entry 2: version 1.0.0 of plugin momentum is already released.",
      'Import entry 3 (momentum) has an invalid version "1.2": it must be strict semver such as 1.2.3 or 2.0.0-rc.1.',
      "Import entry 4 (momentum@1.1.0+rebuild) repeats the version of import entry 1.",
      "Import entry 5 is not an object of release fields.",
    ]);
  });

  it("refuses an empty list", () => {
    given().when({ kind: "import", releases: [] }).thenRejects("INVALID_INPUT");
  });
});

describe("deprecate", () => {
  it("marks a released version, with its reason", () => {
    given(released("momentum", "1.0.0"))
      .when({ kind: "deprecate", pluginId: "momentum", version: "1.0.0", reason: "double fills" })
      .thenEmits(deprecated("momentum", "1.0.0", "double fills"));
  });

  it("defaults the reason to empty", () => {
    given(released("momentum", "1.0.0"))
      .when({ kind: "deprecate", pluginId: "momentum", version: "1.0.0" })
      .thenEmits(deprecated("momentum", "1.0.0", ""));
  });

  it("refuses a version that is not released", () => {
    const [v] = given(released("momentum", "1.0.0"))
      .when({ kind: "deprecate", pluginId: "momentum", version: "1.0.1" })
      .thenRejects("NOT_FOUND");
    expect(v?.message).toBe("Version 1.0.1 of plugin momentum is not released.");
    given().when({ kind: "deprecate", pluginId: "ghost", version: "1.0.0" }).thenRejects("NOT_FOUND");
  });

  it("refuses a version deprecated already", () => {
    given(released("momentum", "1.0.0"), deprecated("momentum", "1.0.0"))
      .when({ kind: "deprecate", pluginId: "momentum", version: "1.0.0", force: true })
      .thenRejects("ALREADY");
  });

  it("refuses invalid input", () => {
    given()
      .when({ kind: "deprecate", pluginId: "x", version: "one" })
      .thenRejects("INVALID_INPUT", "INVALID_INPUT");
  });
});
