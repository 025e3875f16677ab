import type pg from "pg";
import type { Logger } from "../log.ts";
import type { InlineProjection } from "./append-rows.ts";
import { appendTransactions } from "./append-session.ts";
import { skewWarning } from "./clock-skew.ts";
import { eventReader } from "./event-reader.ts";
import { statementNamer } from "./event-rows.ts";
import { tablesIn } from "./tables.ts";

export { type InlineProjection, requestHash } from "./append-rows.ts";
export type { AppendSession, ReadWithLock } from "./append-session.ts";
export { CLOCK_SKEW_WARNING_MS } from "./clock-skew.ts";
export type {
  ActorKind,
  AppendResult,
  ChainRow,
  ExpectedVersion,
  Head,
  Idempotency,
  Metadata,
  NewEvent,
  StatementNamer,
  StoredEvent,
  StreamAppend,
} from "./event-rows.ts";

export type EventStoreOptions = {
  pool: pg.Pool;
  schema: string;
  projections?: InlineProjection[];
  /**
   * This process's own clock. It decides nothing that is recorded: each append compares it with
   * the database's, and warns (to `logger`) when they are more than a minute apart.
   */
  clock?: () => Date;
  logger?: Logger;
  /**
   * Tests only: `recorded_at` from this instead of the database's clock, for histories that must
   * span days or years (timelines, as-of queries, A/B segments, projection dumps compared across
   * two ledgers) in a test that runs for seconds. Still never goes backwards along positions.
   */
  pinnedTime?: () => Date;
  /**
   * Name (prepare once per connection) the statements of the append path. Only on a PostgreSQL
   * server: through PGlite's socket every connection shares one backend, so a second connection
   * preparing the same name would fail.
   */
  prepareStatements?: boolean;
};

export type EventStore = ReturnType<typeof createEventStore>;

/**
 * The event store of the ledger in one schema: its append session (`transact`, in
 * append-session.ts, following DESIGN.md "Append": head lock, idempotency, expected version,
 * chained rows, inline projections, commit) and its reads (event-reader.ts).
 */
export function createEventStore(options: EventStoreOptions) {
  const { pool } = options;
  const tables = tablesIn(options.schema);
  const named = statementNamer(tables, options.prepareStatements);
  const target = {
    tables,
    named,
    prepared: options.prepareStatements === true,
    projections: options.projections ?? [],
    pinnedTime: options.pinnedTime,
  };
  const warnOfSkew = skewWarning(options.clock ?? (() => new Date()), options.logger);
  return {
    tables,
    pool,
    transact: appendTransactions(pool, target, warnOfSkew),
    ...eventReader(pool, tables, named),
  };
}
