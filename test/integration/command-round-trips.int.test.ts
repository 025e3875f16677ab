import type { Duplex } from "node:stream";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createLedger, type Ledger } from "../../src/ledger/ledger.ts";
import { type Database, openDatabase } from "../../src/store/connection.ts";
import { migrate } from "../../src/store/migrate.ts";
import { testLogger, uniqueSchema } from "../support/databases.ts";

const actor = { kind: "cli", id: "olga" } as const;
const release = (version: string) =>
  ({
    kind: "release",
    pluginId: "momentum",
    version,
    commitHash: "a".repeat(40),
    buildDate: "2024-05-01T12:00:00.000Z",
    author: "ci",
  }) as const;

/**
 * Counts the bursts of writes on a connection's socket: a burst begins with the first write after
 * an answer was read, so each is one round trip, however many statements it carries.
 */
function roundTrips(stream: Duplex): { count(): number; stop(): void } {
  let trips = 0;
  let writing = false;
  const write = stream.write;
  stream.write = function (this: Duplex, ...args: Parameters<Duplex["write"]>) {
    if (!writing) trips += 1;
    writing = true;
    return write.apply(this, args);
  } as Duplex["write"];
  const read = () => {
    writing = false;
  };
  stream.on("data", read);
  return {
    count: () => trips,
    stop() {
      stream.write = write;
      stream.off("data", read);
    },
  };
}

describe.skipIf(inject("serverKind") !== "postgres")("a command on a PostgreSQL server", () => {
  let db: Database;
  let schema: string;
  let ledger: Ledger;

  beforeAll(async () => {
    // One connection, so that every statement of a command goes through the socket watched here.
    db = await openDatabase({
      databaseUrl: inject("serverUrl"),
      dataDir: "unused",
      poolSize: 1,
      logger: testLogger,
    });
    schema = uniqueSchema();
    await migrate(db.pool, schema, testLogger);
    ledger = createLedger(db, { schema, logger: testLogger });
  });

  afterAll(async () => {
    await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await ledger.close();
    await db.close();
  });

  async function watched<T>(work: () => Promise<T>): Promise<{ result: T; trips: number }> {
    const client = await db.pool.connect();
    const stream = (client as unknown as { connection: { stream: Duplex } }).connection.stream;
    client.release();
    const trips = roundTrips(stream);
    try {
      const result = await work();
      return { result, trips: trips.count() };
    } finally {
      trips.stop();
    }
  }

  it("takes two round trips: the state with the head lock, then the events, projections and COMMIT", async () => {
    for (const version of ["1.0.0", "1.1.0", "1.2.0"]) await ledger.execute(release(version), { actor });
    // The first command of a kind prepares its statements; what is measured is every one after.
    await ledger.execute({ kind: "register", pluginId: "momentum", version: "1.0.0" }, { actor });
    await ledger.execute({ kind: "upgrade", pluginId: "momentum", version: "1.1.0" }, { actor });

    const upgrade = await watched(() =>
      ledger.execute({ kind: "upgrade", pluginId: "momentum", version: "1.2.0" }, { actor }),
    );
    expect(upgrade.result.ok).toBe(true);
    expect(upgrade.trips).toBe(2);
    const deprecate = await watched(() =>
      ledger.execute({ kind: "deprecate", pluginId: "momentum", version: "1.0.0", reason: "old" }, { actor }),
    );
    expect(deprecate.result.ok).toBe(true);
    expect(deprecate.trips).toBeLessThanOrEqual(3);

    const status = await ledger.status();
    expect(status.plugins.find((p) => p.pluginId === "momentum")?.version).toBe("1.2.0");
    expect((await ledger.verify()).ok).toBe(true);
  });

  it("leaves nothing behind when a statement sent with the COMMIT fails", async () => {
    const before = await db.pool.query(`SELECT position FROM "${schema}".head`);
    // A trigger that fails the projection's statement, the one after the insert in the same burst.
    await db.pool.query(`CREATE FUNCTION "${schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
    await db.pool.query(`CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON "${schema}".active_plugins
      FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse()`);
    try {
      await expect(
        ledger.execute({ kind: "upgrade", pluginId: "momentum", version: "1.1.0" }, { actor }),
      ).rejects.toThrow(/refused by the test/);
    } finally {
      await db.pool.query(`DROP TRIGGER refuse ON "${schema}".active_plugins`);
    }
    const after = await db.pool.query(`SELECT position FROM "${schema}".head`);
    expect(after.rows).toEqual(before.rows);
    const upgrade = await ledger.execute(
      { kind: "upgrade", pluginId: "momentum", version: "1.1.0" },
      { actor },
    );
    expect(upgrade.ok).toBe(true);
    expect((await ledger.verify()).ok).toBe(true);
  });
});
