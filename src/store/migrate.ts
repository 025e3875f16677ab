import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import type { Logger } from "../log.ts";
import { withCheckedOut } from "./checked-out.ts";
import { tablesIn } from "./tables.ts";

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../migrations");

// A concurrent runner got there first: the object exists, or the migration row does.
const LOST_RACE = new Set(["42P07", "42710", "42P06", "23505"]);
// The statement bound ran out, most likely waiting for another runner's advisory lock (test files
// and processes starting together queue on it): wait again, a bounded number of times.
const STATEMENT_TIMEOUT = "57014";
const ATTEMPTS = 5;

/**
 * Applies pending migrations to the ledger's schema; idempotent, so it runs at every start.
 * On a server, node-pg-migrate's advisory lock makes two processes starting together apply them
 * once. Through PGlite's socket every connection shares one session, so that lock does not
 * exclude anybody; there each migration's own transaction decides the race, and the loser (its
 * migration rolled back) looks again and finds nothing pending.
 */
export async function migrate(pool: pg.Pool, schema: string, logger: Logger): Promise<string[]> {
  // Nearly every start finds nothing to apply, and node-pg-migrate alone takes a third of a second
  // to import: one query says whether it is needed at all.
  if (await upToDate(pool, schema)) return [];
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(pool, schema, logger);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= ATTEMPTS || !code || !(LOST_RACE.has(code) || code === STATEMENT_TIMEOUT)) throw error;
      logger.debug({ attempt, code }, "another process migrated meanwhile, or holds the lock; looking again");
    }
  }
}

/** The migrations use unqualified names: the runner sets search_path to the schema on its connection. */
async function migrateOnce(pool: pg.Pool, schema: string, logger: Logger): Promise<string[]> {
  const { runner } = await import("node-pg-migrate");
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

// The schema or its migrations table does not exist yet.
const NOT_MIGRATED = new Set(["3F000", "42P01"]);

/**
 * True when every migration file is applied, in file order, and nothing else is: exactly when the
 * runner would find nothing to do. Anything else (a pending file, an unknown or reordered row) is
 * left to the runner, which applies it or says what is wrong. Each migration commits its row with
 * its DDL, so a runner still at work elsewhere shows here as pending.
 */
async function upToDate(pool: pg.Pool, schema: string): Promise<boolean> {
  try {
    const { rows } = await pool.query<{ name: string }>(
      `SELECT name FROM ${tablesIn(schema).q("pgmigrations")} ORDER BY run_on, id`,
    );
    const files = migrationNames();
    return rows.length === files.length && rows.every((row, i) => row.name === files[i]);
  } catch (error) {
    if (NOT_MIGRATED.has((error as { code?: string }).code ?? "")) return false;
    throw error;
  }
}

/** The names node-pg-migrate gives the files: without extension, hidden files skipped, by numeric prefix. */
function migrationNames(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((file) => !file.startsWith("."))
    .map((file) => file.replace(/\.[^.]+$/, ""))
    .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10) || a.localeCompare(b));
}
