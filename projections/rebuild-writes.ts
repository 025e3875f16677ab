import type pg from "pg";
import { COLUMNS_WITHOUT_HASHES, type StatementNamer, toEvent } from "../src/store/event-rows.ts";
import type { Tables } from "../src/store/tables.ts";
import type { LedgerProjection } from "./ledger-projection.ts";

/** Rows per read of the typed folds (see `foldTypedEvents`), as the chain walk reads them. */
const FOLD_BATCH = 1000;

/**
 * The writes of a rebuild, in the order they are sent; each runs once the one before it is done.
 * On a server (`concurrent`) they start at once, on the transaction's connection, while the chain
 * walk reads on another: the server writes while Node hashes. Through PGlite's socket a statement
 * may not be sent while another is in flight, and the walk reads on the transaction's connection,
 * so there they wait for `finish`, after the walk. `abandon` (the walk failed) waits for whatever
 * was sent, so that the ROLLBACK that follows overtakes nothing, and sends nothing more.
 */
export function rebuildWriter(concurrent: boolean) {
  const waiting: (() => Promise<unknown>)[] = [];
  let sent: Promise<unknown> = Promise.resolve();
  let failure: { error: unknown } | null = null;
  return {
    send(write: () => Promise<unknown>): void {
      if (!concurrent) {
        waiting.push(write);
        return;
      }
      sent = sent.then(async () => {
        if (failure) return;
        try {
          await write();
        } catch (error) {
          failure = { error };
        }
      });
    },
    async finish(): Promise<void> {
      await sent;
      if (failure) throw failure.error;
      for (const write of waiting.splice(0)) await write();
    },
    async abandon(): Promise<void> {
      waiting.length = 0;
      // The writes chained behind the one in flight see it and return without sending.
      failure ??= { error: new Error("the rebuild was abandoned") };
      await sent;
    },
  };
}

type FoldTarget = { tables: Tables; named: StatementNamer; toPosition: number };

/**
 * Applies the events of the projections' own types (`rebuild.eventTypes`) up to the position,
 * batch by batch in position order, to every one of them: each picks its own types out of a
 * batch, as it does from an append's. One read for all of them, in this transaction.
 */
export async function foldTypedEvents(
  client: pg.PoolClient,
  { tables, named, toPosition }: FoldTarget,
  projections: readonly LedgerProjection[],
): Promise<void> {
  const types = projections.flatMap((p) => ("eventTypes" in p.rebuild ? p.rebuild.eventTypes : []));
  const text = `SELECT ${COLUMNS_WITHOUT_HASHES} FROM ${tables.events}
                 WHERE position > $1 AND position <= $2 AND type = ANY($3::text[])
                 ORDER BY position LIMIT $4`;
  let after = 0;
  for (;;) {
    const found = await client.query({
      text,
      values: [after, toPosition, types, FOLD_BATCH],
      rowMode: "array",
    });
    const batch = found.rows.map(toEvent);
    const last = batch[batch.length - 1];
    if (last === undefined) return;
    for (const projection of projections) await projection.apply(client, batch, tables, named);
    if (batch.length < FOLD_BATCH) return;
    after = last.position;
  }
}
