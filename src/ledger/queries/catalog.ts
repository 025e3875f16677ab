import type pg from "pg";
import { CATALOG_ROW_JSON, type CatalogRow, versionStateOf } from "../../../projections/catalog.ts";
import { hostJson } from "../../../projections/host.ts";
import { requirementViolations } from "../../domain/compatibility.ts";
import {
  compareVersions,
  type DiffResult,
  type HostVersions,
  satisfiesRange,
  type VersionState,
  type Violation,
  versionDiff,
} from "../../domain/index.ts";
import type { Tables } from "../../store/tables.ts";
import { inSnapshot } from "./snapshot.ts";

export type CatalogEntry = VersionState & {
  releasedPosition: number;
  releasedAt: Date;
  deprecatedPosition: number | null;
  deprecatedAt: Date | null;
};

type CatalogDbRow = CatalogRow & {
  released_position: number;
  released_at: Date;
  deprecated_position: number | null;
  deprecated_at: Date | null;
};

/** A plugin's releases in ascending semver precedence. */
export async function versions(
  pool: pg.Pool | pg.PoolClient,
  tables: Tables,
  pluginId: string,
): Promise<CatalogEntry[]> {
  // SQL orders by the numeric parts; semver then settles prereleases of one MAJOR.MINOR.PATCH,
  // whose numeric identifiers ("rc.10" after "rc.9") SQL cannot compare.
  const found = await pool.query<CatalogDbRow>({
    text: `SELECT * FROM ${tables.q("plugin_versions")} WHERE plugin_id = $1
           ORDER BY major, minor, patch, prerelease IS NULL`,
    values: [pluginId],
  });
  return found.rows
    .map((row) => ({
      ...versionStateOf(row),
      releasedPosition: row.released_position,
      releasedAt: row.released_at,
      deprecatedPosition: row.deprecated_position,
      deprecatedAt: row.deprecated_at,
    }))
    .sort((a, b) => compareVersions(a.version, b.version));
}

/** What changes from one released version of a plugin to another, against the declared host. */
export function diff(
  pool: pg.Pool,
  tables: Tables,
  pluginId: string,
  from: string,
  to: string,
): Promise<DiffResult> {
  return inSnapshot(pool, async (client) => {
    const entries = await versions(client, tables, pluginId);
    const found = await client.query<{ host: HostVersions | null }>(`SELECT ${hostJson(tables)} AS host`);
    return versionDiff(pluginId, from, to, entries, found.rows[0]?.host ?? null);
  });
}

/** One declared `compatibleWith` range of one release, against what runs now. */
export type MatrixItem = {
  pluginId: string;
  version: string;
  active: boolean;
  deprecated: boolean;
  otherPluginId: string;
  range: string;
  otherActiveVersion: string | null;
  /** Whether the other plugin's running version is in range; null when it does not run. */
  satisfied: boolean | null;
};

export type MatrixView = { items: MatrixItem[]; consistent: boolean; violations: Violation[] };

type MatrixRow = Omit<MatrixItem, "satisfied">;
type ActiveRelease = { host: HostVersions | null; releases: CatalogRow[] | null };

/**
 * Every declared compatibility range of every release, and whether the running set honours
 * them: each range an active release declares against another active plugin, and each
 * active release's host requirements.
 */
export async function matrix(pool: pg.Pool, tables: Tables): Promise<MatrixView> {
  const [rows, running] = await inSnapshot(pool, async (client) => {
    const items = await client.query<MatrixRow>({
      text: `SELECT v.plugin_id AS "pluginId", v.version, v.deprecated,
                    coalesce(a.version = v.version, false) AS active,
                    c.key AS "otherPluginId", c.value AS range, o.version AS "otherActiveVersion"
               FROM ${tables.q("plugin_versions")} v
               CROSS JOIN LATERAL jsonb_each_text(v.compatible_with) AS c
               LEFT JOIN ${tables.q("active_plugins")} a ON a.plugin_id = v.plugin_id
               LEFT JOIN ${tables.q("active_plugins")} o ON o.plugin_id = c.key
              WHERE v.compatible_with <> '{}'::jsonb`,
    });
    const actives = await client.query<ActiveRelease>({
      text: `SELECT ${hostJson(tables)} AS host,
                    (SELECT json_agg(${CATALOG_ROW_JSON})
                       FROM ${tables.q("active_plugins")} a
                       JOIN ${tables.q("plugin_versions")} v USING (plugin_id, version)) AS releases`,
    });
    return [items.rows, actives.rows[0] as ActiveRelease] as const;
  });
  const items = rows
    .map((row) => ({
      ...row,
      satisfied: row.otherActiveVersion === null ? null : satisfiesRange(row.otherActiveVersion, row.range),
    }))
    .sort(
      (a, b) =>
        byText(a.pluginId, b.pluginId) ||
        compareVersions(a.version, b.version) ||
        byText(a.otherPluginId, b.otherPluginId),
    );
  const violations: Violation[] = items
    .filter((item) => item.active && item.satisfied === false)
    .map((item) => ({
      code: "MATRIX_CONFLICT",
      message: `Plugin ${item.pluginId} ${item.version} requires ${item.otherPluginId} in range ${item.range}, but ${item.otherPluginId} ${item.otherActiveVersion} is active.`,
    }));
  for (const release of running.releases ?? []) {
    violations.push(...requirementViolations(release.plugin_id, versionStateOf(release), running.host));
  }
  return { items, consistent: violations.length === 0, violations };
}

/** Code-unit order, as JavaScript compares strings: the database's collation may differ. */
export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
