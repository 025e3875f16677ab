import type pg from "pg";
import semver from "semver";
import type { VersionReleasedData, VersionState } from "../src/domain/index.ts";
import type { StatementNamer, StoredEvent } from "../src/store/index.ts";
import type { Tables } from "../src/store/tables.ts";
import { type LedgerProjection, ledgerEvents, type PluginOf, planned } from "./ledger-projection.ts";

type Deprecation = { pluginId: string; version: string; reason: string; position: number; at: Date };
type Release = { data: VersionReleasedData; position: number; at: Date; deprecation: Deprecation | null };

/**
 * plugin_versions: the catalog. A batch is at most two statements, planned without a read: insert its releases (with
 * any deprecation of the same batch folded in), then mark the earlier releases it deprecates.
 */
export const catalog: LedgerProjection = planned({
  name: "catalog",
  tables: ["plugin_versions"],
  plan(events, tables, named) {
    const { releases, deprecations } = changesOf(events);
    const statements: pg.QueryConfig[] = [];
    if (releases.size > 0) statements.push(insertReleases(tables, named, [...releases.values()]));
    if (deprecations.size > 0) statements.push(markDeprecated(tables, named, [...deprecations.values()]));
    return statements;
  },
  rebuild: { statements: (tables, toPosition) => [rebuildCatalog(tables, toPosition)] },
});

/** A plugin_versions row, whether pg built it or CATALOG_ROW_JSON did (the two agree on these). */
export type CatalogRow = {
  plugin_id: string;
  version: string;
  build_date: string;
  commit_hash: string | null;
  author: string;
  requires_api: string | null;
  requires_db_schema: string | null;
  compatible_with: Record<string, string>;
  features: string[];
  release_notes: string;
  deprecated: boolean;
  deprecation_reason: string | null;
};

/** A CatalogRow as JSON, from a plugin_versions row aliased `v`: what a state load needs of it. */
export const CATALOG_ROW_JSON = `json_build_object('plugin_id', v.plugin_id, 'version', v.version,
  'build_date', v.build_date, 'commit_hash', v.commit_hash, 'author', v.author,
  'requires_api', v.requires_api, 'requires_db_schema', v.requires_db_schema,
  'compatible_with', v.compatible_with, 'features', v.features, 'release_notes', v.release_notes,
  'deprecated', v.deprecated, 'deprecation_reason', v.deprecation_reason)`;

/** The row as the domain's fold would hold it, so `decide` cannot tell a load from a fold. */
export function versionStateOf(row: CatalogRow): VersionState {
  const state: VersionState = {
    pluginId: row.plugin_id,
    version: row.version,
    buildDate: row.build_date,
    commitHash: row.commit_hash,
    author: row.author,
    requires: { api: row.requires_api, dbSchema: row.requires_db_schema },
    compatibleWith: row.compatible_with,
    features: row.features,
    releaseNotes: row.release_notes,
    deprecated: row.deprecated,
  };
  if (row.deprecated) state.deprecationReason = row.deprecation_reason ?? "";
  return state;
}

/** Every release of the plugins in the text[] parameter `plugins`, as a JSON array of CatalogRow. */
export const releasesJson = (tables: Tables, plugins: string) =>
  `(SELECT coalesce(json_agg(${CATALOG_ROW_JSON}), '[]') FROM ${tables.q("plugin_versions")} v
     WHERE v.plugin_id = ANY(${plugins}::text[]))`;

/**
 * The releases of the versions keyed by precedence (plugin, MAJOR, MINOR, PATCH, PRERELEASE:
 * whatever their build metadata) in five array parameters from `$first`, as a JSON array of CatalogRow.
 */
export function releasesByKeyJson(tables: Tables, first: number): string {
  const [p, major, minor, patch, pre] = [0, 1, 2, 3, 4].map((i) => `$${first + i}`);
  return `(SELECT coalesce(json_agg(${CATALOG_ROW_JSON}), '[]')
     FROM unnest(${p}::text[], ${major}::bigint[], ${minor}::bigint[], ${patch}::bigint[], ${pre}::text[])
          AS k(plugin_id, major, minor, patch, prerelease)
     JOIN ${tables.q("plugin_versions")} v ON v.plugin_id = k.plugin_id AND v.major = k.major AND v.minor = k.minor
                AND v.patch = k.patch AND v.prerelease IS NOT DISTINCT FROM k.prerelease)`;
}

/** The releases into their plugins' catalogs. */
export function loadReleases(rows: readonly CatalogRow[], plugin: PluginOf): void {
  for (const row of rows) plugin(row.plugin_id).versions[row.version] = versionStateOf(row);
}

/**
 * The whole catalog in one statement, as the batches make it: the last release of each version
 * (a release replaces what was known of it), with the last deprecation that follows it. The
 * precedence fields are the strict semver version's own parts (events hold only strict versions:
 * the rebuild validates each), cut with split_part: a regexp_match per release took the server
 * most of this statement's time (bench/README.md, measurements).
 */
function rebuildCatalog(tables: Tables, toPosition: number): pg.QueryConfig {
  return {
    text: `WITH released AS (
             SELECT DISTINCT ON (data->>'pluginId', data->>'version')
                    data->>'pluginId' AS plugin_id, data->>'version' AS version,
                    split_part(data->>'version', '+', 1) AS core, data, position, recorded_at
               FROM ${tables.events}
              WHERE type = 'VersionReleased' AND position <= $1
              ORDER BY data->>'pluginId', data->>'version', position DESC
           ), deprecated AS (
             SELECT DISTINCT ON (data->>'pluginId', data->>'version')
                    data->>'pluginId' AS plugin_id, data->>'version' AS version, data->>'reason' AS reason,
                    position, recorded_at
               FROM ${tables.events}
              WHERE type = 'VersionDeprecated' AND position <= $1
              ORDER BY data->>'pluginId', data->>'version', position DESC
           )
           INSERT INTO ${tables.q("plugin_versions")}
             (plugin_id, version, major, minor, patch, prerelease, build_date, commit_hash, author,
              requires_api, requires_db_schema, compatible_with, features, release_notes,
              released_position, released_at, deprecated, deprecation_reason, deprecated_position,
              deprecated_at)
           SELECT r.plugin_id, r.version, split_part(r.version, '.', 1)::bigint,
                  split_part(r.version, '.', 2)::bigint,
                  split_part(split_part(split_part(r.version, '.', 3), '-', 1), '+', 1)::bigint,
                  CASE WHEN strpos(r.core, '-') > 0 THEN substr(r.core, strpos(r.core, '-') + 1) END,
                  r.data->>'buildDate', r.data->>'commitHash', r.data->>'author',
                  r.data->'requires'->>'api', r.data->'requires'->>'dbSchema', r.data->'compatibleWith',
                  r.data->'features', r.data->>'releaseNotes', r.position, r.recorded_at,
                  d.position IS NOT NULL, d.reason, d.position, d.recorded_at
             FROM released r
             LEFT JOIN deprecated d
               ON d.plugin_id = r.plugin_id AND d.version = r.version AND d.position > r.position`,
    values: [toPosition],
  };
}

/** Keyed by plugin and exact version, so each statement touches a row at most once. */
function changesOf(events: StoredEvent[]) {
  const parsed = ledgerEvents(events);
  const releases = new Map<string, Release>();
  const deprecations = new Map<string, Deprecation>();
  for (const [i, row] of events.entries()) {
    const event = parsed[i];
    if (event === undefined) continue;
    if (event.type === "VersionReleased") {
      const key = `${event.data.pluginId}@${event.data.version}`;
      // As in evolve, a release replaces whatever was known of that exact version.
      releases.set(key, { data: event.data, position: row.position, at: row.recordedAt, deprecation: null });
      deprecations.delete(key);
    } else if (event.type === "VersionDeprecated") {
      const { pluginId, version, reason } = event.data;
      const key = `${pluginId}@${version}`;
      const deprecation = { pluginId, version, reason, position: row.position, at: row.recordedAt };
      const released = releases.get(key);
      if (released) released.deprecation = deprecation;
      else deprecations.set(key, deprecation);
    }
  }
  return { releases, deprecations };
}

/**
 * The rows travel as one JSON array of arrays, each in the order of the column list, read back
 * with jsonb_array_elements: PostgreSQL parses the document once into its binary form and then
 * picks each field by index, and the release's own JSON values (compatibleWith, features) go in
 * as they are. Nineteen text arrays cost more to escape in Node and to parse in PostgreSQL
 * than the insert itself.
 */
function insertReleases(tables: Tables, named: StatementNamer, releases: Release[]): pg.QueryConfig {
  const rows = releases.map(({ data: d, position, at, deprecation }) => {
    const parts = semver.parse(d.version) as semver.SemVer;
    return [
      d.pluginId,
      d.version,
      parts.major,
      parts.minor,
      parts.patch,
      parts.prerelease.length > 0 ? parts.prerelease.join(".") : null,
      d.buildDate,
      d.commitHash,
      d.author,
      d.requires.api,
      d.requires.dbSchema,
      d.compatibleWith,
      d.features,
      d.releaseNotes,
      position,
      at.toISOString(),
      deprecation?.reason ?? null,
      deprecation?.position ?? null,
      deprecation?.at.toISOString() ?? null,
    ];
  });
  // ON CONFLICT mirrors evolve, where a second release of a version replaces the first; the
  // rules never emit one (ALREADY), so this is parity with the fold, not a feature.
  return {
    ...named("catalog-releases"),
    text: `INSERT INTO ${tables.q("plugin_versions")}
             (plugin_id, version, major, minor, patch, prerelease, build_date, commit_hash, author,
              requires_api, requires_db_schema, compatible_with, features, release_notes,
              released_position, released_at, deprecated, deprecation_reason, deprecated_position,
              deprecated_at)
           SELECT r->>0, r->>1, (r->>2)::bigint, (r->>3)::bigint, (r->>4)::bigint, r->>5, r->>6, r->>7,
                  r->>8, r->>9, r->>10, r->11, r->12, r->>13, (r->>14)::bigint, (r->>15)::timestamptz,
                  r->>17 IS NOT NULL, r->>16, (r->>17)::bigint, (r->>18)::timestamptz
             FROM jsonb_array_elements($1::jsonb) AS r
           ON CONFLICT (plugin_id, version) DO UPDATE SET
             build_date = EXCLUDED.build_date, commit_hash = EXCLUDED.commit_hash,
             author = EXCLUDED.author, requires_api = EXCLUDED.requires_api,
             requires_db_schema = EXCLUDED.requires_db_schema,
             compatible_with = EXCLUDED.compatible_with, features = EXCLUDED.features,
             release_notes = EXCLUDED.release_notes, released_position = EXCLUDED.released_position,
             released_at = EXCLUDED.released_at, deprecated = EXCLUDED.deprecated,
             deprecation_reason = EXCLUDED.deprecation_reason,
             deprecated_position = EXCLUDED.deprecated_position, deprecated_at = EXCLUDED.deprecated_at`,
    values: [JSON.stringify(rows)],
  };
}

/** A deprecation of a version never released matches no row, as evolve ignores it. */
function markDeprecated(tables: Tables, named: StatementNamer, deprecations: Deprecation[]): pg.QueryConfig {
  const rows = deprecations.map((d) => [d.pluginId, d.version, d.reason, d.position, d.at.toISOString()]);
  return {
    ...named("catalog-deprecations"),
    text: `UPDATE ${tables.q("plugin_versions")} AS v
              SET deprecated = true, deprecation_reason = d->>2, deprecated_position = (d->>3)::bigint,
                  deprecated_at = (d->>4)::timestamptz
             FROM jsonb_array_elements($1::jsonb) AS d
            WHERE v.plugin_id = d->>0 AND v.version = d->>1`,
    values: [JSON.stringify(rows)],
  };
}
