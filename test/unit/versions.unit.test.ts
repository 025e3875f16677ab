import { describe, expect, it } from "vitest";
import {
  compareVersions,
  isCommitHash,
  isPluginId,
  isRange,
  isVersion,
  satisfiesRange,
} from "../../src/domain/index.ts";

describe("plugin ids", () => {
  it.each(["ab", "momentum", "risk_guard_2", `a${"b".repeat(63)}`, "constructor"])("accepts %j", (id) => {
    expect(isPluginId(id)).toBe(true);
  });

  it.each(["a", "Momentum", "2fast", "_x", "risk-guard", "ab ", "", `a${"b".repeat(64)}`, "__proto__"])(
    "rejects %j",
    (id) => {
      expect(isPluginId(id)).toBe(false);
    },
  );
});

describe("versions", () => {
  it.each([
    "0.0.0",
    "1.2.3",
    "10.20.30",
    "2.0.0-rc.1",
    "1.0.0-alpha.beta.1",
    "1.2.3+build.5",
    "1.2.3-rc.1+sha.abc",
  ])("accepts the strict form %j", (version) => {
    expect(isVersion(version)).toBe(true);
  });

  it.each(["v1.2.3", "=1.2.3", " 1.2.3", "1.2.3 ", "1.2", "1", "01.2.3", "1.2.3.4", "1.2.3-", "latest", ""])(
    "rejects the loose or broken form %j",
    (version) => {
      expect(isVersion(version)).toBe(false);
    },
  );

  it("rejects what is not text", () => {
    expect(isVersion(123)).toBe(false);
    expect(isVersion(null)).toBe(false);
  });
});

describe("ranges", () => {
  it.each(["^1.2.0", "~2.1", ">=1.0.0 <2.0.0", "1.x || >=2.5.0", "*", "2.0.0-rc.1"])(
    "accepts %j",
    (range) => {
      expect(isRange(range)).toBe(true);
    },
  );

  it.each(["", "   ", "^^1", "not a range", ">=x.y", "1.2.3 -"])("rejects %j", (range) => {
    expect(isRange(range)).toBe(false);
  });
});

describe("comparison goes through semver, never text", () => {
  it("orders 10.0.0 after 9.5.0 although it sorts before as text", () => {
    expect("10.0.0" < "9.5.0").toBe(true);
    expect(compareVersions("10.0.0", "9.5.0")).toBeGreaterThan(0);
  });

  it("orders 1.10.0 after 1.9.0", () => {
    expect(["1.10.0", "1.9.0", "1.2.0"].sort(compareVersions)).toEqual(["1.2.0", "1.9.0", "1.10.0"]);
  });

  it("orders a prerelease before its release", () => {
    expect(["2.0.0", "2.0.0-rc.10", "2.0.0-rc.2"].sort(compareVersions)).toEqual([
      "2.0.0-rc.2",
      "2.0.0-rc.10",
      "2.0.0",
    ]);
  });

  it("satisfies numerically", () => {
    expect(satisfiesRange("10.0.0", ">=9.5.0")).toBe(true);
    expect(satisfiesRange("1.10.0", "~1.9.0")).toBe(false);
    expect(satisfiesRange("1.10.0", "^1.9.0")).toBe(true);
  });
});

describe("prereleases in ranges (plain semver semantics)", () => {
  it("a prerelease does not satisfy a range written for stable versions", () => {
    expect(satisfiesRange("1.1.0-beta", "^1.0.0")).toBe(false);
    expect(satisfiesRange("2.0.0-rc.1", ">=1.0.0")).toBe(false);
  });

  it("a prerelease satisfies a range that names a prerelease of the same tuple", () => {
    expect(satisfiesRange("2.0.0-rc.2", ">=2.0.0-rc.1")).toBe(true);
    expect(satisfiesRange("2.1.0-rc.1", ">=2.0.0-rc.1")).toBe(false);
  });
});

describe("commit hashes", () => {
  it.each(["abc1234", "0123456789abcdef0123456789abcdef01234567"])("accepts %j", (hash) => {
    expect(isCommitHash(hash)).toBe(true);
  });

  it.each(["abc123", "ABC1234", "xyz1234", "0123456789abcdef0123456789abcdef012345678", ""])(
    "rejects %j",
    (hash) => {
      expect(isCommitHash(hash)).toBe(false);
    },
  );
});
