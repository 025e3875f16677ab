import path from "node:path";
import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";
import type pg from "pg";
import type { Logger } from "../log.ts";

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../migrations");

/**
 * Applies pending migrations to the ledger's schema; idempotent, so it runs at every start.
 * node-pg-migrate takes an advisory lock, so two processes starting together apply them once.
 * The migrations use unqualified names: the runner sets search_path to the schema on its own
 * connection for the duration.
 */
export async function migrate(pool: pg.Pool, schema: string, logger: Logger): Promise<string[]> {
  const client = await pool.connect();
  try {
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
      log: (message) => logger.debug(message),
      logger: {
        debug: () => {},
        info: (m) => logger.debug(m),
        warn: (m) => logger.warn(m),
        error: (m) => logger.error(m),
      },
    });
    return applied.map((m) => m.name);
  } finally {
    // The runner changed search_path on this connection; do not hand it back to the pool like that.
    await client.query("RESET search_path").catch(() => {});
    client.release();
  }
}
