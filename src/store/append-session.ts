import type pg from "pg";
import { type AppendTarget, buildRows, insertRows, requestHash } from "./append-rows.ts";
import { withCheckedOut } from "./checked-out.ts";
import { asConflict, IdempotencyConflictError } from "./errors.ts";
import { headOf, readRange } from "./event-reader.ts";
import type { Head, Idempotency, Metadata, StatementNamer, StoredEvent, StreamAppend } from "./event-rows.ts";
import { inOrder, pipelines } from "./pipelining.ts";
import type { Tables } from "./tables.ts";

/** What a caller may do while it holds the head lock (see `EventStore.transact`). */
export type AppendSession = {
  client: pg.PoolClient;
  tables: Tables;
  head: Head;
  /** The database server's clock_timestamp(), read once the head lock was granted. */
  databaseTime: Date;
  named: StatementNamer;
  /**
   * Stream versions as of now, by stream id. `streamVersion` fills it and `write` keeps it
   * current; a caller that reads versions under this session's head lock (nothing can append
   * until it commits) may fill it too, and save `write` a round trip per stream.
   */
  knownVersions: Map<string, number>;
  /** The events an earlier request with this key wrote, or null; throws if the request differs. */
  findIdempotent(idempotency: Idempotency): Promise<StoredEvent[] | null>;
  streamVersion(streamId: string): Promise<number>;
  /**
   * `commit`: the write is the transaction's last work, and its COMMIT goes with its statements
   * (see `transact`); the session takes no statement after it.
   */
  write(
    appends: StreamAppend[],
    metadata: Metadata,
    idempotency?: Idempotency,
    options?: { commit?: boolean },
  ): Promise<StoredEvent[]>;
};

/** A read sent with the head lock, in the same round trip (see `transact`). */
export type ReadWithLock<R> = (client: pg.PoolClient, tables: Tables, named: StatementNamer) => Promise<R>;

type OpenSession = AppendSession & { committed: boolean };

/**
 * The store's one way to write: `transact` runs `work` in one transaction holding the head row
 * lock. Appends are serialised by that lock, so whatever `work` reads (stream versions,
 * projections) cannot change until it commits. Any error rolls everything back: nothing of a
 * failed append is left behind. A connection lost while the COMMIT was on its way leaves the
 * outcome unknown here: `ledger.execute` resolves it by running the attempt again under the same
 * idempotency key. `onLocked` hears the database's time once the lock is granted.
 */
export function appendTransactions(
  pool: pg.Pool,
  target: AppendTarget,
  onLocked: (databaseTime: Date) => void,
) {
  const { tables, named } = target;
  // A command's prepared statements keep one plan each: by default PostgreSQL plans a statement
  // with parameters again on each execution while that looks cheaper, and the state load's plan
  // cost more than its run (bench/README.md, measurements). SET LOCAL: it ends with the
  // transaction. Only for a command (a transaction that reads its state with the lock) where
  // statements are prepared: the setting reaches unnamed statements with parameters too, and a
  // rebuild's or catch-up's one-off statements are better planned for their values.
  const generic = " SET LOCAL plan_cache_mode = force_generic_plan;";
  return async function transact<T, R = undefined>(
    work: (session: AppendSession, read: R) => Promise<T>,
    readWithLock?: ReadWithLock<R>,
  ): Promise<T> {
    try {
      return await withCheckedOut(
        pool,
        async (client) => {
          // Three statements (and a command's SET) in one simple query: one round trip before every
          // append. The time is read by a statement of its own after the lock: in the locking
          // SELECT itself the target list may be evaluated before the wait for the lock, and an
          // append that waited would then record a moment earlier than the one it follows.
          const set = target.prepared && readWithLock ? generic : "";
          const locking = client.query({
            text: `BEGIN;${set} SELECT position, hash, recorded_at FROM ${tables.head} FOR UPDATE; SELECT clock_timestamp()`,
            rowMode: "array",
          }) as unknown as Promise<pg.QueryResult[]>;
          // Queued behind the lock on a pipelining connection, it travels with it, and the server
          // runs it once the lock is granted: in READ COMMITTED its snapshot is taken then, and
          // sees every append committed before. Elsewhere it is sent after the lock's answer.
          // Handled here, so that when the lock fails first its failure is not unhandled.
          const pipelined = pipelines(client);
          let reading = pipelined ? readWithLock?.(client, tables, named) : undefined;
          reading?.catch(() => {});
          const results = await locking;
          if (!pipelined) reading = readWithLock?.(client, tables, named);
          const head = headOf(results[results.length - 2]?.rows[0], tables);
          const databaseTime = results[results.length - 1]?.rows[0]?.[0] as Date;
          onLocked(databaseTime);
          const session = openSession(target, client, head, databaseTime);
          const result = await work(session, (await reading) as R);
          if (!session.committed) await client.query("COMMIT");
          return result;
        },
        { onFailure: (client) => client.query("ROLLBACK") },
      );
    } catch (error) {
      throw asConflict(error);
    }
  };
}

function openSession(
  target: AppendTarget,
  client: pg.PoolClient,
  head: Head,
  databaseTime: Date,
): OpenSession {
  const { tables, named } = target;
  const session: OpenSession = {
    committed: false,
    client,
    tables,
    head,
    databaseTime,
    named,
    knownVersions: new Map(),
    async findIdempotent({ key, request }) {
      const found = await client.query({
        text: `SELECT request_hash, first_position, last_position FROM ${tables.idempotencyKeys} WHERE key = $1`,
        values: [key],
        rowMode: "array",
      });
      const row = found.rows[0];
      if (!row) return null;
      if (!(row[0] as Buffer).equals(requestHash(request))) throw new IdempotencyConflictError(key);
      return readRange(client, tables, row[1], row[2]);
    },
    async streamVersion(streamId) {
      const known = session.knownVersions.get(streamId);
      if (known !== undefined) return known;
      const found = await client.query({
        ...named("stream-version"),
        text: `SELECT coalesce(max(stream_version), 0) FROM ${tables.events} WHERE stream_id = $1`,
        values: [streamId],
        rowMode: "array",
      });
      const version: number = found.rows[0]?.[0] ?? 0;
      session.knownVersions.set(streamId, version);
      return version;
    },
    write: (appends, metadata, idempotency, { commit = false } = {}) =>
      write(target, session, { appends, metadata, idempotency, commit }),
  };
  return session;
}

type Write = {
  appends: StreamAppend[];
  metadata: Metadata;
  idempotency: Idempotency | undefined;
  commit: boolean;
};

async function write(target: AppendTarget, session: OpenSession, request: Write): Promise<StoredEvent[]> {
  const { client, tables, named, head } = session;
  if (session.committed) throw new Error("the transaction has committed; nothing more can be written");
  const chained = await buildRows(target, session, request.appends, request.metadata);
  const { rows } = chained;
  // Each statement is sent as soon as it is made: on a pipelining connection the insert, every
  // planned statement and the COMMIT (when every projection could plan) travel in one round trip,
  // and the server runs the insert while the projections plan theirs (see `inOrder`).
  const statements = inOrder(client);
  try {
    statements.send(() => insertRows(target, client, chained, request.idempotency));
    for (const projection of target.projections) {
      const plan = projection.plan(rows, tables, named);
      if (plan) {
        for (const statement of plan) statements.send(() => client.query(statement));
      } else {
        // It reads first: what was sent runs, then it does, then the rest is sent.
        await statements.drain();
        await projection.apply(client, rows, tables, named);
      }
    }
  } catch (error) {
    // A projection that could not plan or apply: what was sent answers before the caller's
    // ROLLBACK goes out, which must not overtake a statement still running.
    await statements.drain().catch(() => {});
    throw error;
  }
  if (request.commit) {
    statements.send(() => client.query("COMMIT"));
    session.committed = true;
  }
  await statements.drain();
  for (const [streamId, version] of chained.versions) session.knownVersions.set(streamId, version);
  const last = rows[rows.length - 1] as StoredEvent;
  head.position = last.position;
  head.hash = last.hash;
  head.recordedAt = last.recordedAt;
  return rows;
}
