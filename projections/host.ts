import type { StoredEvent } from "../src/store/index.ts";
import type { Tables } from "../src/store/tables.ts";
import {
  actorOf,
  isOneOf,
  type LedgerProjection,
  ledgerEvents,
  planned,
  reasonOf,
} from "./ledger-projection.ts";

type Declaration = {
  apiVersion: string;
  dbSchemaVersion: string;
  position: number;
  at: Date;
  actor: string;
  reason: string | null;
};

/** The declared host as the domain's HostVersions (null before any declaration), in JSON. */
export const hostJson = (tables: Tables) =>
  `(SELECT json_build_object('apiVersion', api_version, 'dbSchemaVersion', db_schema_version)
      FROM ${tables.q("host")})`;

/**
 * host (the declared versions now) and host_history (every declaration as an interval, so
 * as-of answers the host too). A batch with declarations is one statement: close the
 * interval open before it, insert the batch's own, set the current row.
 */
/** The events this projection folds, live and in a rebuild. */
const HOST_EVENTS = ["HostVersionsDeclared"] as const;

export const host: LedgerProjection = planned({
  name: "host",
  tables: ["host", "host_history"],
  rebuild: { eventTypes: HOST_EVENTS },
  plan(events, tables, named) {
    const declarations = declarationsOf(events);
    const last = declarations[declarations.length - 1];
    if (last === undefined) return [];
    const first = declarations[0] as Declaration;
    const next = declarations.slice(1);
    const history = tables.q("host_history");
    return [
      {
        ...named("host"),
        // `opened` reads `closed` before it inserts anything, which makes the UPDATE run to the
        // end first: the unique index on the open interval must find the old one closed.
        text: `WITH closed AS (
               UPDATE ${history} SET to_position = $1, to_at = $2 WHERE to_position IS NULL
               RETURNING 1
             ), opened AS (
               INSERT INTO ${history}
                 (from_position, from_at, api_version, db_schema_version, actor, reason, to_position, to_at)
               SELECT * FROM unnest($3::bigint[], $4::timestamptz[], $5::text[], $6::text[], $7::jsonb[],
                                    $8::text[], $9::bigint[], $10::timestamptz[])
                WHERE (SELECT count(*) FROM closed) >= 0
             )
             INSERT INTO ${tables.q("host")} (singleton, api_version, db_schema_version, since_position, since_at)
             VALUES (true, $11, $12, $13, $14)
             ON CONFLICT (singleton) DO UPDATE
               SET api_version = EXCLUDED.api_version, db_schema_version = EXCLUDED.db_schema_version,
                   since_position = EXCLUDED.since_position, since_at = EXCLUDED.since_at`,
        values: [
          first.position,
          first.at.toISOString(),
          declarations.map((d) => d.position),
          declarations.map((d) => d.at.toISOString()),
          declarations.map((d) => d.apiVersion),
          declarations.map((d) => d.dbSchemaVersion),
          declarations.map((d) => d.actor),
          declarations.map((d) => d.reason),
          declarations.map((_, i) => next[i]?.position ?? null),
          declarations.map((_, i) => next[i]?.at.toISOString() ?? null),
          last.apiVersion,
          last.dbSchemaVersion,
          last.position,
          last.at.toISOString(),
        ],
      },
    ];
  },
});

function declarationsOf(events: StoredEvent[]): Declaration[] {
  const parsed = ledgerEvents(events);
  const declarations: Declaration[] = [];
  for (const [i, row] of events.entries()) {
    const event = parsed[i];
    if (!isOneOf(HOST_EVENTS, event)) continue;
    const { apiVersion, dbSchemaVersion } = event.data;
    declarations.push({
      apiVersion,
      dbSchemaVersion,
      position: row.position,
      at: row.recordedAt,
      actor: actorOf(row),
      reason: reasonOf(row),
    });
  }
  return declarations;
}
