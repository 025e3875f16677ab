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
 * Statements sent in order, each as soon as it is given: on a pipelining connection it goes on the
 * wire at once, so that the server runs it while the caller makes the next one; elsewhere it is
 * sent once the one before has answered (none after a failure). A statement that fails aborts the
 * transaction, so the ones behind it fail too ("current transaction is aborted"; a COMMIT behind
 * it answers ROLLBACK): `drain` waits for all of them and rejects with the failure of the first
 * in order, whichever of the answers, read in one chunk, settles first.
 */
export function inOrder(client: pg.ClientBase) {
  const pipelined = pipelines(client);
  let sent: Promise<unknown>[] = [];
  let chain: Promise<unknown> = Promise.resolve();
  return {
    send(statement: () => Promise<unknown>): void {
      if (pipelined) sent.push(statement());
      else chain = chain.then(statement);
      // Settled by `drain`; until then a failure is not unhandled.
      (pipelined ? (sent[sent.length - 1] as Promise<unknown>) : chain).catch(() => {});
    },
    async drain(): Promise<void> {
      if (!pipelined) {
        await chain;
        return;
      }
      const settled = await Promise.allSettled(sent);
      sent = [];
      const failed = settled.find((outcome) => outcome.status === "rejected");
      if (failed) throw failed.reason;
    },
  };
}
