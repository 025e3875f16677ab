import { createHash, randomUUID } from "node:crypto";
import type pg from "pg";
import type { AppendSession } from "./append-session.ts";
import { ConcurrencyError } from "./errors.ts";
import {
  COLUMNS,
  type Idempotency,
  type Metadata,
  type StatementNamer,
  type StoredEvent,
  type StreamAppend,
} from "./event-rows.ts";
import { canonicalJson, eventHashOfJson, GENESIS_HASH } from "./hash-chain.ts";
import { checkpointsUpsert } from "./projection-checkpoints.ts";
import type { Tables } from "./tables.ts";

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

/** The ledger an append writes to, and what goes with every append there. */
export type AppendTarget = {
  tables: Tables;
  named: StatementNamer;
  /** Whether `named` names statements (prepared once per connection). */
  prepared: boolean;
  projections: readonly InlineProjection[];
  /** Tests only: `recorded_at` from this instead of the database's clock (see EventStoreOptions). */
  pinnedTime?: (() => Date) | undefined;
};

/** An append's rows, chained to the head, with the canonical JSON their hashes were taken over. */
export type ChainedRows = {
  rows: StoredEvent[];
  dataJson: string[];
  metadataJson: string;
  /** Each stream's version after the append. */
  versions: Map<string, number>;
};

/** What an idempotency key records of its request: the sha256 of the request's canonical JSON. */
export function requestHash(request: unknown): Buffer {
  return createHash("sha256").update(canonicalJson(request)).digest();
}

/** Current versions of many streams in one round trip (an import touches dozens). */
async function lookUpVersions(target: AppendTarget, session: AppendSession, streamIds: string[]) {
  const found = await session.client.query({
    text: `SELECT s, (SELECT coalesce(max(stream_version), 0) FROM ${target.tables.events} WHERE stream_id = s)
             FROM unnest($1::text[]) AS s`,
    values: [streamIds],
    rowMode: "array",
  });
  for (const row of found.rows) session.knownVersions.set(row[0] as string, row[1] as number);
}

export async function buildRows(
  target: AppendTarget,
  session: AppendSession,
  appends: StreamAppend[],
  metadata: Metadata,
): Promise<ChainedRows> {
  if (appends.every((a) => a.events.length === 0)) throw new Error("an append needs at least one event");
  // recorded_at is the database's clock, read under the head lock, and never goes backwards
  // along positions even if that clock does (a server's clock set back): as-of-time reads
  // rely on it.
  const now = target.pinnedTime?.() ?? session.databaseTime;
  const recordedAt = session.head.recordedAt && session.head.recordedAt > now ? session.head.recordedAt : now;
  const unknown = [...new Set(appends.map((a) => a.streamId))].filter((id) => !session.knownVersions.has(id));
  if (unknown.length > 1) await lookUpVersions(target, session, unknown);
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
 * picked by index, each event's data already jsonb), rather than through json_to_recordset,
 * which re-scans the text of each object and converts its data again.
 */
export async function insertRows(
  target: AppendTarget,
  client: pg.PoolClient,
  { rows, dataJson, metadataJson }: ChainedRows,
  idempotency?: Idempotency,
) {
  const { tables } = target;
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
    ...target.named("insert"),
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
        ${checkpointsUpsert(tables, "$9", "$4")}
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
      target.projections.map((p) => p.name),
      tables.channel,
    ],
  });
}
