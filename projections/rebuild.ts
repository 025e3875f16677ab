import type pg from "pg";
import { parseEvent } from "../src/domain/index.ts";
import { readChainBatches } from "../src/store/chain-reads.ts";
import {
  type ChainBreak,
  type ChainRow,
  ChainTamperedError,
  chainChecker,
  type EventStore,
  type Head,
} from "../src/store/index.ts";
import { moveCheckpoints } from "../src/store/projection-checkpoints.ts";
import type { Tables } from "../src/store/tables.ts";
import type { LedgerProjection } from "./index.ts";
import type { HashFold } from "./ledger-projection.ts";
import { foldTypedEvents, rebuildWriter } from "./rebuild-writes.ts";

export type RebuildResult = {
  events: number;
  position: number;
  ms: number;
  /** Set when a chain that does not verify was rebuilt anyway, with the reason given for it. */
  forced: (ChainBreak & { reason: string }) | null;
};

export type RebuildOptions = {
  readThroughPool: boolean;
  onProgress?: ((done: number, total: number) => void) | undefined;
  /** Rebuild even from a chain that does not verify; the reason is reported with the result. */
  force?: { reason: string } | undefined;
};

/**
 * Rows per read of the chain walk. pg materialises a whole fetch before handing it over: at 1000
 * it dies young in V8's nursery, where a larger batch would be copied and promoted, and collected
 * at a higher cost.
 */
const BATCH_SIZE = 1000;

/**
 * Recreates every projection from the events in one transaction: the tables are emptied and
 * refilled, the checkpoints set to the head. A failure leaves the old tables as they were.
 *
 * Locks: the head row first (no append can interleave; the same order as every append, head
 * then projection tables, so no deadlock), then TRUNCATE's exclusive lock on the projection
 * tables: readers wait for the rebuilt tables rather than see them half filled. The same lock
 * lets the secondary indexes go while the tables fill (see `withoutSecondaryIndexes`).
 *
 * No projection folds every event: each refills its tables set-based over the events table, or
 * folds the few events of its own types, or (the Merkle tree) the hashes the chain walk reads
 * (`LedgerProjection.rebuild`). What Node does per event is the walk: every event checked against
 * the hash chain as `verify` checks it (projections rebuilt from edited rows would show a history
 * that never happened) and its data validated by the domain's schemas. On a server the writes run
 * on this transaction's connection while the walk reads on another: PostgreSQL works on one core
 * while Node hashes on the other. A break throws ChainTamperedError, which rolls everything
 * back, unless `force` is given; it is judged before any failure of a write, so that a bad event
 * is reported as such, not as whatever constraint it would break.
 */
export async function rebuildProjections(
  store: EventStore,
  projections: readonly LedgerProjection[],
  options: RebuildOptions,
): Promise<RebuildResult> {
  const started = performance.now();
  return store.transact(async ({ client, tables, head, named }) => {
    const owned = projections.flatMap((p) => p.tables);
    await client.query(`TRUNCATE ${owned.map((table) => tables.q(table)).join(", ")}`);
    const restoreIndexes = await withoutSecondaryIndexes(client, tables.schema, owned);
    const writes = rebuildWriter(options.readThroughPool);
    const folded: LedgerProjection[] = [];
    const trees: HashFold[] = [];
    for (const projection of projections) {
      const { rebuild } = projection;
      if ("statements" in rebuild) {
        for (const statement of rebuild.statements(tables, head.position))
          writes.send(() => client.query(statement));
      } else if ("eventTypes" in rebuild) folded.push(projection);
      else trees.push(rebuild.fromHashes(tables, named));
    }
    if (folded.length > 0)
      writes.send(() => foldTypedEvents(client, { tables, named, toPosition: head.position }, folded));
    // On a server the chain is read on another connection, ahead of the hashing: the events are
    // immutable up to the head, so another snapshot reads the same rows. PGlite's socket server
    // runs nothing from another connection while a transaction is open, so there it is read in
    // this transaction, before any write is sent (see `rebuildWriter`).
    const reader = options.readThroughPool ? store.pool : client;
    const growTrees = (hashes: Buffer[]) => {
      for (const tree of trees) {
        const statement = tree(hashes);
        if (statement) writes.send(() => client.query(statement));
      }
    };
    let walked: Walked;
    let broken: ChainBreak | null;
    try {
      walked = await walkChain(
        readChainBatches(reader, tables, named, 0, BATCH_SIZE),
        head,
        options,
        growTrees,
      );
      broken = walked.broken ?? (await endOfChain(reader, tables, head, walked.chain, options));
      await writes.finish();
    } catch (error) {
      // Whatever failed, no write may still be on its way when the ROLLBACK is sent.
      await writes.abandon();
      throw error;
    }
    await restoreIndexes();
    await moveCheckpoints(
      client,
      tables,
      projections.map((p) => p.name),
      head.position,
    );
    const forced = broken && options.force ? { ...broken, reason: options.force.reason } : null;
    return {
      events: walked.done,
      position: head.position,
      ms: Math.round(performance.now() - started),
      forced,
    };
  });
}

type Walked = { done: number; broken: ChainBreak | null; chain: ReturnType<typeof chainChecker> };

/**
 * Checks every event up to the head against the chain and validates its data, in position
 * order, handing each batch's hashes to `onHashes`; the first break throws ChainTamperedError
 * unless `force`, and the events after it are validated but no longer checked.
 */
async function walkChain(
  batches: AsyncIterable<ChainRow[]>,
  head: Head,
  options: RebuildOptions,
  onHashes: (hashes: Buffer[]) => void,
): Promise<Walked> {
  const { onProgress } = options;
  const chain = chainChecker();
  let broken: ChainBreak | null = null;
  let done = 0;
  onProgress?.(0, head.position);
  for await (const rows of batches) {
    const hashes: Buffer[] = [];
    for (const row of rows) {
      // Rows past the head are not the history being rebuilt; `endOfChain` reports them. The
      // walk reads on to the end rather than stop, so that no read of it is left in flight.
      if (row.position > head.position) continue;
      if (!broken) broken = chain.checkRow(row);
      if (broken && !options.force) throw new ChainTamperedError(broken);
      // The set-based statements read the jsonb as it is: an event the domain would not accept
      // fails the rebuild here, named, rather than project into something no command wrote.
      parseEvent(row.type, JSON.parse(row.dataJson));
      hashes.push(Buffer.from(row.hash, "hex"));
    }
    if (hashes.length === 0) continue;
    onHashes(hashes);
    done += hashes.length;
    onProgress?.(done, head.position);
  }
  return { done, broken, chain };
}

/** The head against the last event, and rows past the head; throws on a break unless `force`. */
async function endOfChain(
  db: pg.Pool | pg.ClientBase,
  tables: Tables,
  head: Head,
  chain: ReturnType<typeof chainChecker>,
  options: RebuildOptions,
): Promise<ChainBreak | null> {
  const highest = await db.query({
    text: `SELECT coalesce(max(position), 0) FROM ${tables.events}`,
    rowMode: "array",
  });
  const broken = chain.end(head, Number(highest.rows[0]?.[0] ?? 0));
  if (broken && !options.force) throw new ChainTamperedError(broken);
  return broken;
}

/**
 * Drops the tables' non-unique indexes and returns what builds them again, from their own
 * definitions: one sort per index at the end instead of a B-tree insertion per row. Nothing reads
 * them meanwhile: the rebuild holds the tables exclusively, and its own statements look rows up
 * by the unique indexes, which stay (upsert arbiters, open intervals). All of it is in the
 * rebuild's transaction, so a failure leaves the indexes as they were.
 */
async function withoutSecondaryIndexes(
  client: pg.PoolClient,
  schema: string,
  tableNames: readonly string[],
): Promise<() => Promise<void>> {
  const found = await client.query<{ name: string; definition: string }>({
    text: `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
             FROM pg_index i
             JOIN pg_class t ON t.oid = i.indrelid
             JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = $1 AND t.relname = ANY($2::text[]) AND NOT i.indisunique`,
    values: [schema, tableNames],
  });
  for (const { name } of found.rows) await client.query(`DROP INDEX ${name}`);
  return async () => {
    for (const { definition } of found.rows) await client.query(definition);
  };
}
