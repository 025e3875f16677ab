import { describe, expect, it } from "vitest";
import {
  foldEvents,
  type LedgerEvent,
  pluginOf,
  type VersionDiff,
  versionDiff,
} from "../../src/domain/index.ts";
import { deprecated, host, released } from "../support/scenario.ts";

/** Given these past events, the diff of `combined_v3` from one version to another. */
function diffAfter(events: LedgerEvent[], from: string, to: string) {
  const state = foldEvents(events);
  const versions = Object.values(pluginOf(state, "combined_v3")?.versions ?? {});
  return versionDiff("combined_v3", from, to, versions, state.host);
}

function expectDiff(events: LedgerEvent[], from: string, to: string): VersionDiff {
  const result = diffAfter(events, from, to);
  if (!result.ok) throw new Error(`expected a diff, got ${JSON.stringify(result.violations)}`);
  return result.diff;
}

const base = released("combined_v3", "3.2.1", {
  features: ["trailing-stop", "news-filter"],
  requires: { api: "^2.0.0", dbSchema: ">=40.0.0" },
  compatibleWith: { risk_guard: "^1.4.0", venue_router: "^2.0.0" },
  releaseNotes: "Trailing stop.",
  author: "ana",
  commitHash: "aaaaaaa",
});
const middle = released("combined_v3", "3.3.0", { releaseNotes: "Faster fills.", author: "bo" });
const next = released("combined_v3", "3.4.0", {
  features: ["trailing-stop", "grid-entry"],
  requires: { api: "^3.0.0", dbSchema: ">=40.0.0" },
  compatibleWith: { risk_guard: "^1.6.0", price_action_1m: "^6.0.0" },
  releaseNotes: "Grid entries.",
  author: "cy",
  commitHash: "bbbbbbb",
});

describe("diff between two versions", () => {
  it("names features added and removed", () => {
    const diff = expectDiff([base, middle, next], "3.2.1", "3.4.0");
    expect(diff.direction).toBe("up");
    expect(diff.features).toEqual({ added: ["grid-entry"], removed: ["news-filter"] });
  });

  it("names compatibility entries added, removed and changed", () => {
    const diff = expectDiff([base, next], "3.2.1", "3.4.0");
    expect(diff.compatibility).toEqual({
      added: [{ pluginId: "price_action_1m", from: null, to: "^6.0.0" }],
      removed: [{ pluginId: "venue_router", from: "^2.0.0", to: null }],
      changed: [{ pluginId: "risk_guard", from: "^1.4.0", to: "^1.6.0" }],
    });
  });

  it("lists only the requirement ranges that changed, and whether the declared host meets the new one", () => {
    const diff = expectDiff([host("2.5.0", "41.0.0"), base, next], "3.2.1", "3.4.0");
    expect(diff.requirements).toEqual([
      { what: "api", from: "^2.0.0", to: "^3.0.0", hostVersion: "2.5.0", satisfiedByHost: false },
    ]);
  });

  it("says nothing about the host when none is declared", () => {
    const diff = expectDiff([base, next], "3.2.1", "3.4.0");
    expect(diff.requirements[0]).toMatchObject({ hostVersion: null, satisfiedByHost: null });
  });

  it("gives the release notes of every version brought in, ascending, the target included", () => {
    const diff = expectDiff([base, next, middle], "3.2.1", "3.4.0");
    expect(diff.between.map((v) => [v.version, v.releaseNotes])).toEqual([
      ["3.3.0", "Faster fills."],
      ["3.4.0", "Grid entries."],
    ]);
  });

  it("for a downgrade, lists what is taken out, newest first, and the direction down", () => {
    const diff = expectDiff([base, middle, next], "3.4.0", "3.2.1");
    expect(diff.direction).toBe("down");
    expect(diff.between.map((v) => v.version)).toEqual(["3.4.0", "3.3.0"]);
    expect(diff.features).toEqual({ added: ["news-filter"], removed: ["grid-entry"] });
  });

  it("compares versions by semver, never as text", () => {
    const ten = released("combined_v3", "10.0.0");
    const nine = released("combined_v3", "9.5.0");
    const diff = expectDiff([nine, ten], "9.5.0", "10.0.0");
    expect(diff.direction).toBe("up");
    expect(diff.between.map((v) => v.version)).toEqual(["10.0.0"]);
  });

  it("shows the build date, commit, author and the target's deprecation", () => {
    const diff = expectDiff(
      [base, next, deprecated("combined_v3", "3.4.0", "leaks memory")],
      "3.2.1",
      "3.4.0",
    );
    expect(diff.author).toEqual({ from: "ana", to: "cy" });
    expect(diff.commitHash).toEqual({ from: "aaaaaaa", to: "bbbbbbb" });
    expect(diff.deprecated).toEqual({ from: false, to: true });
    expect(diff.deprecationReason).toBe("leaks memory");
  });

  it("from a version to itself is an empty diff", () => {
    const diff = expectDiff([base], "3.2.1", "3.2.1");
    expect(diff.direction).toBe("same");
    expect(diff.between).toEqual([]);
    expect(diff.features).toEqual({ added: [], removed: [] });
  });

  it("rejects a version that is not released, naming each once", () => {
    const result = diffAfter([base], "3.2.1", "9.9.9");
    expect(result).toEqual({
      ok: false,
      violations: [{ code: "NOT_FOUND", message: "Version 9.9.9 of combined_v3 is not released." }],
    });
    const both = diffAfter([base], "7.0.0", "7.0.0");
    expect(both.ok ? [] : both.violations.map((v) => v.code)).toEqual(["NOT_FOUND"]);
  });

  it("rejects text that is not a version or a plugin id as invalid input", () => {
    const result = versionDiff("Bad-Id", "x", "1.0.0", [], null);
    expect(result.ok ? [] : result.violations.map((v) => v.code)).toEqual(["INVALID_INPUT", "INVALID_INPUT"]);
  });
});
