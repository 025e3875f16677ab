import type pg from "pg";
import semver from "semver";
import type { VersionReleasedData } from "../src/domain/index.ts";
import type { StatementNamer, StoredEvent } from "../src/store/index.ts";
import type { Tables } from "../src/store/tables.ts";
import { type LedgerProjection, ledgerEvents } from "./ledger-projection.ts";

type Deprecation = { pluginId: string; version: string; reason: string; position: number; at: Date };
type Release = { data: VersionReleasedData; position: number; at: Date; deprecation: Deprecation | null };

/**
 * plugin_versions: the catalog. A batch is at most two statements: insert its releases (with
 * any deprecation of the same batch folded in), then mark the earlier releases it deprecates.
 */
export const catalog: LedgerProjection = {
  name: "catalog",
  tables: ["plugin_versions"],
  async apply(client, events, tables, named) {
    const { releases, deprecations } = changesOf(events);
    if (releases.size > 0) await insertReleases(client, tables, named, [...releases.values()]);
    if (deprecations.size > 0) await markDeprecated(client, tables, named, [...deprecations.values()]);
  },
};

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

async function insertReleases(
  client: pg.PoolClient,
  tables: Tables,
  named: StatementNamer,
  releases: Release[],
) {
  const data = releases.map((r) => r.data);
  const parts = data.map((d) => semver.parse(d.version) as semver.SemVer);
  const deprecations = releases.map((r) => r.deprecation);
  // ON CONFLICT mirrors evolve, where a second release of a version replaces the first; the
  // rules never emit one (ALREADY), so this is parity with the fold, not a feature.
  await client.query({
    ...named("catalog-releases"),
    text: `INSERT INTO ${tables.q("plugin_versions")}
             (plugin_id, version, major, minor, patch, prerelease, build_date, commit_hash, author,
              requires_api, requires_db_schema, compatible_with, features, release_notes,
              released_position, released_at, deprecated, deprecation_reason, deprecated_position,
              deprecated_at)
           SELECT p, v, ma, mi, pa, pre, bd, ch, au, ra, rd, cw, fe, rn, rp, ra_at, dp IS NOT NULL, dr, dp, da
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::jsonb[],
                         $13::jsonb[], $14::text[], $15::bigint[], $16::timestamptz[], $17::text[],
                         $18::bigint[], $19::timestamptz[])
                  AS r(p, v, ma, mi, pa, pre, bd, ch, au, ra, rd, cw, fe, rn, rp, ra_at, dr, dp, da)
           ON CONFLICT (plugin_id, version) DO UPDATE SET
             build_date = EXCLUDED.build_date, commit_hash = EXCLUDED.commit_hash,
             author = EXCLUDED.author, requires_api = EXCLUDED.requires_api,
             requires_db_schema = EXCLUDED.requires_db_schema,
             compatible_with = EXCLUDED.compatible_with, features = EXCLUDED.features,
             release_notes = EXCLUDED.release_notes, released_position = EXCLUDED.released_position,
             released_at = EXCLUDED.released_at, deprecated = EXCLUDED.deprecated,
             deprecation_reason = EXCLUDED.deprecation_reason,
             deprecated_position = EXCLUDED.deprecated_position, deprecated_at = EXCLUDED.deprecated_at`,
    values: [
      data.map((d) => d.pluginId),
      data.map((d) => d.version),
      parts.map((p) => p.major),
      parts.map((p) => p.minor),
      parts.map((p) => p.patch),
      parts.map((p) => (p.prerelease.length > 0 ? p.prerelease.join(".") : null)),
      data.map((d) => d.buildDate),
      data.map((d) => d.commitHash),
      data.map((d) => d.author),
      data.map((d) => d.requires.api),
      data.map((d) => d.requires.dbSchema),
      data.map((d) => JSON.stringify(d.compatibleWith)),
      data.map((d) => JSON.stringify(d.features)),
      data.map((d) => d.releaseNotes),
      releases.map((r) => r.position),
      releases.map((r) => r.at.toISOString()),
      deprecations.map((d) => d?.reason ?? null),
      deprecations.map((d) => d?.position ?? null),
      deprecations.map((d) => d?.at.toISOString() ?? null),
    ],
  });
}

/** A deprecation of a version never released matches no row, as evolve ignores it. */
async function markDeprecated(
  client: pg.PoolClient,
  tables: Tables,
  named: StatementNamer,
  deprecations: Deprecation[],
) {
  await client.query({
    ...named("catalog-deprecations"),
    text: `UPDATE ${tables.q("plugin_versions")} AS v
              SET deprecated = true, deprecation_reason = d.reason, deprecated_position = d.position,
                  deprecated_at = d.at
             FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[])
                  AS d(plugin_id, version, reason, position, at)
            WHERE v.plugin_id = d.plugin_id AND v.version = d.version`,
    values: [
      deprecations.map((d) => d.pluginId),
      deprecations.map((d) => d.version),
      deprecations.map((d) => d.reason),
      deprecations.map((d) => d.position),
      deprecations.map((d) => d.at.toISOString()),
    ],
  });
}
