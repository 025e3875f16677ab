import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandRequest, ExecuteContext } from "../../src/index.ts";
import { createLedger } from "../../src/ledger/ledger.ts";
import { runCli } from "../support/cli.ts";
import { openServerLedger, type TestDatabase, testLogger } from "../support/databases.ts";

/**
 * Every verb that prints a table, as a process, at 80, 100 and 160 columns (COLUMNS, stdout
 * being a pipe) and with no COLUMNS at all (100): no line is wider, and what must never be
 * cut is whole: times to the second, the "(running)" and "goes on" markers.
 */
const VERBS: string[][] = [
  ["status"],
  ["versions", "price_action_1m"],
  ["history", "combined_v3"],
  ["matrix"],
  ["matrix", "--all"],
  ["audit"],
  ["timeline", "combined_v3", "price_action_1m"],
  ["asof", "7"],
  ["replay"],
];
const WIDTHS = [80, 100, 160];
const LONG = "slippage on the Binance futures book after the venue changed its tick size overnight";

describe("CLI tables fit the terminal", () => {
  let ledger: TestDatabase;

  beforeAll(async () => {
    ledger = await openServerLedger();
    const seed = createLedger(ledger.db, { schema: ledger.schema, logger: testLogger });
    const release = (pluginId: string, version: string, extra: object = {}): CommandRequest => ({
      kind: "release",
      pluginId,
      version,
      buildDate: "2026-11-01",
      author: "release-pipeline@ci.example.com",
      commitHash: "0123456789abcdef0123",
      features: ["ema-crossover", "news-filter", "volatility-guard"],
      ...extra,
    });
    const steps: [CommandRequest, Partial<ExecuteContext>?][] = [
      [{ kind: "hostSet", apiVersion: "2.4.0", dbSchemaVersion: "7.0.0" }],
      [release("combined_v3", "3.2.1", { requires: { api: "^2.0.0", dbSchema: ">=7.0.0 <8.0.0" } })],
      [release("combined_v3", "3.3.0", { compatibleWith: { price_action_1m: ">=6.0.0 <7.0.0" } })],
      [release("price_action_1m", "6.0.0", { compatibleWith: { combined_v3: "^3.0.0" } })],
      [release("price_action_1m", "6.2.0-rc.1")],
      [release("price_action_1m", "6.1.0", { compatibleWith: { combined_v3: "^4.0.0" } })],
      [{ kind: "register", pluginId: "combined_v3", version: "3.2.1" }, { reason: LONG }],
      [{ kind: "upgrade", pluginId: "combined_v3", version: "3.3.0" }, { reason: LONG }],
      [{ kind: "register", pluginId: "price_action_1m", version: "6.0.0" }],
      [{ kind: "abTestStart", pluginId: "combined_v3", candidate: "3.2.1", candidateWeightBp: 1250 }],
      [{ kind: "deprecate", pluginId: "price_action_1m", version: "6.0.0", reason: LONG }],
    ];
    for (const [command, context] of steps) {
      const actor = { kind: "cli" as const, id: "operator-with-a-long-name@desk.example.com" };
      const result = await seed.execute(command, { actor, reason: "setup", ...context });
      if (!result.ok) throw new Error(`seed failed: ${JSON.stringify(result.violations)}`);
    }
  });
  afterAll(async () => {
    await ledger?.close();
  });

  it.each(WIDTHS)("every verb's table fits %i columns, times and markers whole", async (width) => {
    for (const verb of VERBS) {
      const run = await runCli(verb, { ...ledger.env, COLUMNS: String(width) });
      expect(run.stderr, verb.join(" ")).toBe("");
      expect(run.code).toBe(0);
      const lines = run.stdout.trimEnd().split("\n");
      for (const line of lines) expect(line.length, `${verb.join(" ")}: ${line}`).toBeLessThanOrEqual(width);
      // A time is either whole or absent, never "2026-11-30 14:…".
      expect(run.stdout).not.toMatch(/\d{4}-\d\d-\d\d[ T]\d\d:[^\d]/);
    }
  });

  it("says what a user needs at 80 columns: from → to, the running marker, a deprecated version that runs", async () => {
    const at80 = (...verb: string[]) => runCli(verb, { ...ledger.env, COLUMNS: "80" });
    const audit = await at80("audit");
    expect(audit.stdout).toContain("combined_v3 3.2.1 → 3.3.0");
    const history = await at80("history", "combined_v3");
    expect(history.stdout).toContain("(running)");
    const status = await at80("status");
    expect(status.stdout).toContain("6.0.0 (deprecated)");
    expect(status.stdout).toContain("warning: deprecated versions run: price_action_1m 6.0.0");
    const timeline = await at80("timeline", "combined_v3");
    expect(timeline.stdout).toMatch(/ >\n/);
    // The release of 6.1.0 declares a range that fails, but it does not run: no NO above "consistent".
    const matrix = await at80("matrix");
    expect(matrix.stdout).not.toContain("NO");
    expect(matrix.stdout).toContain("(1 declarations of releases that do not run: matrix --all)");
    const all = await at80("matrix", "--all");
    expect(all.stdout).toContain("if run: no");
  });

  it("assumes 100 columns into a pipe without COLUMNS, and names the end of a stretch endedBy in JSON", async () => {
    const run = await runCli(["audit"], ledger.env);
    const widest = Math.max(...run.stdout.split("\n").map((l) => l.length));
    expect(widest).toBeLessThanOrEqual(100);
    expect(widest).toBeGreaterThan(80);
    const history = await runCli(["history", "combined_v3", "--json"], ledger.env);
    const items = JSON.parse(history.stdout).items as Record<string, unknown>[];
    expect(items.map((i) => i.endedBy)).toEqual([null, "upgraded"]);
    expect(items[0]).not.toHaveProperty("closedBy");
    const status = await runCli(["status", "--json"], ledger.env);
    expect(JSON.parse(status.stdout).plugins).toMatchObject([
      { pluginId: "combined_v3", deprecated: false },
      { pluginId: "price_action_1m", deprecated: true },
    ]);
  });
});
