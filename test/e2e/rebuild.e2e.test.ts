import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChainTamperedError } from "../../src/index.ts";
import { createLedger, type Ledger } from "../../src/ledger/ledger.ts";
import { eventCount, runCli } from "../support/cli.ts";
import { openServerLedger, type TestDatabase, testLogger } from "../support/databases.ts";
import { dumpProjections } from "../support/ledger-fixtures.ts";

/**
 * `rebuild` trusts only a chain that verifies: projections rebuilt from an edited row would show
 * a version that was never released. Refused with exit 5 and the position, nothing changed;
 * rebuilt only with --force and a reason, and then it says so.
 */
describe("plugin-ledger rebuild on a tampered chain", () => {
  let test: TestDatabase;
  let ledger: Ledger;
  const actor = { actor: { kind: "cli" as const, id: "seed" } };

  beforeAll(async () => {
    test = await openServerLedger();
    ledger = createLedger(test.db, { schema: test.schema, logger: testLogger });
    for (const version of ["1.0.0", "1.1.0"]) {
      const released = await ledger.execute(
        { kind: "release", pluginId: "forged", version, buildDate: "2026-01-01", author: "ci" },
        actor,
      );
      expect(released.ok).toBe(true);
    }
    expect((await ledger.execute({ kind: "register", pluginId: "forged", version: "1.0.0" }, actor)).ok).toBe(
      true,
    );
    expect((await ledger.execute({ kind: "upgrade", pluginId: "forged", version: "1.1.0" }, actor)).ok).toBe(
      true,
    );
    // Behind the guards, as a superuser could: position 4 now says 6.6.6, never released.
    const events = `"${test.schema}".events`;
    const client = await test.db.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(`ALTER TABLE ${events} DISABLE TRIGGER USER`);
      await client.query(`UPDATE ${events} SET data = jsonb_set(data, '{to}', '"6.6.6"') WHERE position = 4`);
      await client.query(`ALTER TABLE ${events} ENABLE TRIGGER USER`);
      await client.query("COMMIT");
    } finally {
      client.release();
    }
  });
  afterAll(async () => {
    await test?.close();
  });

  it("exits 5 naming the position and changes nothing", async () => {
    const before = await dumpProjections(test);
    const count = await eventCount(test);
    const run = await runCli(["rebuild", "--json"], test.env);
    expect(run.code).toBe(5);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, firstBadPosition: 4 });
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/position 4/);
    const human = await runCli(["rebuild"], test.env);
    expect(human.code).toBe(5);
    expect(human.stdout).toContain("TAMPERED at position 4");
    expect(await dumpProjections(test)).toEqual(before);
    expect(await eventCount(test)).toBe(count);
    expect(await ledger.activeVersion("forged")).toBe("1.1.0");
  });

  it("throws a typed error from the library", async () => {
    const failure = await ledger.rebuild().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ChainTamperedError);
    expect((failure as ChainTamperedError).broken.position).toBe(4);
  });

  it("asks for a reason with --force, and rebuilds with one, saying it was forced", async () => {
    const noReason = await runCli(["rebuild", "--force"], test.env);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);

    const run = await runCli(["rebuild", "--force", "--reason", "incident 42: keep serving"], test.env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^FORCED: .*position 4.*reason: incident 42: keep serving/);
    expect(await ledger.activeVersion("forged")).toBe("6.6.6");

    const json = await runCli(["rebuild", "--json", "--force", "--reason", "again"], test.env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, forced: { position: 4, reason: "again" } });
  });
});
