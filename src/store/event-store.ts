import { createHash, randomUUID } from "node:crypto";
import type pg from "pg";
import type { Logger } from "../log.ts";
import { withCheckedOut } from "./checked-out.ts";
import { isConnectionLost } from "./connection-errors.ts";
import { asConflict, ConcurrencyError, IdempotencyConflictError } from "./errors.ts";
import { canonicalJson, eventHashOfJson, GENESIS_HASH, type HashedText } from "./hash-chain.ts";
import { inOrder, pipelines } from "./pipelining.ts";
import { type Tables, tablesIn } from "./tables.ts";

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

export type StoredEvent = {
  position: number;
  streamId: string;
  streamVersion: number;
  eventId: string;
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: Metadata;
  recordedAt: Date;
  /** Empty when read with `hashes: false`. */
  prevHash: Buffer;
  hash: Buffer;
};

export type ReadOptions = {
  /**
   * false: leave the hash columns unread (`prevHash` and `hash` empty), for a reader that only
   * projects or folds; pg's parsing of the two bytea columns was a sixth of a read's CPU.
   */
  hashes?: boolean;
};

/** A number is the stream's current version (0: the stream has no events yet); `any` skips the check. */
export type ExpectedVersion = number | "any";

export type StreamAppend = { streamId: string; expectedVersion?: ExpectedVersion; events: NewEvent[] };

export type Idempotency = { key: string; request: unknown };

export type AppendResult = { events: StoredEvent[]; replayed: boolean };

/** An inline projection writes its rows in the append's own transaction. */
export type InlineProjection = {
  name: string;
  /**
   * The statements that write the batch's rows, in order, computed without reading anything
   * (an empty list: nothing to write); null when they depend on a read, and `apply` must run.
   * Planned statements are sent with the insert and the COMMIT, in one round trip.
   */
  plan(events: StoredEvent[], tables: Tables, named: StatementNamer): pg.QueryConfig[] | null;
  apply(client: pg.PoolClient, events: StoredEvent[], tables: Tables, named: StatementNamer): Promise<void>;
};

/**
 * `{ name }` for a statement of fixed text, to spread into a query config: prepared once per
 * connection on a PostgreSQL server, so that it is planned once rather than on every call; `{}`
 * where statements must not be named (see `prepareStatements`). The name carries the schema, so
 * that one connection can serve several ledgers.
 */
export type StatementNamer = (name: string) => { name?: string };

export type Head = { position: number; hash: Buffer; recordedAt: Date | null };

/** A writer whose clock is further than this from the database's is warned about. */
export const CLOCK_SKEW_WARNING_MS = 60_000;
/** ... and then no more than once an hour per store, however many appends it makes. */
const SKEW_WARNING_INTERVAL_MS = 3_600_000;

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
 * Rows per read. pg materialises a whole batch before handing it over; at 1000 rows it stays in
 * V8's young generation (measured: 5000 rows cost twice the CPU per event in garbage collection
 * and 200 MB peak RSS over a million events; 1000 rows, about 117 MB).
 */
const READ_BATCH = 1000;

const COLUMNS_WITHOUT_HASHES =
  "position, stream_id, stream_version, event_id, type, schema_version, data, metadata, recorded_at";
const COLUMNS = `${COLUMNS_WITHOUT_HASHES}, prev_hash, hash`;
const NO_HASH = Buffer.alloc(0);

/** The most appends one transaction takes from those waiting (see `drain`). */
const GROUP_LIMIT = 64;

type WaitingAppend = {
  appends: StreamAppend[];
  metadata: Metadata;
  idempotency: Idempotency | undefined;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
};

export function createEventStore(options: EventStoreOptions) {
  const { pool } = options;
  const tables = tablesIn(options.schema);
  const projections = options.projections ?? [];
  const clock = options.clock ?? (() => new Date());
  let skewWarnedAt: number | null = null;
  /** Appends waiting for the next group commit, and whether one runs (see `drain`). */
  const waiting: WaitingAppend[] = [];
  let draining = false;
  const named: StatementNamer = (name) =>
    options.prepareStatements ? { name: `ledger-${name}-${tables.schema}` } : {};

  /**
   * Runs `work` in one transaction holding the head row lock. Appends are serialised by that lock,
   * so whatever `work` reads (stream versions, projections) cannot change until it commits.
   * Any error rolls everything back: nothing of a failed append is left behind. A connection lost
   * while the COMMIT was on its way leaves the outcome unknown here: `ledger.execute` resolves it
   * by running the attempt again under the same idempotency key.
   */
  async function transact<T, R = undefined>(
    work: (session: AppendSession, read: R) => Promise<T>,
    readWithLock?: ReadWithLock<R>,
  ): Promise<T> {
    try {
      return await withCheckedOut(
        pool,
        async (client) => {
          // Three statements in one simple query: one round trip before every append. The time is
          // read by a statement of its own after the lock: in the locking SELECT itself the target
          // list may be evaluated before the wait for the lock, and an append that waited would
          // then record a moment earlier than the one it follows.
          const locking = client.query({
            text: `BEGIN; SELECT position, hash, recorded_at FROM ${tables.head} FOR UPDATE; SELECT clock_timestamp()`,
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
          const [position, hash, recordedAt] = results[1]?.rows[0] ?? [];
          if (position === undefined)
            throw new Error(`the ledger in schema "${tables.schema}" has no head row; run migrate`);
          const databaseTime = results[2]?.rows[0]?.[0] as Date;
          warnOfSkew(databaseTime);
          const session = createSession(client, { position, hash, recordedAt }, databaseTime);
          const result = await work(session, (await reading) as R);
          if (!session.committed) await client.query("COMMIT");
          return result;
        },
        { onFailure: (client) => client.query("ROLLBACK") },
      );
    } catch (error) {
      throw asConflict(error);
    }
  }

  /** One clock for recorded_at is the database's; a writer far from it is told, not obeyed. */
  function warnOfSkew(databaseTime: Date): void {
    const skewMs = clock().getTime() - databaseTime.getTime();
    if (Math.abs(skewMs) <= CLOCK_SKEW_WARNING_MS) return;
    const now = performance.now();
    if (skewWarnedAt !== null && now - skewWarnedAt < SKEW_WARNING_INTERVAL_MS) return;
    skewWarnedAt = now;
    options.logger?.warn(
      { skewMs, databaseTime: databaseTime.toISOString(), processTime: clock().toISOString() },
      "this process's clock differs from the database's by more than a minute; events are recorded at the database's time",
    );
  }

  function createSession(
    client: pg.PoolClient,
    head: Head,
    databaseTime: Date,
  ): AppendSession & { committed: boolean } {
    const session: AppendSession & { committed: boolean } = {
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
        return readRange(client, row[1], row[2]);
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
      async write(appends, metadata, idempotency, { commit = false } = {}) {
        if (session.committed) throw new Error("the transaction has committed; nothing more can be written");
        const { rows, dataJson, metadataJson, versions } = await buildRows(session, appends, metadata);
        const plans = projections.map((projection) => projection.plan(rows, tables, named));
        // The insert and every planned statement are queued at once: on a pipelining connection
        // they travel together (and the COMMIT with them when every projection could plan), and
        // the server runs them in order (see `inOrder`).
        const queued: (() => Promise<unknown>)[] = [
          () => insertRows(client, rows, dataJson, metadataJson, idempotency),
        ];
        for (const [i, projection] of projections.entries()) {
          const plan = plans[i];
          if (plan) {
            for (const statement of plan) queued.push(() => client.query(statement));
          } else {
            // It reads first: what is queued runs, then it does, then the rest is queued.
            await inOrder(client, queued.splice(0));
            await projection.apply(client, rows, tables, named);
          }
        }
        if (commit) {
          queued.push(() => client.query("COMMIT"));
          session.committed = true;
        }
        await inOrder(client, queued);
        for (const [streamId, version] of versions) session.knownVersions.set(streamId, version);
        const last = rows[rows.length - 1] as StoredEvent;
        head.position = last.position;
        head.hash = last.hash;
        head.recordedAt = last.recordedAt;
        return rows;
      },
    };
    return session;
  }

  /** Current versions of many streams in one round trip (an import touches dozens). */
  async function lookUpVersions(session: AppendSession, streamIds: string[]): Promise<void> {
    const found = await session.client.query({
      text: `SELECT s, (SELECT coalesce(max(stream_version), 0) FROM ${tables.events} WHERE stream_id = s)
               FROM unnest($1::text[]) AS s`,
      values: [streamIds],
      rowMode: "array",
    });
    for (const row of found.rows) session.knownVersions.set(row[0] as string, row[1] as number);
  }

  async function buildRows(session: AppendSession, appends: StreamAppend[], metadata: Metadata) {
    if (appends.every((a) => a.events.length === 0)) throw new Error("an append needs at least one event");
    // recorded_at is the database's clock, read under the head lock, and never goes backwards
    // along positions even if that clock does (a server's clock set back): as-of-time reads
    // rely on it.
    const now = options.pinnedTime?.() ?? session.databaseTime;
    const recordedAt =
      session.head.recordedAt && session.head.recordedAt > now ? session.head.recordedAt : now;
    const unknown = [...new Set(appends.map((a) => a.streamId))].filter(
      (id) => !session.knownVersions.has(id),
    );
    if (unknown.length > 1) await lookUpVersions(session, unknown);
    const versions = new Map<string, number>();
    let position = session.head.position;
    let prevHash = session.head.hash;
    const rows: StoredEvent[] = [];
    const dataJson: string[] = [];
    const metadataJson = canonicalJson(metadata);
    for (const append of appends) {
      let version = versions.get(append.streamId) ?? (await session.streamVersion(append.streamId));
      const expected = append.expectedVersion ?? "any";
      if (expected !== "any" && expected !== version) {
        throw new ConcurrencyError(
          `stream ${append.streamId} is at version ${version}, the append expected ${expected}`,
          append.streamId,
        );
      }
      for (const event of append.events) {
        version += 1;
        position += 1;
        const row: StoredEvent = {
          position,
          streamId: append.streamId,
          streamVersion: version,
          eventId: event.eventId ?? randomUUID(),
          type: event.type,
          schemaVersion: event.schemaVersion ?? 1,
          data: event.data,
          metadata,
          recordedAt,
          prevHash,
          hash: GENESIS_HASH,
        };
        const json = canonicalJson(event.data);
        row.hash = eventHashOfJson(row, json, metadataJson);
        prevHash = row.hash;
        rows.push(row);
        dataJson.push(json);
      }
      versions.set(append.streamId, version);
    }
    return { rows, dataJson, metadataJson, versions };
  }

  /**
   * One statement writes the rows, moves the head, records the idempotency key and moves the
   * inline projections' checkpoints: a single round trip whatever the number of events, and a
   * single snapshot for all of it. The rows travel as one JSON document, an array of arrays in
   * column order: pg's array literals escape every string character by character, which costs
   * more than the insert itself for a bulk append. It is read as jsonb (parsed once, fields then
   * picked by index, each event's data already jsonb): json_to_recordset re-scanned the text of
   * each object and converted its data again, and took PostgreSQL three times the CPU per event.
   */
  async function insertRows(
    client: pg.PoolClient,
    rows: StoredEvent[],
    dataJson: string[],
    metadataJson: string,
    idempotency?: Idempotency,
  ) {
    const last = rows[rows.length - 1] as StoredEvent;
    const document = rows
      .map(
        (r, i) =>
          `[${r.position},${JSON.stringify(r.streamId)},${r.streamVersion},"${r.eventId}"` +
          `,${JSON.stringify(r.type)},${r.schemaVersion},${dataJson[i]}` +
          `,"${r.prevHash.toString("hex")}","${r.hash.toString("hex")}"]`,
      )
      .join(",");
    await client.query({
      ...named("insert"),
      text: `WITH inserted AS (
          INSERT INTO ${tables.events} (${COLUMNS})
          SELECT (r->>0)::bigint, r->>1, (r->>2)::integer, (r->>3)::uuid, r->>4, (r->>5)::integer, r->6,
                 $2::jsonb, $3::timestamptz, decode(r->>7, 'hex'), decode(r->>8, 'hex')
            FROM jsonb_array_elements($1::jsonb) AS r
          RETURNING 1
        ), moved AS (
          UPDATE ${tables.head} SET position = $4, hash = $5, recorded_at = $3::timestamptz
        ), keyed AS (
          INSERT INTO ${tables.idempotencyKeys} (key, request_hash, first_position, last_position)
          SELECT $6, $7, $8, $4 WHERE $6::text IS NOT NULL
        ), checkpoints AS (
          INSERT INTO ${tables.checkpoints} (projection, position, updated_at)
          SELECT unnest($9::text[]), $4, now()
          ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at
        ), notified AS (
          -- Delivered at commit, in commit order, to the change feed's listeners; the payload is
          -- the new head only: a listener reads the events itself (src/ledger/feed/wakeups.ts).
          SELECT pg_notify($10, $4::text)
        )
        SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM notified)`,
      values: [
        `[${document}]`,
        metadataJson,
        last.recordedAt,
        last.position,
        last.hash,
        idempotency?.key ?? null,
        idempotency ? requestHash(idempotency.request) : null,
        (rows[0] as StoredEvent).position,
        projections.map((p) => p.name),
        tables.channel,
      ],
    });
  }

  async function readRange(client: pg.PoolClient | pg.Pool, from: number, to: number) {
    const found = await client.query({
      text: `SELECT ${COLUMNS} FROM ${tables.events} WHERE position BETWEEN $1 AND $2 ORDER BY position`,
      values: [from, to],
      rowMode: "array",
    });
    return found.rows.map(toEvent);
  }

  return {
    tables,
    pool,
    transact,

    /**
     * Appends events to one stream, following DESIGN.md "Append": head lock, idempotency,
     * expected version, chained rows, inline projections, commit.
     */
    async append(
      streamId: string,
      expectedVersion: ExpectedVersion,
      events: NewEvent[],
      metadata: Metadata,
      idempotencyKey?: string,
    ): Promise<AppendResult> {
      return appendMany([{ streamId, expectedVersion, events }], metadata, idempotencyKey);
    },

    /** Several streams in one transaction (an import): all of it lands, or none. */
    appendMany,

    async readStream(streamId: string, fromVersion = 1): Promise<StoredEvent[]> {
      const found = await pool.query({
        text: `SELECT ${COLUMNS} FROM ${tables.events} WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version`,
        values: [streamId, fromVersion],
        rowMode: "array",
      });
      return found.rows.map(toEvent);
    },

    readAll,
    readAllBatches,
    readChainBatches,

    /** Events from position `from` to `to`, both included. */
    readRange: (from: number, to: number) => readRange(pool, from, to),
    readAfter,

    async head(): Promise<Head> {
      const found = await pool.query({
        text: `SELECT position, hash, recorded_at FROM ${tables.head}`,
        rowMode: "array",
      });
      const [position, hash, recordedAt] = found.rows[0] ?? [];
      if (position === undefined)
        throw new Error(`the ledger in schema "${tables.schema}" has no head row; run migrate`);
      return { position, hash, recordedAt };
    },
  };

  async function appendMany(
    appends: StreamAppend[],
    metadata: Metadata,
    idempotencyKey?: string,
  ): Promise<AppendResult> {
    const idempotency = idempotencyKey
      ? {
          key: idempotencyKey,
          request: { appends: appends.map(requestOf), metadata: stableMetadata(metadata) },
        }
      : undefined;
    return new Promise((resolve, reject) => {
      waiting.push({ appends, metadata, idempotency, resolve, reject });
      if (!draining) void drain();
    });
  }

  /**
   * Group commit: the appends that wait in this process while a transaction runs go together in
   * the next one, in the order they came, at most GROUP_LIMIT: one head lock and one commit (one
   * fsync) for all of them, instead of each queueing on the lock behind the others' commits. Each
   * keeps its own outcome: its own events, its idempotency key looked up and recorded on its own,
   * and a rejection of its own (a stream at another version, a key reused for another request),
   * which leaves the others in the transaction. A statement that fails aborts the transaction;
   * then each append of the group runs again alone, and gets its own answer. A connection lost
   * fails the whole group: whether it committed is unknown, and running it again could write
   * twice.
   */
  async function drain(): Promise<void> {
    draining = true;
    while (waiting.length > 0) {
      const group = waiting.splice(0, GROUP_LIMIT);
      const outcomes: ({ ok: AppendResult } | { rejected: unknown })[] = [];
      try {
        await transact(async (session) => {
          for (const [i, request] of group.entries()) {
            try {
              // The last one's write carries the COMMIT (one round trip less).
              outcomes.push({ ok: await appendIn(session, request, i === group.length - 1) });
            } catch (error) {
              // Refused in Node before any statement of its own was sent: the transaction holds.
              if (!(error instanceof ConcurrencyError || error instanceof IdempotencyConflictError))
                throw error;
              outcomes.push({ rejected: error });
            }
          }
        });
      } catch (error) {
        for (const request of group) {
          if (isConnectionLost(error)) request.reject(error);
          else transact((session) => appendIn(session, request, true)).then(request.resolve, request.reject);
        }
        continue;
      }
      for (const [i, request] of group.entries()) {
        const outcome = outcomes[i];
        if (outcome && "ok" in outcome) request.resolve(outcome.ok);
        else request.reject(outcome?.rejected);
      }
    }
    draining = false;
  }

  async function appendIn(
    session: AppendSession,
    request: WaitingAppend,
    commit: boolean,
  ): Promise<AppendResult> {
    const { appends, metadata, idempotency } = request;
    if (idempotency) {
      const earlier = await session.findIdempotent(idempotency);
      if (earlier) return { events: earlier, replayed: true };
    }
    const keyed = idempotency ? { ...metadata, idempotencyKey: idempotency.key } : metadata;
    return { events: await session.write(appends, keyed, idempotency, { commit }), replayed: false };
  }

  /**
   * Events from `fromPosition` (exclusive) to `toPosition` (inclusive), in batches: memory stays
   * bounded by the batch size.
   */
  async function* readAllBatches(
    fromPosition = 0,
    batchSize = READ_BATCH,
    toPosition = Number.MAX_SAFE_INTEGER,
    options: ReadOptions = {},
  ) {
    const hashes = options.hashes ?? true;
    const text = `SELECT ${hashes ? COLUMNS : COLUMNS_WITHOUT_HASHES} FROM ${tables.events}
                   WHERE position > $1 AND position <= $3 ORDER BY position LIMIT $2`;
    let after = fromPosition;
    for (;;) {
      const found = await pool.query({
        ...named(hashes ? "read-all" : "read-all-without-hashes"),
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

  /**
   * The chain as `verify` reads it: every hashed column in the text form the hash is taken over,
   * so nothing is parsed into a Date or a Buffer. recorded_at is cut to milliseconds as pg's
   * Date parsing cuts it (the chain hashes the Date the writer held); jsonb comes as text, for
   * the verifier to parse and write canonically.
   */
  async function* readChainBatches(fromPosition = 0, batchSize = READ_BATCH): AsyncGenerator<ChainRow[]> {
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

  /**
   * At most `limit` events after `after`, in position order, in one statement that gives up after
   * `timeoutMs`: what the change feed reads on every wake-up (a lost connection fails one read).
   */
  async function readAfter(after: number, limit: number, timeoutMs: number): Promise<StoredEvent[]> {
    const found = await pool.query({
      ...named("read-after"),
      text: `SELECT ${COLUMNS} FROM ${tables.events} WHERE position > $1 ORDER BY position LIMIT $2`,
      values: [after, limit],
      rowMode: "array",
      query_timeout: timeoutMs,
    } as pg.QueryConfig);
    return found.rows.map(toEvent);
  }

  async function* readAll(fromPosition = 0, batchSize = READ_BATCH): AsyncGenerator<StoredEvent> {
    for await (const batch of readAllBatches(fromPosition, batchSize)) yield* batch;
  }
}

function requestOf(append: StreamAppend) {
  return { streamId: append.streamId, events: append.events.map((e) => ({ type: e.type, data: e.data })) };
}

/** What identifies a request for idempotency: who asks and why, not when or under which update. */
function stableMetadata(metadata: Metadata) {
  return { actor: metadata.actor, reason: metadata.reason ?? null, forced: metadata.forced ?? false };
}

export function requestHash(request: unknown): Buffer {
  return createHash("sha256").update(canonicalJson(request)).digest();
}

/** An event row as `readChainBatches` reads it: the hashed fields as text. */
export type ChainRow = HashedText & { dataJson: string; metadataJson: string; hash: string };

function toChainRow(row: unknown[]): ChainRow {
  return {
    position: row[0] as number,
    streamId: row[1] as string,
    streamVersion: row[2] as number,
    eventId: row[3] as string,
    type: row[4] as string,
    schemaVersion: row[5] as number,
    dataJson: row[6] as string,
    metadataJson: row[7] as string,
    recordedAt: row[8] as string,
    prevHash: row[9] as string,
    hash: row[10] as string,
  };
}

function toEvent(row: unknown[]): StoredEvent {
  return {
    position: row[0] as number,
    streamId: row[1] as string,
    streamVersion: row[2] as number,
    eventId: row[3] as string,
    type: row[4] as string,
    schemaVersion: row[5] as number,
    data: row[6],
    metadata: row[7] as Metadata,
    recordedAt: row[8] as Date,
    prevHash: (row[9] as Buffer | undefined) ?? NO_HASH,
    hash: (row[10] as Buffer | undefined) ?? NO_HASH,
  };
}
