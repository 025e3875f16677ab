import type pg from "pg";
import type { Tables } from "../../store/tables.ts";
import { checkWindowEnd, checkWindowOrder, timelinePlugins } from "../../timeline/arguments.ts";
import type {
  Actor,
  LedgerPoint,
  SegmentRow,
  TimelineView,
  TimelineWindow,
  VersionRow,
} from "../../timeline/pieces.ts";
import { timelinesOf } from "../../timeline/pieces.ts";

export type { TimelineView } from "../../timeline/pieces.ts";

export type TimelineOptions = {
  /** A position or a moment; unset, each plugin's first interval. */
  from?: number | Date;
  /** A position or a moment; unset, now. */
  to?: number | Date;
};

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
  const plugins = timelinePlugins(pluginIds);
  const window = await resolveWindow(pool, tables, options, now);
  const read: WindowRead = {
    pool,
    tables,
    plugins,
    from: window.from?.position ?? 0,
    to: window.to.position,
  };
  const [versions, segments] = await Promise.all([versionRows(read), segmentRows(read)]);
  return { from: window.from, to: window.to, items: timelinesOf(plugins, versions, segments, window) };
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
    checkWindowEnd(point);
    if (point instanceof Date) {
      values.push(point);
      const moment = `least($${values.length}::timestamptz, l.latest)`;
      return {
        position: `coalesce((SELECT position FROM ${events} WHERE recorded_at <= ${moment}
                              ORDER BY recorded_at DESC, position DESC LIMIT 1), 0)`,
        at: moment,
      };
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
  return checkWindowOrder({
    from: pointOf(row.from_position, row.from_at),
    to: { position: row.to_position, at: row.to_at },
  });
}

/** What both interval reads take: the plugins, and the window's positions [from, to]. */
type WindowRead = { pool: pg.Pool; tables: Tables; plugins: string[]; from: number; to: number };

/**
 * The rows of `table` (keyed by plugin_id, from_position) of plugin p.plugin_id that bear on
 * positions [$2, $3]: the last one starting at or before $2 (a backward probe), then those
 * starting in ($2, $3] (a range scan), so the cost follows the window, not the history.
 */
function bearingOnWindow(table: string, columns: string): string {
  return `(SELECT ${columns} FROM ${table}
            WHERE plugin_id = p.plugin_id AND from_position <= $2
            ORDER BY from_position DESC LIMIT 1)
          UNION ALL
          (SELECT ${columns} FROM ${table}
            WHERE plugin_id = p.plugin_id AND from_position > $2 AND from_position <= $3
            ORDER BY from_position)`;
}

/**
 * One of the two reads, its parameters bound as `bearingOnWindow` takes them ($1 the plugins,
 * $2 and $3 the window), each row a stretch with what `rest` reads of the table's own columns.
 */
async function readWindow<Row extends StretchDbRow, Rest>(
  read: WindowRead,
  text: string,
  rest: (row: Row) => Rest,
): Promise<(Stretch & Rest)[]> {
  const found = await read.pool.query<Row>({ text, values: [read.plugins, read.from, read.to] });
  return found.rows.map((row) => ({ ...stretchOf(row), ...rest(row) }));
}

/** A point read from a position column and a moment column, null when either is (an open end). */
function pointOf(position: number | null, at: Date | null): LedgerPoint | null {
  return position === null || at === null ? null : { position, at };
}

/** The columns both interval tables have: whose stretch, who began it and why, and its ends. */
type StretchDbRow = {
  plugin_id: string;
  actor: Actor;
  reason: string | null;
  from_position: number;
  from_at: Date;
  to_position: number | null;
  to_at: Date | null;
};

type Stretch = Pick<VersionRow, "pluginId" | "actor" | "reason" | "from" | "to">;

function stretchOf(row: StretchDbRow): Stretch {
  return {
    pluginId: row.plugin_id,
    actor: row.actor,
    reason: row.reason,
    from: { position: row.from_position, at: row.from_at },
    to: pointOf(row.to_position, row.to_at),
  };
}

type VersionDbRow = StretchDbRow & {
  version: string;
  action: VersionRow["action"];
  closed_by: VersionRow["closedBy"];
};

/**
 * The intervals overlapping positions [from, to]: the last one starting at or before `from`
 * (kept if still open there), then those starting in (from, to]; both on the primary key
 * (plugin_id, from_position), so the cost follows the window, not the plugin's history.
 */
async function versionRows(read: WindowRead): Promise<VersionRow[]> {
  const history = read.tables.q("version_history");
  const columns = `plugin_id, version, action, actor, reason, from_position, from_at, to_position, to_at, closed_by`;
  return readWindow(
    read,
    `SELECT h.* FROM unnest($1::text[]) WITH ORDINALITY AS p(plugin_id, n)
     CROSS JOIN LATERAL (${bearingOnWindow(history, columns)}) h
     WHERE h.to_position IS NULL OR h.to_position > $2
     ORDER BY p.n, h.from_position`,
    (row: VersionDbRow) => ({ version: row.version, action: row.action, closedBy: row.closed_by }),
  );
}

type SegmentDbRow = StretchDbRow & {
  test_id: string;
  candidate_weight_bp: number;
  control: string;
  candidate: string;
  started_position: number;
  ended_position: number | null;
  outcome: "promoted" | "aborted" | null;
  ended_actor: Actor | null;
  ended_reason: string | null;
};

/**
 * The A/B segments bearing on positions [from, to], with their tests: the last one starting at
 * or before `from`, even if closed there (it tells whether an abort began the stretch at the
 * window's start), then those starting in (from, to]; both on ab_test_segments (plugin_id,
 * from_position). The actor and reason of a test's end are those of its ending event, read by
 * position.
 */
async function segmentRows(read: WindowRead): Promise<SegmentRow[]> {
  const { tables } = read;
  const segments = tables.q("ab_test_segments");
  const columns = `test_id, plugin_id, from_position, from_at, to_position, to_at, candidate_weight_bp, actor, reason`;
  return readWindow(
    read,
    `SELECT s.*, t.control, t.candidate, t.started_position, t.ended_position, t.outcome,
            e.metadata -> 'actor' AS ended_actor, e.metadata ->> 'reason' AS ended_reason
       FROM unnest($1::text[]) WITH ORDINALITY AS p(plugin_id, n)
       CROSS JOIN LATERAL (${bearingOnWindow(segments, columns)}) s
       JOIN ${tables.q("ab_tests")} t ON t.test_id = s.test_id
       LEFT JOIN ${tables.events} e ON e.position = t.ended_position
      ORDER BY p.n, s.from_position`,
    (row: SegmentDbRow) => ({
      testId: row.test_id,
      control: row.control,
      candidate: row.candidate,
      candidateWeightBp: row.candidate_weight_bp,
      startedPosition: row.started_position,
      ended:
        row.ended_position === null || row.outcome === null
          ? null
          : {
              position: row.ended_position,
              outcome: row.outcome,
              actor: endedActor(row),
              reason: row.ended_reason,
            },
    }),
  );
}

function endedActor(row: SegmentDbRow): Actor {
  // Events are never deleted (triggers refuse it), so the ending event is there.
  if (row.ended_actor === null) throw new Error(`the event that ended A/B test ${row.test_id} is missing`);
  return row.ended_actor;
}
