import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import type { Logger } from "../log.ts";
import { withCheckedOut } from "./checked-out.ts";
import { isConnectionLost } from "./connection-errors.ts";

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
  if (await nothingPending(pool, schema)) return [];
  for (let attempt = 1; ; attempt++) {
    // The runner warns about the ROLLBACK of a race it lost; that is no news once we look again.
    const warnings: string[] = [];
    try {
      const applied = await migrateOnce(pool, schema, logger, warnings);
      for (const warning of warnings) logger.warn(warning);
      return applied;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const lostRace =
        attempt < ATTEMPTS && code !== undefined && (LOST_RACE.has(code) || code === STATEMENT_TIMEOUT);
      for (const warning of warnings) lostRace ? logger.debug(warning) : logger.warn(warning);
      if (!lostRace) throw error;
      logger.debug({ attempt, code }, "another process migrated meanwhile, or holds the lock; looking again");
    }
  }
}

/**
 * Every migration file already recorded: the common case at every start, answered with one
 * query and without loading the runner (a process that only reads starts faster). Any doubt (no
 * schema yet, no table) leaves the decision to the runner.
 */
async function nothingPending(pool: pg.Pool, schema: string): Promise<boolean> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((file) => /\.(sql|js|ts)$/.test(file))
    .map((file) => file.replace(/\.[^.]+$/, ""));
  try {
    // `schema` is a checked SQL identifier (config.ts), so it may be spliced in.
    const found = await pool.query<{ name: string }>(`SELECT name FROM "${schema}".pgmigrations`);
    const applied = new Set(found.rows.map((row) => row.name));
    return files.every((name) => applied.has(name));
  } catch (error) {
    if (isConnectionLost(error)) throw error;
    return false;
  }
}

/** The migrations use unqualified names: the runner sets search_path to the schema on its connection. */
async function migrateOnce(
  pool: pg.Pool,
  schema: string,
  logger: Logger,
  warnings: string[],
): Promise<string[]> {
  const { runner } = await import("node-pg-migrate");
  return withCheckedOut(
    pool,
    async (client) => {
      // Through PGlite's socket, every process shares one session: a SET search_path of one
      // runner applies to all of them, and the runner's advisory lock excludes nobody. One
      // transaction around the whole run is exclusive there (the socket server queues everybody
      // else until it ends), so each runner sees the migrations all applied or none.
      const shared = await isSharedSession(client);
      if (shared) await client.query("BEGIN");
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
        // Inside our transaction on a shared session; its own BEGIN and COMMIT then enclose all.
        singleTransaction: shared,
        // Another process (or test file) migrating another schema of this database: wait our turn.
        advisoryLockMode: "wait",
        log: (message) => logger.debug(message),
        logger: {
          debug: () => {},
          info: (m) => logger.debug(m),
          warn: (m) => warnings.push(m),
          // A lost race is retried above; the caller reports failures that remain.
          error: (m) => logger.debug(m),
        },
      });
      // With nothing to run the runner did not commit: our transaction still holds its schema and table.
      if (shared) await client.query("COMMIT");
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

async function isSharedSession(client: pg.PoolClient): Promise<boolean> {
  const found = await client.query<{ version: string }>("SELECT version() AS version");
  return /PGlite/i.test(found.rows[0]?.version ?? "");
}
