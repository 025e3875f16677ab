import path from "node:path";
import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";
import type pg from "pg";
import type { Logger } from "../log.ts";
import { withCheckedOut } from "./checked-out.ts";

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../migrations");

// A concurrent runner got there first: the object exists, or the migration row does.
const LOST_RACE = new Set(["42P07", "42710", "42P06", "23505"]);
const ATTEMPTS = 5;

/**
 * Applies pending migrations to the ledger's schema; idempotent, so it runs at every start.
 * On a server, node-pg-migrate's advisory lock makes two processes starting together apply them
 * once. Through PGlite's socket every connection shares one session, so that lock does not
 * exclude anybody; there each migration's own transaction decides the race, and the loser (its
 * migration rolled back) looks again and finds nothing pending.
 */
export async function migrate(pool: pg.Pool, schema: string, logger: Logger): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(pool, schema, logger);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= ATTEMPTS || !code || !LOST_RACE.has(code)) throw error;
      logger.debug({ attempt, code }, "another process migrated meanwhile; looking again");
    }
  }
}

/** The migrations use unqualified names: the runner sets search_path to the schema on its connection. */
async function migrateOnce(pool: pg.Pool, schema: string, logger: Logger): Promise<string[]> {
  return withCheckedOut(
    pool,
    async (client) => {
      const applied = await runner({
        dbClient: client,
        dir: MIGRATIONS_DIR,
        direction: "up",
        migrationsTable: "pgmigrations",
        schema,
        migrationsSchema: schema,
        createSchema: true,
        createMigrationsSchema: true,
        checkOrder: true,
        // Another process (or test file) migrating another schema of this database: wait our turn.
        advisoryLockMode: "wait",
        log: (message) => logger.debug(message),
        logger: {
          debug: () => {},
          info: (m) => logger.debug(m),
          warn: (m) => logger.warn(m),
          // A lost race is retried above; the caller reports failures that remain.
          error: (m) => logger.debug(m),
        },
      });
      // The runner changed search_path on this connection; do not hand it back to the pool like that.
      await client.query("RESET search_path");
      return applied.map((m) => m.name);
    },
    {
      // A failed runner may leave its transaction open (on PGlite, the one shared session):
      // roll it back, and do not reuse the connection.
      onFailure: (client) => client.query("ROLLBACK"),
      discardOnFailure: true,
    },
  );
}
