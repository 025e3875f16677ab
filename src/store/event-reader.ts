import type pg from "pg";
import { readChainBatches } from "./chain-reads.ts";
import { COLUMNS, type Head, type StatementNamer, type StoredEvent, toEvent } from "./event-rows.ts";
import type { Tables } from "./tables.ts";

/**
 * Rows per read. pg materialises a whole batch before handing it over; at 1000 rows it stays in
 * V8's young generation, where larger batches cost more in garbage collection and peak memory.
 */
export const READ_BATCH = 1000;

/** Events from position `from` to `to`, both included, on `client` (a transaction's) or the pool. */
export async function readRange(
  client: pg.PoolClient | pg.Pool,
  tables: Tables,
  from: number,
  to: number,
): Promise<StoredEvent[]> {
  const found = await client.query({
    text: `SELECT ${COLUMNS} FROM ${tables.events} WHERE position BETWEEN $1 AND $2 ORDER BY position`,
    values: [from, to],
    rowMode: "array",
  });
  return found.rows.map(toEvent);
}

/** The store's reads: streams, ranges, the whole log in batches, the head; each on the pool. */
export function eventReader(pool: pg.Pool, tables: Tables, named: StatementNamer) {
  /**
   * Events from `fromPosition` (exclusive) to `toPosition` (inclusive), in batches: memory stays
   * bounded by the batch size.
   */
  async function* readAllBatches(
    fromPosition = 0,
    batchSize = READ_BATCH,
    toPosition = Number.MAX_SAFE_INTEGER,
  ) {
    const text = `SELECT ${COLUMNS} FROM ${tables.events}
                   WHERE position > $1 AND position <= $3 ORDER BY position LIMIT $2`;
    let after = fromPosition;
    for (;;) {
      const found = await pool.query({
        ...named("read-all"),
        text,
        values: [after, batchSize, toPosition],
        rowMode: "array",
      });
      if (found.rows.length === 0) return;
      const batch = found.rows.map(toEvent);
      yield batch;
      after = (batch[batch.length - 1] as StoredEvent).position;
      if (found.rows.length < batchSize) return;
    }
  }

  return {
    async readStream(streamId: string, fromVersion = 1): Promise<StoredEvent[]> {
      const found = await pool.query({
        text: `SELECT ${COLUMNS} FROM ${tables.events} WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version`,
        values: [streamId, fromVersion],
        rowMode: "array",
      });
      return found.rows.map(toEvent);
    },

    async *readAll(fromPosition = 0, batchSize = READ_BATCH): AsyncGenerator<StoredEvent> {
      for await (const batch of readAllBatches(fromPosition, batchSize)) yield* batch;
    },

    readAllBatches,

    readChainBatches: (fromPosition = 0, batchSize = READ_BATCH) =>
      readChainBatches(pool, tables, named, fromPosition, batchSize),

    /** Events from position `from` to `to`, both included. */
    readRange: (from: number, to: number) => readRange(pool, tables, from, to),

    /**
     * At most `limit` events after `after`, in position order, in one statement that gives up after
     * `timeoutMs`: what the change feed reads on every wake-up (a lost connection fails one read).
     */
    async readAfter(after: number, limit: number, timeoutMs: number): Promise<StoredEvent[]> {
      const found = await pool.query({
        ...named("read-after"),
        text: `SELECT ${COLUMNS} FROM ${tables.events} WHERE position > $1 ORDER BY position LIMIT $2`,
        values: [after, limit],
        rowMode: "array",
        query_timeout: timeoutMs,
      } as pg.QueryConfig);
      return found.rows.map(toEvent);
    },

    async head(): Promise<Head> {
      const found = await pool.query({
        text: `SELECT position, hash, recorded_at FROM ${tables.head}`,
        rowMode: "array",
      });
      return headOf(found.rows[0], tables);
    },
  };
}

/** The head row as read (position, hash, recorded_at); a ledger without one was never migrated. */
export function headOf(row: unknown[] | undefined, tables: Tables): Head {
  const [position, hash, recordedAt] = (row ?? []) as [number?, Buffer?, (Date | null)?];
  if (position === undefined)
    throw new Error(`the ledger in schema "${tables.schema}" has no head row; run migrate`);
  return { position, hash: hash as Buffer, recordedAt: recordedAt ?? null };
}
