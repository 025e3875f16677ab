import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { openServerLedger, type TestDatabase } from "../support/databases.ts";

/** `plugin-ledger diff` as a process: the JSON shape, the text, and the exit codes of bad questions. */
describe("plugin-ledger diff", () => {
  let ledger: TestDatabase;
  const cli = (...args: string[]) => runCli(args, ledger.env);

  beforeAll(async () => {
    ledger = await openServerLedger();
    const steps = [
      ["host", "set", "--api", "2.5.0", "--db-schema", "41.0.0"],
      [
        "release",
        "combined_v3",
        "3.2.1",
        "--requires-api",
        "^2.0.0",
        "--features",
        "trailing-stop,news-filter",
      ],
      ["release", "combined_v3", "3.3.0", "--notes", "Faster fills.", "--compat", "risk_guard=^1.4.0"],
      [
        "release",
        "combined_v3",
        "3.4.0",
        "--requires-api",
        "^3.0.0",
        "--features",
        "trailing-stop,grid",
        "--notes",
        "Grid <entries>.",
      ],
    ];
    for (const step of steps) expect((await cli(...step)).code, step.join(" ")).toBe(0);
  });
  afterAll(async () => {
    await ledger?.close();
  });

  it("answers the diff as one JSON document", async () => {
    const run = await cli("diff", "combined_v3", "3.2.1", "3.4.0", "--json");
    expect(run.code).toBe(0);
    const diff = JSON.parse(run.stdout);
    expect(diff).toMatchObject({
      pluginId: "combined_v3",
      from: "3.2.1",
      to: "3.4.0",
      direction: "up",
      features: { added: ["grid"], removed: ["news-filter"] },
      requirements: [
        { what: "api", from: "^2.0.0", to: "^3.0.0", hostVersion: "2.5.0", satisfiedByHost: false },
      ],
      compatibility: { added: [], removed: [], changed: [] },
    });
    expect(diff.between.map((v: { version: string }) => v.version)).toEqual(["3.3.0", "3.4.0"]);
  });

  it("prints what changed and the notes of the versions in between", async () => {
    const run = await cli("diff", "combined_v3", "3.4.0", "3.2.1");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("combined_v3 3.4.0 → 3.2.1 (down)");
    expect(run.stdout).toContain("+ feature news-filter");
    expect(run.stdout).toContain("versions taken out:");
    expect(run.stdout).toContain("3.3.0");
    expect(run.stdout).toContain("Grid <entries>.");
  });

  it("exits 3 for a version that is not released and 2 for one that is not a version", async () => {
    const missing = await cli("diff", "combined_v3", "3.2.1", "9.9.9");
    expect(missing.code).toBe(3);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toContain("9.9.9");
    const invalid = await cli("diff", "combined_v3", "3.2.1", "nope");
    expect(invalid.code).toBe(2);
    expect(invalid.stdout).toBe("");
  });
});
