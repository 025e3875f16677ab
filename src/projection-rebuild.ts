import type pg from "pg";
import type { LedgerProjection } from "../projections/index.ts";
import { createEventStore, type EventStore } from "./store/index.ts";

export type RebuildResult = { events: number; position: number; ms: number };

const BATCH_SIZE = 5000;

/**
 * Recreates every projection from the events in one transaction: the tables are emptied, the
 * events re-applied in batches, the checkpoints set to the head. A failure leaves the old
 * tables as they were.
 *
 * Locks: the head row first (no append can interleave; the same order as every append, head
 * then projection tables, so no deadlock), then TRUNCATE's exclusive lock on the projection
 * tables: readers wait for the rebuilt tables rather than see them half filled.
 */
export async function rebuildProjections(
  store: EventStore,
  projections: readonly LedgerProjection[],
  options: { readThroughPool: boolean; onProgress?: ((done: number, total: number) => void) | undefined },
): Promise<RebuildResult> {
  const { onProgress } = options;
  const started = performance.now();
  return store.transact(async ({ client, tables, head, named }) => {
    const owned = projections.flatMap((p) => p.tables.map((table) => tables.q(table)));
    await client.query(`TRUNCATE ${owned.join(", ")}`);
    // On a server the events are read on another connection, a batch ahead, while this one
    // applies the last: reading and writing overlap. They are immutable up to the head, so
    // another snapshot reads the same rows. PGlite's socket server runs nothing from another
    // connection while a transaction is open, so there they are read in this transaction.
    const reader = options.readThroughPool
      ? store
      : createEventStore({ pool: client as unknown as pg.Pool, schema: tables.schema });
    let done = 0;
    onProgress?.(0, head.position);
    for await (const batch of readAhead(reader.readAllBatches(0, BATCH_SIZE, head.position))) {
      for (const projection of projections) await projection.apply(client, batch, tables, named);
      done += batch.length;
      onProgress?.(done, head.position);
    }
    await client.query({
      text: `INSERT INTO ${tables.checkpoints} (projection, position, updated_at)
             SELECT unnest($1::text[]), $2, now()
             ON CONFLICT (projection) DO UPDATE
               SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at`,
      values: [projections.map((p) => p.name), head.position],
    });
    return { events: done, position: head.position, ms: Math.round(performance.now() - started) };
  });
}

/** Asks for the next item as soon as the current one is handed out. */
async function* readAhead<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = source.next();
  for (;;) {
    // Marked as handled: if the consumer fails first, this read's own failure must not crash
    // the process as an unhandled rejection.
    next.catch(() => {});
    const current = await next;
    if (current.done) return;
    next = source.next();
    yield current.value;
  }
}
