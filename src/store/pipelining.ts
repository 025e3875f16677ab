import type pg from "pg";

/**
 * Whether the connection sends the statements queued on it without waiting for each answer
 * (pg's `pipeline` option: on a PostgreSQL server, see connection.ts). Through PGlite's socket
 * it does not, and pg refuses (deprecated now, an error in pg 9) a statement queued behind
 * another on such a connection: there each is sent once the one before has answered.
 */
export function pipelines(client: pg.ClientBase): boolean {
  return (client as { pipeline?: boolean }).pipeline === true;
}

/**
 * Runs the statements in order, on a pipelining connection all sent at once (one round trip).
 * A statement that fails aborts the transaction, so the ones behind it fail too ("current
 * transaction is aborted"; a COMMIT behind it answers ROLLBACK): what rejects is the failure of
 * the first statement in order, whichever of the answers, read in one chunk, settles first.
 */
export async function inOrder(client: pg.ClientBase, statements: readonly (() => Promise<unknown>)[]) {
  if (!pipelines(client)) {
    for (const send of statements) await send();
    return;
  }
  const settled = await Promise.allSettled(statements.map((send) => send()));
  const failed = settled.find((outcome) => outcome.status === "rejected");
  if (failed) throw failed.reason;
}
