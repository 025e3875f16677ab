import type pg from "pg";
import { isPluginId } from "../../domain/index.ts";
import type { Tables } from "../../store/tables.ts";
import {
  type LedgerPoint,
  type SegmentRow,
  type TimelineInterval,
  type TimelineWindow,
  timelineOf,
  type VersionRow,
} from "../../timeline/pieces.ts";

export type TimelineOptions = {
  /** A position or a moment; unset, each plugin's first interval. */
  from?: number | Date;
  /** A position or a moment; unset, now. */
  to?: number | Date;
};

/** The window as resolved (`from` null: unbounded) and the plugins' stretches in it. */
export type TimelineView = { from: LedgerPoint | null; to: LedgerPoint; items: TimelineInterval[] };

/**
 * Which versions the plugins ran in a window, A/B tests and their weights included, in the
 * order the plugins are given and then in position order. Read from the interval tables by
 * their keys, never by folding events: one statement resolves the window, then two read, per
 * plugin, the version intervals and the A/B segments (ab_test_segments, with their test), each
 * the one open at the window's start (a backward probe) and those starting inside it (a range
 * scan).
 *
 * No snapshot is needed across the two: interval rows are only ever inserted after the head
 * or closed, and the read takes nothing starting after the window's end, while an interval
 * closed after it (by an append in between) is clipped at the window's end just as an open one.
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
  const window = await resolveWindow(pool, tables, options, now);
  const from = window.from?.position ?? 0;
  const [versions, segments] = await Promise.all([
    versionRows(pool, tables, plugins, from, window.to.position),
    segmentRows(pool, tables, plugins, from, window.to.position),
  ]);
  const items = plugins.flatMap((pluginId) =>
    timelineOf(
      versions.filter((v) => v.pluginId === pluginId),
      segments.filter((s) => s.pluginId === pluginId),
      window,
    ),
  );
  return { from: window.from, to: window.to, items };
}

type WindowRow = { from_position: number | null; from_at: Date | null; to_position: number; to_at: Date };

/**
 * Both ends in one statement. A moment is the last position recorded at or before it (as in
 * as-of: recorded_at never decreases along positions, so the (recorded_at, position) index
 * answers by one backward probe); a moment past the last event and now is taken as the later
 * of the two, so that a pinned or skewed clock never ends a window before the last event.
 * A position is kept to the head, at its event's moment (position 0, before any event: the
 * first event's). An end left out is unbounded (from) or the head now (to).
 */
async function resolveWindow(
  pool: pg.Pool,
  tables: Tables,
  options: TimelineOptions,
  now: Date,
): Promise<TimelineWindow> {
  const events = tables.events;
  const values: unknown[] = [now];
  // Each end as SQL for what was given, so that no statement carries a branch it cannot take:
  // these statements are planned at every call (no prepared statements, see tables.ts).
  const end = (point: number | Date | undefined, unset: { position: string; at: string }) => {
    if (point === undefined) return unset;
    if (point instanceof Date) {
      if (Number.isNaN(point.getTime())) throw new RangeError("a window's end needs a valid date");
      values.push(point);
      const moment = `least($${values.length}::timestamptz, l.latest)`;
      return {
        position: `coalesce((SELECT position FROM ${events} WHERE recorded_at <= ${moment}
                              ORDER BY recorded_at DESC, position DESC LIMIT 1), 0)`,
        at: moment,
      };
    }
    if (!Number.isSafeInteger(point) || point < 0) {
      throw new RangeError(`a position is a whole number >= 0, not ${point}`);
    }
    values.push(point);
    const position = `least($${values.length}::bigint, h.position)`;
    return {
      position,
      at: `coalesce((SELECT recorded_at FROM ${events} WHERE position = ${position}),
                    (SELECT recorded_at FROM ${events} WHERE position = 1), l.latest)`,
    };
  };
  const from = end(options.from, { position: "NULL::bigint", at: "NULL::timestamptz" });
  const to = end(options.to, { position: "h.position", at: "l.latest" });
  const found = await pool.query<WindowRow>({
    text: `SELECT ${from.position} AS from_position, ${from.at} AS from_at,
                  ${to.position} AS to_position, ${to.at} AS to_at
             FROM ${tables.head} h
             CROSS JOIN LATERAL (
               SELECT greatest($1::timestamptz, (SELECT recorded_at FROM ${events} WHERE position = h.position))
                      AS latest
             ) l`,
    values,
  });
  const row = found.rows[0];
  if (row === undefined)
    throw new Error(`the ledger in schema "${tables.schema}" has no head row; run migrate`);
  const window: TimelineWindow = {
    from:
      row.from_position === null || row.from_at === null
        ? null
        : { position: row.from_position, at: row.from_at },
    to: { position: row.to_position, at: row.to_at },
  };
  if (window.from !== null && (window.from.position > window.to.position || window.from.at > window.to.at)) {
    const { from: f, to: t } = window;
    throw new RangeError(
      `the window starts (position ${f.position}, ${f.at.toISOString()}) after it ends (position ${t.position}, ${t.at.toISOString()})`,
    );
  }
  return window;
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
  pool: pg.Pool,
  tables: Tables,
  plugins: string[],
  from: number,
  to: number,
): Promise<VersionRow[]> {
  const history = tables.q("version_history");
  const columns = `plugin_id, version, action, actor, reason, from_position, from_at, to_position, to_at, closed_by`;
  const found = await pool.query<VersionDbRow>({
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

type SegmentDbRow = {
  test_id: string;
  plugin_id: string;
  from_position: number;
  from_at: Date;
  to_position: number | null;
  to_at: Date | null;
  candidate_weight_bp: number;
  actor: SegmentRow["actor"];
  reason: string | null;
  control: string;
  candidate: string;
  started_position: number;
  ended_position: number | null;
  outcome: "promoted" | "aborted" | null;
  ended_actor: SegmentRow["actor"] | null;
  ended_reason: string | null;
};

/**
 * The A/B segments bearing on positions [from, to], with their tests: the last one starting at
 * or before `from`, even if closed there (it tells whether an abort began the stretch at the
 * window's start), then those starting in (from, to]; both on ab_test_segments (plugin_id,
 * from_position). The actor and reason of a test's end are those of its ending event, read by
 * position.
 */
async function segmentRows(
  pool: pg.Pool,
  tables: Tables,
  plugins: string[],
  from: number,
  to: number,
): Promise<SegmentRow[]> {
  const segments = tables.q("ab_test_segments");
  const columns = `test_id, plugin_id, from_position, from_at, to_position, to_at, candidate_weight_bp, actor, reason`;
  const found = await pool.query<SegmentDbRow>({
    text: `SELECT s.*, t.control, t.candidate, t.started_position, t.ended_position, t.outcome,
                  e.metadata -> 'actor' AS ended_actor, e.metadata ->> 'reason' AS ended_reason
             FROM unnest($1::text[]) WITH ORDINALITY AS p(plugin_id, n)
             CROSS JOIN LATERAL (
               (SELECT ${columns} FROM ${segments}
                 WHERE plugin_id = p.plugin_id AND from_position <= $2
                 ORDER BY from_position DESC LIMIT 1)
               UNION ALL
               (SELECT ${columns} FROM ${segments}
                 WHERE plugin_id = p.plugin_id AND from_position > $2 AND from_position <= $3
                 ORDER BY from_position)
             ) s
             JOIN ${tables.q("ab_tests")} t ON t.test_id = s.test_id
             LEFT JOIN ${tables.events} e ON e.position = t.ended_position
            ORDER BY p.n, s.from_position`,
    values: [plugins, from, to],
  });
  return found.rows.map((row) => ({
    pluginId: row.plugin_id,
    testId: row.test_id,
    control: row.control,
    candidate: row.candidate,
    candidateWeightBp: row.candidate_weight_bp,
    startedPosition: row.started_position,
    actor: row.actor,
    reason: row.reason,
    from: { position: row.from_position, at: row.from_at },
    to: row.to_position === null || row.to_at === null ? null : { position: row.to_position, at: row.to_at },
    ended:
      row.ended_position === null || row.outcome === null
        ? null
        : {
            position: row.ended_position,
            outcome: row.outcome,
            actor: endedActor(row),
            reason: row.ended_reason,
          },
  }));
}

function endedActor(row: SegmentDbRow): SegmentRow["actor"] {
  // Events are never deleted (triggers refuse it), so the ending event is there.
  if (row.ended_actor === null) throw new Error(`the event that ended A/B test ${row.test_id} is missing`);
  return row.ended_actor;
}
