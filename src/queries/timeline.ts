import type pg from "pg";
import { isPluginId } from "../domain/index.ts";
import type { Tables } from "../store/tables.ts";
import { inSnapshot } from "./snapshot.ts";
import { headPosition, resolvePosition } from "./status.ts";
import {
  type LedgerPoint,
  type SegmentRow,
  type TimelineInterval,
  type TimelineWindow,
  timelineOf,
  type VersionRow,
} from "./timeline-pieces.ts";

export type TimelineOptions = {
  /** A position or a moment; unset, each plugin's first interval. */
  from?: number | Date;
  /** A position or a moment; unset, now. */
  to?: number | Date;
};

/** The window as resolved (`from` null: unbounded) and the plugins' stretches in it. */
export type TimelineView = { from: LedgerPoint | null; to: LedgerPoint; items: TimelineInterval[] };

type Queryable = pg.Pool | pg.PoolClient;

/**
 * Which versions the plugins ran in a window, A/B tests and their weights included, in the
 * order the plugins are given and then in position order. Read from the interval tables by
 * their keys, never by folding events: per plugin, one backward probe for the interval open at
 * the window's start and one range scan for those starting inside it.
 */
export async function timeline(
  pool: pg.Pool,
  tables: Tables,
  pluginIds: readonly string[],
  options: TimelineOptions,
  now: Date,
): Promise<TimelineView> {
  const plugins = [...new Set(pluginIds)];
  if (plugins.length === 0) throw new RangeError("a timeline needs at least one plugin");
  const invalid = plugins.find((p) => !isPluginId(p));
  if (invalid !== undefined) throw new RangeError(`"${invalid}" is not a plugin id`);
  return inSnapshot(pool, async (client) => {
    const window = await resolveWindow(client, tables, options, now);
    const from = window.from?.position ?? 0;
    const versions = await versionRows(client, tables, plugins, from, window.to.position);
    const items = plugins.flatMap((pluginId) =>
      timelineOf(
        versions.filter((v) => v.pluginId === pluginId),
        [] as SegmentRow[],
        window,
      ),
    );
    return { from: window.from, to: window.to, items };
  });
}

async function resolveWindow(
  client: Queryable,
  tables: Tables,
  options: TimelineOptions,
  now: Date,
): Promise<TimelineWindow> {
  const head = await headPosition(client, tables);
  const headAt = await recordedAt(client, tables, head);
  // A pinned or skewed clock must not end the window before the last event.
  const latest = headAt !== null && headAt > now ? headAt : now;
  const pointOf = async (at: number | Date): Promise<LedgerPoint> => {
    if (at instanceof Date) {
      const moment = at > latest ? latest : at;
      return { position: await resolvePosition(client, tables, moment), at: moment };
    }
    const position = await resolvePosition(client, tables, at);
    return { position, at: (await recordedAt(client, tables, position)) ?? (await firstAt()) ?? latest };
  };
  // Position 0 is before the first event: its moment is taken as the first event's.
  const firstAt = () => recordedAt(client, tables, 1);
  const to = options.to === undefined ? { position: head, at: latest } : await pointOf(options.to);
  const from = options.from === undefined ? null : await pointOf(options.from);
  if (from !== null && (from.position > to.position || from.at > to.at)) {
    throw new RangeError(
      `the window starts (position ${from.position}, ${from.at.toISOString()}) after it ends (position ${to.position}, ${to.at.toISOString()})`,
    );
  }
  return { from, to };
}

async function recordedAt(client: Queryable, tables: Tables, position: number): Promise<Date | null> {
  if (position === 0) return null;
  const found = await client.query<{ recorded_at: Date }>({
    text: `SELECT recorded_at FROM ${tables.events} WHERE position = $1`,
    values: [position],
  });
  return found.rows[0]?.recorded_at ?? null;
}

type VersionDbRow = {
  plugin_id: string;
  version: string;
  action: VersionRow["action"];
  actor: VersionRow["actor"];
  reason: string | null;
  from_position: number;
  from_at: Date;
  to_position: number | null;
  to_at: Date | null;
  closed_by: VersionRow["closedBy"];
};

/**
 * The intervals overlapping positions [from, to]: the last one starting at or before `from`
 * (kept if still open there), then those starting in (from, to]; both on the primary key
 * (plugin_id, from_position), so the cost follows the window, not the plugin's history.
 */
async function versionRows(
  client: Queryable,
  tables: Tables,
  plugins: string[],
  from: number,
  to: number,
): Promise<VersionRow[]> {
  const history = tables.q("version_history");
  const columns = `plugin_id, version, action, actor, reason, from_position, from_at, to_position, to_at, closed_by`;
  const found = await client.query<VersionDbRow>({
    text: `SELECT h.* FROM unnest($1::text[]) WITH ORDINALITY AS p(plugin_id, n)
           CROSS JOIN LATERAL (
             (SELECT ${columns} FROM ${history}
               WHERE plugin_id = p.plugin_id AND from_position <= $2
               ORDER BY from_position DESC LIMIT 1)
             UNION ALL
             (SELECT ${columns} FROM ${history}
               WHERE plugin_id = p.plugin_id AND from_position > $2 AND from_position <= $3
               ORDER BY from_position)
           ) h
           WHERE h.to_position IS NULL OR h.to_position > $2
           ORDER BY p.n, h.from_position`,
    values: [plugins, from, to],
  });
  return found.rows.map((row) => ({
    pluginId: row.plugin_id,
    version: row.version,
    action: row.action,
    actor: row.actor,
    reason: row.reason,
    from: { position: row.from_position, at: row.from_at },
    to: row.to_position === null || row.to_at === null ? null : { position: row.to_position, at: row.to_at },
    closedBy: row.closed_by,
  }));
}
