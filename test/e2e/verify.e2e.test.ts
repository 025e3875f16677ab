import { describe, expect, it } from "vitest";
import { createLedger } from "../../src/ledger/ledger.ts";
import { appendingStore } from "../support/appending-store.ts";
import { ledgerPerTest, runCli } from "../support/cli.ts";
import { openEmbeddedLedger, openServerLedger, type TestDatabase, testLogger } from "../support/databases.ts";

const actor = { actor: { kind: "system" as const, id: "test" } };

async function seeded(open: () => Promise<TestDatabase>): Promise<TestDatabase> {
  const ledger = await open();
  const store = appendingStore({ pool: ledger.db.pool, schema: ledger.schema });
  for (let i = 1; i <= 6; i++) {
    await store.append(`plugin-p${i % 2}`, "any", [{ type: "Tick", data: { i } }], actor);
  }
  return ledger;
}

/** What a superuser can do behind the guards: the triggers are off for this one session. */
async function tamper(ledger: TestDatabase, statements: string[]): Promise<void> {
  const client = await ledger.db.pool.connect();
  const events = `"${ledger.schema}".events`;
  try {
    await client.query("BEGIN");
    await client.query(`ALTER TABLE ${events} DISABLE TRIGGER USER`);
    for (const sql of statements) await client.query(sql.replaceAll("EVENTS", events));
    await client.query(`ALTER TABLE ${events} ENABLE TRIGGER USER`);
    await client.query("COMMIT");
  } finally {
    client.release();
  }
}

describe("plugin-ledger verify", () => {
  const open = ledgerPerTest();

  it("exits 0 on an untouched chain and prints the head hash", async () => {
    const ledger = await open(seeded(openServerLedger));
    const run = await runCli(["verify", "--json"], ledger.env);
    expect(run.code).toBe(0);
    const answer = JSON.parse(run.stdout);
    expect(answer).toMatchObject({ ok: true, events: 6, firstBadPosition: null });
    expect(answer.headHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ["an edited row", ["UPDATE EVENTS SET data = '{\"i\": 99}' WHERE position = 3"], 3],
    ["a deleted row", ["DELETE FROM EVENTS WHERE position = 4"], 4],
    [
      "two swapped rows",
      [
        "UPDATE EVENTS SET position = 1000 WHERE position = 2",
        "UPDATE EVENTS SET position = 2 WHERE position = 5",
        "UPDATE EVENTS SET position = 5 WHERE position = 1000",
      ],
      2,
    ],
    ["a row removed from the end", ["DELETE FROM EVENTS WHERE position = 6"], 6],
    [
      "data nested deeper than a stack",
      ["UPDATE EVENTS SET data = (repeat('[', 10000) || repeat(']', 10000))::jsonb WHERE position = 3"],
      3,
    ],
  ])("exits 5 for %s, naming the first bad position", async (_, statements, firstBad) => {
    const ledger = await open(seeded(openServerLedger));
    await tamper(ledger, statements as string[]);
    const run = await runCli(["verify", "--json"], ledger.env);
    expect(run.code).toBe(5);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, firstBadPosition: firstBad });
    const human = await runCli(["verify"], ledger.env);
    expect(human.code).toBe(5);
    expect(human.stdout).toContain(`TAMPERED at position ${firstBad}`);
  });

  it("exits 5 on the embedded ledger too, through the process that holds it", async () => {
    const ledger = await open(seeded(() => openEmbeddedLedger()));
    await tamper(ledger, ["UPDATE EVENTS SET type = 'Forged' WHERE position = 2"]);
    const run = await runCli(["verify", "--json"], ledger.env);
    expect(run.code).toBe(5);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, firstBadPosition: 2 });
  });
});

describe("plugin-ledger events and usage errors", () => {
  const open = ledgerPerTest();

  it("prints one JSON event a line from a position on", async () => {
    const ledger = await open(openServerLedger());
    const service = createLedger(ledger.db, { schema: ledger.schema, logger: testLogger });
    const actorContext = { actor: { kind: "cli" as const, id: "test" } };
    for (const version of ["1.0.0", "1.1.0", "1.2.0"]) {
      await service.execute(
        { kind: "release", pluginId: "combined_v3", version, buildDate: "2026-01-01", author: "a" },
        actorContext,
      );
    }
    const run = await runCli(["events", "--from", "1"], ledger.env);
    expect(run.code).toBe(0);
    const lines = run.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((e) => e.position)).toEqual([2, 3]);
    expect(lines[0]).toMatchObject({
      type: "VersionReleased",
      data: { pluginId: "combined_v3", version: "1.1.0" },
      streamId: "plugin-combined_v3",
    });
    expect(lines[1].prevHash).toBe(lines[0].hash);
  });

  it("answers bad arguments and bad configuration with exit 2 and one line on stderr", async () => {
    const ledger = await open(seeded(openServerLedger));
    const badFrom = await runCli(["events", "--from", "soon"], ledger.env);
    expect(badFrom.code).toBe(2);
    expect(badFrom.stderr.trim().split("\n")).toHaveLength(1);
    const unknown = await runCli(["frobnicate"], ledger.env);
    expect(unknown.code).toBe(2);
    const badSchema = await runCli(["verify"], { ...ledger.env, LEDGER_SCHEMA: "Not-A-Schema" });
    expect(badSchema.code).toBe(2);
    expect(badSchema.stderr).toMatch(/LEDGER_SCHEMA/);
    expect(badSchema.stderr.trim().split("\n")).toHaveLength(1);
  });
});
