import type pg from "pg";
import { withCheckedOut } from "../../store/checked-out.ts";

/**
 * Runs the statements of one answer in one read-only snapshot, so that an answer built from
 * several tables (the host and the plugins, say) never mixes two points in time.
 * A transaction on a connection of its own: through PGlite's socket, a transaction holds the
 * single backend, so nothing else may be awaited while it is open.
 */
export function inSnapshot<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withCheckedOut(
    pool,
    async (client) => {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    },
    { onFailure: (client) => client.query("ROLLBACK") },
  );
}
