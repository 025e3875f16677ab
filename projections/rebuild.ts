import type pg from "pg";
import {
  type ChainBreak,
  type ChainRow,
  ChainTamperedError,
  chainChecker,
  createEventStore,
  type EventStore,
  type Head,
  type StoredEvent,
} from "../src/store/index.ts";
import { moveCheckpoints } from "../src/store/projection-checkpoints.ts";
import type { Tables } from "../src/store/tables.ts";
import type { LedgerProjection } from "./index.ts";
import { ledgerEvents } from "./ledger-projection.ts";

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
 * Events per read and per apply. pg materialises a whole fetch before handing it over, and the
 * projections build their parameters from it: at 1000 all of that dies young in V8's nursery,
 * where a larger batch would be copied and promoted, and collected at a higher cost.
 */
const BATCH_SIZE = 1000;

/**
 * Recreates every projection from the events in one transaction: the tables are emptied, the
 * events re-applied in batches, the checkpoints set to the head. A failure leaves the old
 * tables as they were.
 *
 * Locks: the head row first (no append can interleave; the same order as every append, head
 * then projection tables, so no deadlock), then TRUNCATE's exclusive lock on the projection
 * tables: readers wait for the rebuilt tables rather than see them half filled. The same lock
 * lets the secondary indexes go while the tables fill (see `withoutSecondaryIndexes`).
 *
 * The events are checked against the hash chain as they are read, as `verify` checks them:
 * projections rebuilt from edited rows would show a history that never happened. A break throws
 * ChainTamperedError, which rolls everything back, unless `force` is given.
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
    // On a server the events are read on another connection, a batch ahead, while this one
    // applies the last: reading and writing overlap. They are immutable up to the head, so
    // another snapshot reads the same rows. PGlite's socket server runs nothing from another
    // connection while a transaction is open, so there they are read in this transaction.
    const reader = options.readThroughPool
      ? store
      : createEventStore({ pool: client as unknown as pg.Pool, schema: tables.schema });
    // A projection that can be recomputed set-based over the events table is, in one go, once
    // every event was read, validated and chain-checked (a bad event is reported as such, not
    // as whatever constraint it would break); the others are folded batch by batch.
    const folded = projections.filter((p) => p.rebuild === undefined);
    const replayed = await replayChecked(reader, head, options, async (batch) => {
      for (const projection of folded) await projection.apply(client, batch, tables, named);
    });
    const broken =
      replayed.broken ?? (await endOfChain(client, tables, head, replayed.chain, Boolean(options.force)));
    for (const projection of projections) {
      for (const statement of projection.rebuild?.(tables, head.position) ?? [])
        await client.query(statement);
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
      events: replayed.done,
      position: head.position,
      ms: Math.round(performance.now() - started),
      forced,
    };
  });
}

type Replayed = { done: number; broken: ChainBreak | null; chain: ReturnType<typeof chainChecker> };

/**
 * Reads the events up to the head, checks each against the chain, and hands them to `apply`
 * batch by batch, in order; the first break stops it (ChainTamperedError) unless `force`.
 */
async function replayChecked(
  reader: EventStore,
  head: Head,
  options: RebuildOptions,
  apply: (batch: StoredEvent[]) => Promise<void>,
): Promise<Replayed> {
  const { onProgress } = options;
  let done = 0;
  onProgress?.(0, head.position);
  // One batch is validated while PostgreSQL still writes the one before: the batch's events
  // are parsed once for all projections (ledgerEvents caches them by batch), and that parse
  // is the largest part of the work here. Statements still run batch after batch, in order.
  let applying: Promise<void> = Promise.resolve();
  // Read as `verify` reads the chain, as text: each row's JSON is parsed once, for the hash
  // and for the projections, and no bytea is turned into a Buffer and back into hex.
  const reading = reader.readChainBatches(0, BATCH_SIZE);
  const chain = chainChecker();
  let broken: ChainBreak | null = null;
  const checked = (rows: readonly ChainRow[]): StoredEvent[] => {
    const batch: StoredEvent[] = [];
    for (const row of rows) {
      // Rows past the head are not the history being rebuilt; `endOfChain` reports them.
      if (row.position > head.position) break;
      const event = storedEventOf(row);
      if (!broken) broken = chain.checkParsed(row, event.data, event.metadata);
      if (broken && !options.force) throw new ChainTamperedError(broken);
      batch.push(event);
    }
    return batch;
  };
  try {
    for await (const rows of reading) {
      const batch = checked(rows);
      if (batch.length === 0) break;
      ledgerEvents(batch);
      await applying;
      applying = apply(batch).then(() => {
        done += batch.length;
        onProgress?.(done, head.position);
      });
      // Marked as handled until the next turn awaits it, so that a failure while this loop
      // waits for the next read is not an unhandled rejection.
      applying.catch(() => {});
    }
  } finally {
    // On a failure too: the transaction's ROLLBACK must not overtake a statement in flight.
    await applying.catch(() => {});
  }
  await applying;
  return { done, broken, chain };
}

/** The head against the last event, and rows past the head; throws on a break unless `force`. */
async function endOfChain(
  client: pg.PoolClient,
  tables: Tables,
  head: Head,
  chain: ReturnType<typeof chainChecker>,
  force: boolean,
): Promise<ChainBreak | null> {
  const highest = await client.query({
    text: `SELECT coalesce(max(position), 0) FROM ${tables.events}`,
    rowMode: "array",
  });
  const broken = chain.end(head, Number(highest.rows[0]?.[0] ?? 0));
  if (broken && !force) throw new ChainTamperedError(broken);
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

/** The event a chain row holds, its JSON parsed once, for the projections. */
function storedEventOf(row: ChainRow): StoredEvent {
  return {
    position: row.position,
    streamId: row.streamId,
    streamVersion: row.streamVersion,
    eventId: row.eventId,
    type: row.type,
    schemaVersion: row.schemaVersion,
    data: JSON.parse(row.dataJson),
    metadata: JSON.parse(row.metadataJson),
    recordedAt: new Date(row.recordedAt),
    prevHash: Buffer.from(row.prevHash, "hex"),
    hash: Buffer.from(row.hash, "hex"),
  };
}
