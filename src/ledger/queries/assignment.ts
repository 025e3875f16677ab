import type pg from "pg";
import { assignerOf } from "../../domain/index.ts";
import type { Tables } from "../../store/tables.ts";

/** Which version a unit (a symbol, an account) runs, and why. */
export type Assignment = {
  pluginId: string;
  unitKey: string;
  /** null when the plugin does not run (then `arm` is "only" and there is no bucket). */
  version: string | null;
  /** "only": no A/B test runs, every unit gets the active version. */
  arm: "control" | "candidate" | "only";
  testId: string | null;
  /** The unit's bucket (0..9999) in the running test; null when none runs. */
  bucket: number | null;
};

type SplitRow = {
  version: string | null;
  test_id: string | null;
  control: string | null;
  candidate: string | null;
  salt: string | null;
  candidate_weight_bp: number | null;
};

/**
 * The arms of many units in one lookup, from the ledger alone: now, at a position, or at the
 * last position recorded at or before a moment (as `asOf` reads it), using the split in force
 * then. The lookup is one statement (one snapshot: the head, the version and the test agree),
 * three index probes; the hashing is done here, per unit.
 */
export async function assignments(
  pool: pg.Pool,
  tables: Tables,
  pluginId: string,
  unitKeys: readonly string[],
  at?: number | Date,
): Promise<Assignment[]> {
  if (typeof pluginId !== "string") throw new TypeError("assign needs a plugin id");
  for (const unitKey of unitKeys) {
    if (typeof unitKey !== "string" || unitKey === "")
      throw new RangeError("a unit key must be non-empty text");
  }
  const { version, test } = await splitAt(pool, tables, pluginId, at);
  if (test === null) {
    return unitKeys.map((unitKey) => ({
      pluginId,
      unitKey,
      version,
      arm: "only",
      testId: null,
      bucket: null,
    }));
  }
  const assign = assignerOf(test);
  return unitKeys.map((unitKey) => {
    const { version, arm, bucket } = assign(unitKey);
    return { pluginId, unitKey, version, arm, testId: test.testId, bucket };
  });
}

async function splitAt(pool: pg.Pool, tables: Tables, pluginId: string, at: number | Date | undefined) {
  let moment: Date | null = null;
  let position: number | null = null;
  if (at instanceof Date) {
    if (Number.isNaN(at.getTime())) throw new RangeError("assign needs a valid date");
    moment = at;
  } else if (at !== undefined) {
    if (!Number.isSafeInteger(at) || at < 0) {
      throw new RangeError(`assign needs a position that is a whole number >= 0, not ${at}`);
    }
    position = at;
  }
  // The point: the last position recorded at or before the moment (recorded_at never decreases
  // along positions), or the position given, no further than the head, or the head. Each part
  // is then the last row starting at or before that point, still open there.
  const found = await pool.query<SplitRow>({
    text: `WITH point AS (
             SELECT CASE WHEN $2::timestamptz IS NOT NULL
                         THEN coalesce((SELECT position FROM ${tables.events} WHERE recorded_at <= $2
                                         ORDER BY recorded_at DESC, position DESC LIMIT 1), 0)
                         ELSE least(coalesce($3::bigint, head.position), head.position) END AS position
               FROM ${tables.head} head
           )
           SELECT h.version, t.test_id, t.control, t.candidate, t.salt, s.candidate_weight_bp
             FROM point
             LEFT JOIN LATERAL (
               SELECT version, to_position FROM ${tables.q("version_history")} h
                WHERE h.plugin_id = $1 AND h.from_position <= point.position
                ORDER BY h.from_position DESC LIMIT 1
             ) h ON h.to_position IS NULL OR h.to_position > point.position
             LEFT JOIN LATERAL (
               SELECT test_id, control, candidate, salt, ended_position FROM ${tables.q("ab_tests")} t
                WHERE t.plugin_id = $1 AND t.started_position <= point.position
                ORDER BY t.started_position DESC LIMIT 1
             ) t ON t.ended_position IS NULL OR t.ended_position > point.position
             LEFT JOIN LATERAL (
               SELECT candidate_weight_bp FROM ${tables.q("ab_test_segments")} s
                WHERE s.test_id = t.test_id AND s.from_position <= point.position
                ORDER BY s.from_position DESC LIMIT 1
             ) s ON true`,
    values: [pluginId, moment, position],
  });
  const row = found.rows[0];
  const version = row?.version ?? null;
  const { test_id, control, candidate, salt, candidate_weight_bp } = row ?? {};
  const test =
    version !== null && test_id && control && candidate && salt && candidate_weight_bp
      ? { testId: test_id, control, candidate, salt, candidateWeightBp: candidate_weight_bp }
      : null;
  return { version, test };
}
