import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Command } from "../../src/domain/index.ts";
import { createLedger } from "../../src/ledger/ledger.ts";
import { runCli, withJsonBody } from "../support/cli.ts";
import { openServerLedger, type TestDatabase, testLogger } from "../support/databases.ts";

/** `plugin-ledger rollback` as an undo (helm rollback), as a process: exit codes and JSON. */
describe("plugin-ledger rollback", () => {
  let ledger: TestDatabase;
  const json = (...args: string[]) => withJsonBody(runCli([...args, "--json"], ledger.env));

  beforeAll(async () => {
    ledger = await openServerLedger();
    // Positions 1-4: two releases, 6.1.0 registered, then a downgrade to 6.0.0.
    const seed = createLedger(ledger.db, { schema: ledger.schema, logger: testLogger });
    const steps: Command[] = [
      {
        kind: "release",
        pluginId: "price_action_1m",
        version: "6.0.0",
        buildDate: "2026-01-01",
        author: "ci",
      },
      {
        kind: "release",
        pluginId: "price_action_1m",
        version: "6.1.0",
        buildDate: "2026-01-02",
        author: "ci",
      },
      { kind: "register", pluginId: "price_action_1m", version: "6.1.0" },
      { kind: "upgrade", pluginId: "price_action_1m", version: "6.0.0" },
    ];
    for (const command of steps) {
      const result = await seed.execute(command, { actor: { kind: "cli", id: "seed" } });
      if (!result.ok) throw new Error(`seed failed: ${JSON.stringify(result.violations)}`);
    }
  });
  afterAll(async () => {
    await ledger?.close();
  });

  it("undoes a downgrade, then goes to what ran at a position", async () => {
    const undo = await json("rollback", "price_action_1m");
    expect(undo.code).toBe(0);
    expect(undo.body.events).toMatchObject([
      { position: 5, type: "PluginRolledBack", data: { from: "6.0.0", to: "6.1.0" } },
    ]);
    const toFour = await json("rollback", "price_action_1m", "--to-position", "4");
    expect(toFour.code).toBe(0);
    expect(toFour.body.events).toMatchObject([{ data: { from: "6.1.0", to: "6.0.0" } }]);
  });

  it("refuses what a rollback cannot mean, with the exit codes of the contract", async () => {
    const both = await json("rollback", "price_action_1m", "6.1.0", "--to-position", "3");
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("not both");
    const notANumber = await json("rollback", "price_action_1m", "--to-position", "yesterday");
    expect(notANumber.code).toBe(2);
    const nothingThere = await json("rollback", "price_action_1m", "--to-position", "1");
    expect(nothingThere.code).toBe(3);
    expect(nothingThere.body.violations).toMatchObject([{ code: "NOT_FOUND" }]);
    const neverRan = await json("rollback", "price_action_1m", "6.0.1");
    expect(neverRan.code).toBe(3);
  });
});
