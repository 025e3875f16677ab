import type pg from "pg";
import { isConnectionLost } from "./connection-errors.ts";

/**
 * Runs `work` on a connection checked out of the pool, for statements that must share one
 * session (a transaction). pg's pool listens for a connection's errors only while it is idle: a
 * checked-out client that loses its server emits 'error', and with no listener that ends the
 * process. Here the error is caught and the statement in flight (or the next one) fails instead;
 * a connection that failed or timed out is discarded, never handed to the next caller.
 *
 * `onFailure` (a ROLLBACK) runs before the release unless the connection itself is lost: on a
 * dead or stalled connection it would only wait for its own timeout. `discardOnFailure`: the work
 * may leave session state behind when it fails, so the connection is not reused either.
 */
export async function withCheckedOut<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  options: { onFailure?: (client: pg.PoolClient) => Promise<unknown>; discardOnFailure?: boolean } = {},
): Promise<T> {
  const { onFailure, discardOnFailure = false } = options;
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken ??= error;
  };
  client.on("error", onError);
  try {
    return await work(client);
  } catch (error) {
    if (isConnectionLost(error)) broken ??= error as Error;
    else if (!broken && onFailure) await onFailure(client).catch(() => {});
    if (discardOnFailure) broken ??= error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}
