import type pg from "pg";
import type { HostVersions } from "../domain/index.ts";
import type { Tables } from "../store/tables.ts";
import { byText } from "./catalog.ts";
import { inSnapshot } from "./snapshot.ts";

export type PluginStatus = {
  pluginId: string;
  version: string;
  /** When and at which position the plugin started running this version. */
  since: Date;
  sincePosition: number;
  /** The ab_tests projection comes with the A/B issue; until then no test is reported. */
  abTest: null;
};

/** What runs at one point of the ledger: now (`status`), or as of a position or a moment. */
export type StatusView = { position: number; host: HostVersions | null; plugins: PluginStatus[] };

type Queryable = pg.Pool | pg.PoolClient;
type StatusRow = { plugin_id: string; version: string; since_position: number; since_at: Date };
type HostRow = { api_version: string; db_schema_version: string };

export async function status(pool: pg.Pool, tables: Tables): Promise<StatusView> {
  return inSnapshot(pool, async (client) => {
    const position = await headPosition(client, tables);
    const host = await client.query<HostRow>(
      `SELECT api_version, db_schema_version FROM ${tables.q("host")}`,
    );
    const plugins = await client.query<StatusRow>(
      `SELECT plugin_id, version, since_position, since_at FROM ${tables.q("active_plugins")}`,
    );
    return statusView(position, host.rows[0], plugins.rows);
  });
}

export async function activeVersion(pool: pg.Pool, tables: Tables, pluginId: string): Promise<string | null> {
  const found = await pool.query<{ version: string }>({
    text: `SELECT version FROM ${tables.q("active_plugins")} WHERE plugin_id = $1`,
    values: [pluginId],
  });
  return found.rows[0]?.version ?? null;
}

/**
 * The status at a position, or at the last position recorded at or before a moment, read
 * from the interval tables by index: a probe per plugin, not a replay of the events.
 */
export async function asOf(pool: pg.Pool, tables: Tables, at: number | Date): Promise<StatusView> {
  return inSnapshot(pool, async (client) => {
    const position = await resolvePosition(client, tables, at);
    const host = await client.query<HostRow>({
      text: `SELECT api_version, db_schema_version FROM ${tables.q("host_history")}
              WHERE from_position <= $1 ORDER BY from_position DESC LIMIT 1`,
      values: [position],
    });
    const history = tables.q("version_history");
    // plugin_ids walks the primary key from one plugin id to the next (a loose index scan),
    // since PostgreSQL has no skip scan; for each plugin the last interval starting at or
    // before the position is found by one backward probe of the same key, and counts if it
    // was still open there.
    const plugins = await client.query<StatusRow>({
      text: `WITH RECURSIVE plugin_ids(plugin_id) AS (
               SELECT min(plugin_id) FROM ${history}
               UNION ALL
               SELECT (SELECT min(plugin_id) FROM ${history} WHERE plugin_id > p.plugin_id)
                 FROM plugin_ids p WHERE p.plugin_id IS NOT NULL
             )
             SELECT p.plugin_id, h.version, h.from_position AS since_position, h.from_at AS since_at
               FROM plugin_ids p
               CROSS JOIN LATERAL (
                 SELECT version, from_position, from_at, to_position FROM ${history} h
                  WHERE h.plugin_id = p.plugin_id AND h.from_position <= $1
                  ORDER BY h.from_position DESC LIMIT 1
               ) h
              WHERE h.to_position IS NULL OR h.to_position > $1`,
      values: [position],
    });
    return statusView(position, host.rows[0], plugins.rows);
  });
}

/**
 * A position as given (no further than the head), or the last position recorded at or before
 * a moment. recorded_at never decreases along positions (the append guarantees it), so the
 * newest event at or before the moment on the (recorded_at, position) index is that position.
 */
export async function resolvePosition(client: Queryable, tables: Tables, at: number | Date): Promise<number> {
  if (at instanceof Date) {
    if (Number.isNaN(at.getTime())) throw new RangeError("as-of needs a valid date");
    const found = await client.query<{ position: number }>({
      text: `SELECT position FROM ${tables.events} WHERE recorded_at <= $1
              ORDER BY recorded_at DESC, position DESC LIMIT 1`,
      values: [at],
    });
    return found.rows[0]?.position ?? 0;
  }
  if (!Number.isSafeInteger(at) || at < 0) {
    throw new RangeError(`as-of needs a position that is a whole number >= 0, not ${at}`);
  }
  return Math.min(at, await headPosition(client, tables));
}

export async function headPosition(client: Queryable, tables: Tables): Promise<number> {
  const found = await client.query<{ position: number }>(`SELECT position FROM ${tables.head}`);
  return found.rows[0]?.position ?? 0;
}

function statusView(position: number, host: HostRow | undefined, rows: StatusRow[]): StatusView {
  return {
    position,
    host: host ? { apiVersion: host.api_version, dbSchemaVersion: host.db_schema_version } : null,
    plugins: rows
      .map((row) => ({
        pluginId: row.plugin_id,
        version: row.version,
        since: row.since_at,
        sincePosition: row.since_position,
        abTest: null,
      }))
      .sort((a, b) => byText(a.pluginId, b.pluginId)),
  };
}
