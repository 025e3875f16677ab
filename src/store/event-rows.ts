import type { HashedFields, HashedText } from "./hash-chain.ts";
import type { Tables } from "./tables.ts";

/**
 * What an event row is, as the store writes and reads it: the row types, the columns in the order
 * every read selects them, and the mappers from pg's array rows.
 */
export type ActorKind = "telegram" | "cli" | "http" | "system";

export type Metadata = {
  actor: { kind: ActorKind; id: string; name?: string };
  reason?: string;
  forced?: boolean;
  overrides?: string[];
  correlationId?: string;
  causationId?: string;
  idempotencyKey?: string;
  [key: string]: unknown;
};

export type NewEvent = { type: string; data: unknown; schemaVersion?: number; eventId?: string };

/** The hashed fields, the hash, and the metadata typed. `prevHash` and `hash`: empty when read without the hash columns. */
export type StoredEvent = Omit<HashedFields, "metadata"> & { metadata: Metadata; hash: Buffer };

/** A number is the stream's current version (0: the stream has no events yet); `any` skips the check. */
export type ExpectedVersion = number | "any";

export type StreamAppend = { streamId: string; expectedVersion?: ExpectedVersion; events: NewEvent[] };

export type Idempotency = { key: string; request: unknown };

export type AppendResult = { events: StoredEvent[]; replayed: boolean };

export type Head = { position: number; hash: Buffer; recordedAt: Date | null };

/**
 * `{ name }` for a statement of fixed text, to spread into a query config: prepared once per
 * connection on a PostgreSQL server, so that it is planned once rather than on every call; `{}`
 * where statements must not be named (see `prepareStatements`). The name carries the schema, so
 * that one connection can serve several ledgers.
 */
export type StatementNamer = (name: string) => { name?: string };

export function statementNamer(tables: Tables, prepareStatements: boolean | undefined): StatementNamer {
  return (name) => (prepareStatements ? { name: `ledger-${name}-${tables.schema}` } : {});
}

export const COLUMNS_WITHOUT_HASHES =
  "position, stream_id, stream_version, event_id, type, schema_version, data, metadata, recorded_at";
export const COLUMNS = `${COLUMNS_WITHOUT_HASHES}, prev_hash, hash`;
const NO_HASH = Buffer.alloc(0);

/** An event row as `readChainBatches` reads it: the hashed fields as text. */
export type ChainRow = HashedText & { dataJson: string; metadataJson: string; hash: string };

/**
 * The columns that every read selects first, in this order, whatever form it reads the rest in.
 * The mappers below add the rest to this object rather than spread it into a new one: they run
 * once per row read, and a spread is a second object per row (bench/README.md, measurements).
 */
function identityOf(row: unknown[]) {
  return {
    position: row[0] as number,
    streamId: row[1] as string,
    streamVersion: row[2] as number,
    eventId: row[3] as string,
    type: row[4] as string,
    schemaVersion: row[5] as number,
  };
}

/** The rest of a chain row is text, every column of it (see `readChainBatches`). */
export function toChainRow(row: unknown[]): ChainRow {
  const chainRow = identityOf(row) as ChainRow;
  chainRow.dataJson = row[6] as string;
  chainRow.metadataJson = row[7] as string;
  chainRow.recordedAt = row[8] as string;
  chainRow.prevHash = row[9] as string;
  chainRow.hash = row[10] as string;
  return chainRow;
}

export function toEvent(row: unknown[]): StoredEvent {
  const event = identityOf(row) as StoredEvent;
  event.data = row[6];
  event.metadata = row[7] as Metadata;
  event.recordedAt = row[8] as Date;
  event.prevHash = (row[9] as Buffer | undefined) ?? NO_HASH;
  event.hash = (row[10] as Buffer | undefined) ?? NO_HASH;
  return event;
}
