import type pg from "pg";
import { type PluginState, previousOf } from "../src/domain/index.ts";
import type { Tables } from "../src/store/tables.ts";
import { CATALOG_ROW_JSON, type CatalogRow, versionStateOf } from "./catalog.ts";
import {
  ACTOR_SQL,
  endOpenRows,
  interned,
  type LedgerProjection,
  type PluginOf,
  planned,
  REASON_SQL,
} from "./ledger-projection.ts";
import { intervalsOf, transitionsOf } from "./transitions.ts";

/** An active_plugins row and its release (null when the catalog does not hold it). */
export type ActiveRow = { plugin_id: string; version: string; release: CatalogRow | null };

/**
 * The running versions of the plugins in the text[] parameter `namedParam` (those a command
 * names), with their releases, as a JSON array of ActiveRow.
 */
export const activesJson = (tables: Tables, namedParam: string) =>
  `(SELECT coalesce(json_agg(json_build_object('plugin_id', a.plugin_id, 'version', a.version,
                                              'release', CASE WHEN v.version IS NOT NULL
                                                              THEN ${CATALOG_ROW_JSON} END)), '[]')
     FROM ${tables.q("active_plugins")} a
     LEFT JOIN ${tables.q("plugin_versions")} v ON v.plugin_id = a.plugin_id AND v.version = a.version
    WHERE a.plugin_id = ANY(${namedParam}::text[]))`;

/**
 * Another plugin's running version and what `decide` reads of its release (domain README,
 * "Partial state"): plugin, version, then requires_api, requires_db_schema, compatible_with and
 * deprecated, all null when the catalog does not hold the release.
 */
export type RunningRow = [
  string,
  string,
  string | null,
  string | null,
  Record<string, string> | null,
  boolean | null,
];

/**
 * The running versions of every plugin not in `namedParam`, as a JSON array of RunningRow: with
 * 50 plugins running, whole catalog rows made the state load cost a command more than its write
 * (bench/README.md, measurements).
 */
export const runningJson = (tables: Tables, namedParam: string) =>
  `(SELECT coalesce(json_agg(json_build_array(a.plugin_id, a.version, v.requires_api, v.requires_db_schema,
                                             v.compatible_with, v.deprecated)), '[]')
     FROM ${tables.q("active_plugins")} a
     LEFT JOIN ${tables.q("plugin_versions")} v ON v.plugin_id = a.plugin_id AND v.version = a.version
    WHERE a.plugin_id <> ALL(${namedParam}::text[]))`;

/** What each plugin runs, and the release it runs. */
export function loadActives(rows: readonly ActiveRow[], plugin: PluginOf): void {
  for (const active of rows) {
    const running = plugin(active.plugin_id);
    running.active = active.version;
    if (active.release) running.versions[active.version] = versionStateOf(active.release);
  }
}

/**
 * What the other plugins run, and of their releases what `decide` reads of them; the fields it
 * does not read of another plugin's release are left empty.
 */
export function loadRunning(rows: readonly RunningRow[], plugin: PluginOf): void {
  for (const [pluginId, version, api, dbSchema, compatibleWith, deprecated] of rows) {
    const running = plugin(pluginId);
    running.active = version;
    // A whole row loaded for another reason stays whole.
    if (compatibleWith === null || running.versions[version] !== undefined) continue;
    running.versions[version] = {
      pluginId,
      version,
      buildDate: "",
      commitHash: null,
      author: "",
      requires: { api, dbSchema },
      compatibleWith,
      features: [],
      releaseNotes: "",
      deprecated: deprecated === true,
    };
  }
}

/**
 * The versions the last stops of plugin `pluginParam` ended, newest first, as a JSON array: its
 * last closed intervals, as many as the `limitParam` (evolve keeps PREVIOUS_LIMIT). Intervals of
 * a plugin follow one another, so the primary key (plugin_id, from_position) read backwards
 * gives them in the order of their ends.
 */
export const stopsJson = (tables: Tables, pluginParam: string, limitParam: string) =>
  `(SELECT coalesce(json_agg(version ORDER BY from_position DESC), '[]') FROM (
      SELECT version, from_position FROM ${tables.q("version_history")}
       WHERE plugin_id = ${pluginParam} AND to_position IS NOT NULL
       ORDER BY from_position DESC LIMIT ${limitParam}) AS p)`;

/** A plugin's last stops, and the version a rollback without a target goes back to. */
export function loadStops(stops: string[], rolling: PluginState): void {
  rolling.stops = stops;
  rolling.previous = previousOf(stops, rolling.active);
}

/**
 * version_history (one interval per activation, [from_position, to_position)) and
 * active_plugins (what each plugin runs now: its open interval, kept apart for the hot read).
 *
 * A batch is one statement whatever its size, in three parts:
 * - closed: each touched plugin's interval that was open before the batch ends at the
 *   plugin's first transition of the batch;
 * - opened: the batch's own intervals, already closed when a later event of the batch ended
 *   them;
 * - the upsert (and stopped): each plugin's last transition sets what it runs.
 *
 * The opened intervals, a row per transition, travel as one JSON array of arrays (see
 * catalog.ts); the rest is a row per touched plugin at most, in arrays.
 */
export const activations: LedgerProjection = planned({
  name: "activations",
  tables: ["version_history", "active_plugins"],
  plan(events, tables, named) {
    const transitions = transitionsOf(events);
    if (transitions.length === 0) return [];
    const { closing, opened, last } = intervalsOf(transitions);
    const running = last.filter((t) => t.version !== null);
    const actors = interned<string>();
    const reasons = interned<string | null>();
    const rows = opened.map(({ transition: t, closedBy }) => [
      t.pluginId,
      t.version,
      t.position,
      t.at.toISOString(),
      t.action,
      actors.ref(t.actor),
      reasons.ref(t.reason),
      closedBy?.position ?? null,
      closedBy?.at.toISOString() ?? null,
      closedBy?.action ?? null,
    ]);
    const history = tables.q("version_history");
    const active = tables.q("active_plugins");
    return [
      {
        ...named("activations"),
        // `opened` reads `closed` before it inserts anything, which makes the UPDATE run to the
        // end first: the unique index on open intervals must find the old ones closed. The
        // active_plugins parts touch disjoint plugins (a plugin's last transition either runs a
        // version or stops it), each plugin once, so their order does not matter.
        text: `WITH closed AS (
               ${endOpenRows({
                 table: history,
                 open: "to_position",
                 first: 1,
                 columns: [
                   ["plugin_id", "text"],
                   ["position", "bigint"],
                   ["at", "timestamptz"],
                   ["action", "text"],
                 ],
                 set: "to_position = c.position, to_at = c.at, closed_by = c.action",
               })}
             ), opened AS (
               INSERT INTO ${history}
                 (plugin_id, version, from_position, from_at, action, actor, reason, to_position, to_at, closed_by)
               SELECT r->>0, r->>1, (r->>2)::bigint, (r->>3)::timestamptz, r->>4,
                      ($6::jsonb[])[(r->>5)::int], ($7::text[])[(r->>6)::int],
                      (r->>7)::bigint, (r->>8)::timestamptz, r->>9
                 FROM jsonb_array_elements($5::jsonb) AS r
                WHERE (SELECT count(*) FROM closed) >= 0
             ), stopped AS (
               DELETE FROM ${active} WHERE plugin_id = ANY($12::text[])
             )
             INSERT INTO ${active} (plugin_id, version, since_position, since_at)
             SELECT * FROM unnest($8::text[], $9::text[], $10::bigint[], $11::timestamptz[])
             ON CONFLICT (plugin_id) DO UPDATE
               SET version = EXCLUDED.version, since_position = EXCLUDED.since_position,
                   since_at = EXCLUDED.since_at`,
        values: [
          closing.map((t) => t.pluginId),
          closing.map((t) => t.position),
          closing.map((t) => t.at.toISOString()),
          closing.map((t) => t.action),
          JSON.stringify(rows),
          actors.values,
          reasons.values,
          running.map((t) => t.pluginId),
          running.map((t) => t.version),
          running.map((t) => t.position),
          running.map((t) => t.at.toISOString()),
          last.filter((t) => t.version === null).map((t) => t.pluginId),
        ],
      },
    ];
  },
  rebuild: { statements: (tables, toPosition) => [rebuildActivations(tables, toPosition)] },
});

/**
 * Both tables in one statement, as the batches make them (see transitions.ts): each plugin's
 * transitions in position order, an interval per activation, ended by the plugin's next
 * transition (lead over the plugin's window); what a plugin runs is its last transition's version.
 */
function rebuildActivations(tables: Tables, toPosition: number): pg.QueryConfig {
  return {
    text: `WITH transitions AS (
             SELECT m.data->>'pluginId' AS plugin_id,
                    CASE m.type WHEN 'PluginRegistered' THEN m.data->>'version'
                                WHEN 'AbTestPromoted' THEN m.data->>'candidate'
                                WHEN 'PluginDeactivated' THEN NULL
                                ELSE m.data->>'to' END AS version,
                    CASE m.type WHEN 'PluginRegistered' THEN 'registered'
                                WHEN 'PluginUpgraded' THEN
                                  CASE WHEN m.data->>'direction' = 'down' THEN 'downgraded' ELSE 'upgraded' END
                                WHEN 'PluginRolledBack' THEN 'rolled_back'
                                WHEN 'AbTestPromoted' THEN 'promoted'
                                ELSE 'deactivated' END AS action,
                    m.position, m.recorded_at, ${ACTOR_SQL} AS actor, ${REASON_SQL} AS reason
               FROM ${tables.events} m
              WHERE m.position <= $1
                AND m.type IN ('PluginRegistered', 'PluginUpgraded', 'PluginRolledBack', 'AbTestPromoted',
                               'PluginDeactivated')
           ), intervals AS (
             SELECT t.*, lead(position) OVER next AS to_position, lead(recorded_at) OVER next AS to_at,
                    lead(action) OVER next AS closed_by
               FROM transitions t
             WINDOW next AS (PARTITION BY plugin_id ORDER BY position)
           ), history AS (
             INSERT INTO ${tables.q("version_history")}
               (plugin_id, version, from_position, from_at, action, actor, reason, to_position, to_at, closed_by)
             SELECT plugin_id, version, position, recorded_at, action, actor, reason, to_position, to_at, closed_by
               FROM intervals WHERE version IS NOT NULL
           )
           INSERT INTO ${tables.q("active_plugins")} (plugin_id, version, since_position, since_at)
           SELECT plugin_id, version, position, recorded_at
             FROM intervals WHERE to_position IS NULL AND version IS NOT NULL`,
    values: [toPosition],
  };
}
