import { describe, expect, it } from "vitest";
import { decide, initialState, unstorableTextViolations } from "../../src/domain/index.ts";

/** Sizes that once overflowed the call stack, and text the database cannot hold. */
describe("large and unstorable input", () => {
  it("decides an import of 100,000 releases without spreading them into a call", () => {
    const releases = Array.from({ length: 100_000 }, (_, i) => ({
      pluginId: "bulk",
      version: `1.0.${i}`,
      buildDate: "2026-01-02",
      author: "ci",
    }));
    const decision = decide({ kind: "import", releases }, initialState());
    expect(decision.ok).toBe(true);
    if (decision.ok) expect(decision.events).toHaveLength(100_000);
  });

  it("names every violation of 100,000 invalid entries (id, version, build date, author: four each)", () => {
    const releases = Array.from({ length: 100_000 }, (_, i) => ({ pluginId: "Bad!", version: `x${i}` }));
    const decision = decide({ kind: "import", releases } as never, initialState());
    expect(decision.ok).toBe(false);
    if (!decision.ok) {
      expect(decision.violations).toHaveLength(400_000);
      expect(decision.violations.at(-1)?.message).toContain("Import entry 100000");
      expect(decision.violations.every((v) => v.code === "INVALID_INPUT")).toBe(true);
    }
  });

  it("names the first field holding a NUL or a lone surrogate, at any depth, keys included", () => {
    expect(unstorableTextViolations({ a: ["ok", { b: "x\u0000" }] })[0]?.message).toContain("in a[1].b");
    expect(unstorableTextViolations({ a: "\ud800" })[0]?.message).toContain("in a,");
    expect(unstorableTextViolations({ "k\udc00": 1 })[0]?.message).toContain("(a key)");
    expect(unstorableTextViolations({ a: "😀 ünï", b: ["\u202e"] })).toEqual([]);
    let deep: unknown = "\u0000";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(unstorableTextViolations(deep)).toHaveLength(1);
  });
});
