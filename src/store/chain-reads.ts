import type pg from "pg";
import { type ChainRow, type StatementNamer, toChainRow } from "./event-rows.ts";
import type { Tables } from "./tables.ts";

/**
 * The chain as `verify` reads it: every hashed column in the text form the hash is taken over,
 * so nothing is parsed into a Date or a Buffer. recorded_at is cut to milliseconds as pg's
 * Date parsing cuts it (the chain hashes the Date the writer held); jsonb comes as text, for
 * the verifier to parse and write canonically. On the pool, or on one connection (a rebuild in
 * its own transaction, where nothing may be read from another).
 */
export async function* readChainBatches(
  pool: pg.Pool | pg.ClientBase,
  tables: Tables,
  named: StatementNamer,
  fromPosition: number,
  batchSize: number,
): AsyncGenerator<ChainRow[]> {
  const text = `SELECT position, stream_id, stream_version, event_id, type, schema_version,
                       data::text, metadata::text,
                       to_char(date_trunc('milliseconds', recorded_at) AT TIME ZONE 'UTC',
                               'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                       encode(prev_hash, 'hex'), encode(hash, 'hex')
                  FROM ${tables.events} WHERE position > $1 ORDER BY position LIMIT $2`;
  const fetch = (after: number) =>
    pool.query({ ...named("read-chain"), text, values: [after, batchSize], rowMode: "array" });
  // The next batch is asked for before this one is handed over, so the server reads it while
  // the caller hashes: the two work on different cores.
  let next: Promise<pg.QueryResult> | undefined = fetch(fromPosition);
  while (next) {
    const found: pg.QueryResult = await next;
    const batch: ChainRow[] = found.rows.map(toChainRow);
    const last: ChainRow | undefined = batch[batch.length - 1];
    next = last && batch.length === batchSize ? fetch(last.position) : undefined;
    // A caller that stops early leaves a prefetch behind: its failure must not go unhandled.
    next?.catch(() => {});
    if (batch.length > 0) yield batch;
  }
}
