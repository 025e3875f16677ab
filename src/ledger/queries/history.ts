import type pg from "pg";
import { pluginStream } from "../../domain/index.ts";
import type { Metadata } from "../../store/index.ts";
import type { Tables } from "../../store/tables.ts";

/** One stretch of time during which a plugin ran one version: [fromPosition, toPosition). */
export type HistoryInterval = {
  pluginId: string;
  version: string;
  action: string;
  fromPosition: number;
  fromAt: Date;
  actor: Metadata["actor"];
  reason: string | null;
  /** null while the version still runs. */
  toPosition: number | null;
  toAt: Date | null;
  /**
   * The action that ended the interval (its actor and reason are those of the event at
   * toPosition); `endedBy`, as the timeline's items say it (the table's column is closed_by).
   */
  endedBy: string | null;
};

const DEFAULT_LIMIT = 100;

/** A plugin's intervals, newest first (the primary key read backwards). */
export async function history(
  pool: pg.Pool,
  tables: Tables,
  pluginId: string,
  options: { limit?: number } = {},
): Promise<HistoryInterval[]> {
  const found = await pool.query<HistoryInterval>({
    text: `SELECT plugin_id AS "pluginId", version, action, from_position AS "fromPosition",
                  from_at AS "fromAt", actor, reason, to_position AS "toPosition", to_at AS "toAt",
                  closed_by AS "endedBy"
             FROM ${tables.q("version_history")} WHERE plugin_id = $1
            ORDER BY from_position DESC LIMIT $2`,
    values: [pluginId, limitOf(options.limit)],
  });
  return found.rows;
}

/** Who changed what, when and why: the latest events first. */
export type AuditEntry = {
  position: number;
  recordedAt: Date;
  streamId: string;
  type: string;
  data: unknown;
  actor: Metadata["actor"];
  reason: string | null;
  forced: boolean;
  overrides: string[];
};

export async function audit(
  pool: pg.Pool,
  tables: Tables,
  options: { limit?: number; pluginId?: string; before?: number } = {},
): Promise<AuditEntry[]> {
  // Without a plugin, the primary key read backwards; with one, the (stream_id,
  // stream_version) unique index read backwards, stream versions following positions.
  // `before` pages backwards: the next page starts below the last position of this one.
  const byStream = options.pluginId !== undefined;
  const before = options.before ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(before) || before < 1) {
    throw new RangeError(`audit before a position needs a whole number >= 1, not ${options.before}`);
  }
  const found = await pool.query<{
    position: number;
    recorded_at: Date;
    stream_id: string;
    type: string;
    data: unknown;
    metadata: Metadata;
  }>({
    text: `SELECT position, recorded_at, stream_id, type, data, metadata FROM ${tables.events}
            WHERE position < $2
            ${byStream ? "AND stream_id = $3 ORDER BY stream_version DESC" : "ORDER BY position DESC"}
            LIMIT $1`,
    values: byStream
      ? [limitOf(options.limit), before, pluginStream(options.pluginId as string)]
      : [limitOf(options.limit), before],
  });
  return found.rows.map((row) => ({
    position: row.position,
    recordedAt: row.recorded_at,
    streamId: row.stream_id,
    type: row.type,
    data: row.data,
    actor: row.metadata.actor,
    reason: row.metadata.reason ?? null,
    forced: row.metadata.forced === true,
    overrides: row.metadata.overrides ?? [],
  }));
}

function limitOf(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new RangeError(`a limit is a whole number >= 1, not ${limit}`);
  return limit;
}
