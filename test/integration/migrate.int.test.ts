import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MIGRATIONS_DIR, migrate } from "../../src/store/migrate.ts";
import { openServerLedger, testLogger, uniqueSchema } from "../support/databases.ts";

// node-pg-migrate's advisory lock, which its runner takes (and waits for) before it looks.
const RUNNER_LOCK = "7241865325823964";

describe("migrate", () => {
  it("applies every file to a new schema, then answers that nothing is pending", async () => {
    const test = await openServerLedger();
    const schema = uniqueSchema("m");
    try {
      const applied = await migrate(test.db.pool, schema, testLogger);
      const files = readdirSync(MIGRATIONS_DIR).map((file) => file.replace(/\.sql$/, ""));
      expect(applied).toEqual(files.sort());
      expect(await migrate(test.db.pool, schema, testLogger)).toEqual([]);
    } finally {
      await test.db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await test.close();
    }
  });

  it("on a migrated schema does not wait for another process's migration lock", async () => {
    const test = await openServerLedger();
    const holder = await test.db.pool.connect();
    try {
      // Another process migrating another ledger of this database holds the runner's lock; a
      // start that runs the runner would queue behind it (here, for ever: the test would time out).
      await holder.query(`SELECT pg_advisory_lock(${RUNNER_LOCK})`);
      expect(await migrate(test.db.pool, test.schema, testLogger)).toEqual([]);
    } finally {
      await holder.query(`SELECT pg_advisory_unlock(${RUNNER_LOCK})`).catch(() => {});
      holder.release();
      await test.close();
    }
  });
});
