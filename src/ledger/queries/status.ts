import type pg from "pg";
import { type HostVersions, percentOf } from "../../domain/index.ts";
import type { Tables } from "../../store/tables.ts";
import { byText } from "./catalog.ts";
import { inSnapshot } from "./snapshot.ts";

export type PluginStatus = {
  pluginId: string;
  version: string;
  /** When and at which position the plugin started running this version. */
  since: Date;
  sincePosition: number;
  /** The running version was deprecated then: it runs, but should not (an operator acts on it). */
  deprecated: boolean;
  /** The A/B test running on the plugin then, or null. */
  abTest: AbTestStatus | null;
};

/** A running A/B test: the active version is its control. */
export type AbTestStatus = {
  testId: string;
  control: string;
  candidate: string;
  /**
   * The test's own salt: a unit's bucket is murmur3(`salt:unitKey`) mod 10000, so a host that
   * has the salt and the weight assigns units itself (DESIGN.md "A/B assignment").
   */
  salt: string;
  /** The split in force, in basis points (1..9999) and as a percentage (12.5). */
  candidateWeightBp: number;
  candidatePercent: number;
  /** When and at which position the test started. */
  since: Date;
  sincePosition: number;
};

/** What runs at one point of the ledger: now (`status`), or as of a position or a moment. */
export type StatusView = { position: number; host: HostVersions | null; plugins: PluginStatus[] };

type Queryable = pg.Pool | pg.PoolClient;
type StatusRow = {
  plugin_id: string;
  version: string;
  since_position: number;
  since_at: Date;
  deprecated: boolean;
  /** The running test's columns, all null when none runs. */
  test_id: string | null;
  control: string | null;
  candidate: string | null;
  salt: string | null;
  candidate_weight_bp: number | null;
  started_position: number | null;
  started_at: Date | null;
};

/** What a status row says of its test: the same columns for now and for as-of. */
const TEST_COLUMNS = `t.test_id, t.control, t.candidate, t.salt, s.candidate_weight_bp, t.started_position, t.started_at`;
type HostRow = { api_version: string; db_schema_version: string };

export async function status(pool: pg.Pool, tables: Tables): Promise<StatusView> {
  return inSnapshot(pool, async (client) => {
    const position = await headPosition(client, tables);
    const host = await client.query<HostRow>(
      `SELECT api_version, db_schema_version FROM ${tables.q("host")}`,
    );
    // The running test of each plugin is its row with no end, and the test's weight now is its
    // open segment: both found through their partial unique indexes.
    const plugins = await client.query<StatusRow>(
      `SELECT a.plugin_id, a.version, a.since_position, a.since_at, coalesce(v.deprecated, false) AS deprecated,
              ${TEST_COLUMNS}
         FROM ${tables.q("active_plugins")} a
         LEFT JOIN ${tables.q("plugin_versions")} v ON v.plugin_id = a.plugin_id AND v.version = a.version
         LEFT JOIN ${tables.q("ab_tests")} t ON t.plugin_id = a.plugin_id AND t.ended_position IS NULL
         LEFT JOIN ${tables.q("ab_test_segments")} s ON s.test_id = t.test_id AND s.to_position IS NULL`,
    );
    return statusView(position, host.rows[0], plugins.rows);
  });
}

/**
 * One plugin as `status` shows it, with the head it was read at: one statement, so the plugin,
 * its test and the position are one snapshot (and the HTTP API's ETag is the answer's own).
 * `plugin` is null when the plugin does not run.
 */
export async function pluginStatus(
  pool: pg.Pool,
  tables: Tables,
  pluginId: string,
): Promise<{ position: number; plugin: PluginStatus | null }> {
  const found = await pool.query<StatusRow & { head: number }>({
    text: `SELECT head.position AS head, a.plugin_id, a.version, a.since_position, a.since_at,
                  coalesce(v.deprecated, false) AS deprecated, ${TEST_COLUMNS}
             FROM (SELECT coalesce((SELECT position FROM ${tables.head}), 0) AS position) head
             LEFT JOIN ${tables.q("active_plugins")} a ON a.plugin_id = $1
             LEFT JOIN ${tables.q("plugin_versions")} v ON v.plugin_id = a.plugin_id AND v.version = a.version
             LEFT JOIN ${tables.q("ab_tests")} t ON t.plugin_id = a.plugin_id AND t.ended_position IS NULL
             LEFT JOIN ${tables.q("ab_test_segments")} s ON s.test_id = t.test_id AND s.to_position IS NULL`,
    values: [pluginId],
  });
  const row = found.rows[0];
  if (row === undefined) return { position: 0, plugin: null };
  const view = statusView(row.head, undefined, row.plugin_id === null ? [] : [row]);
  return { position: row.head, plugin: view.plugins[0] ?? null };
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
    // was still open there. The plugin's A/B test then is found the same way on
    // ab_tests (plugin_id, started_position), and its weight then on the segments' primary key.
    const plugins = await client.query<StatusRow>({
      text: `WITH RECURSIVE plugin_ids(plugin_id) AS (
               SELECT min(plugin_id) FROM ${history}
               UNION ALL
               SELECT (SELECT min(plugin_id) FROM ${history} WHERE plugin_id > p.plugin_id)
                 FROM plugin_ids p WHERE p.plugin_id IS NOT NULL
             )
             SELECT p.plugin_id, h.version, h.from_position AS since_position, h.from_at AS since_at,
                    coalesce(v.deprecated_position <= $1, false) AS deprecated, ${TEST_COLUMNS}
               FROM plugin_ids p
               CROSS JOIN LATERAL (
                 SELECT version, from_position, from_at, to_position FROM ${history} h
                  WHERE h.plugin_id = p.plugin_id AND h.from_position <= $1
                  ORDER BY h.from_position DESC LIMIT 1
               ) h
               LEFT JOIN ${tables.q("plugin_versions")} v ON v.plugin_id = p.plugin_id AND v.version = h.version
               LEFT JOIN LATERAL (
                 SELECT test_id, control, candidate, salt, started_position, started_at, ended_position
                   FROM ${tables.q("ab_tests")} t
                  WHERE t.plugin_id = p.plugin_id AND t.started_position <= $1
                  ORDER BY t.started_position DESC LIMIT 1
               ) t ON t.ended_position IS NULL OR t.ended_position > $1
               LEFT JOIN LATERAL (
                 SELECT candidate_weight_bp FROM ${tables.q("ab_test_segments")} s
                  WHERE s.test_id = t.test_id AND s.from_position <= $1
                  ORDER BY s.from_position DESC LIMIT 1
               ) s ON true
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
        deprecated: row.deprecated,
        abTest: abTestOf(row),
      }))
      .sort((a, b) => byText(a.pluginId, b.pluginId)),
  };
}

function abTestOf(row: StatusRow): AbTestStatus | null {
  const { test_id, control, candidate, salt, candidate_weight_bp, started_position, started_at } = row;
  if (test_id === null || control === null || candidate === null || salt === null) return null;
  if (candidate_weight_bp === null || started_position === null || started_at === null) return null;
  return abTestStatus(
    { testId: test_id, control, candidate, salt, candidateWeightBp: candidate_weight_bp },
    { position: started_position, at: started_at },
  );
}

/** The one way both as-of and replay spell a running test. */
export function abTestStatus(
  test: { testId: string; control: string; candidate: string; salt: string; candidateWeightBp: number },
  started: { position: number; at: Date },
): AbTestStatus {
  return {
    testId: test.testId,
    control: test.control,
    candidate: test.candidate,
    salt: test.salt,
    candidateWeightBp: test.candidateWeightBp,
    candidatePercent: percentOf(test.candidateWeightBp),
    since: started.at,
    sincePosition: started.position,
  };
}
