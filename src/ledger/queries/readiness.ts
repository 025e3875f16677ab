import type pg from "pg";
import type { Tables } from "../../store/tables.ts";

/** Whether the ledger can answer: the head, and the projections whose checkpoint is not there. */
export type Readiness = { position: number; behind: string[] };

/** One statement: the head and every checkpoint in one snapshot, so "behind" is never a race. */
export async function readiness(
  pool: pg.Pool,
  tables: Tables,
  projections: readonly string[],
): Promise<Readiness> {
  const found = await pool.query<{ head: number; checkpoints: Record<string, number> }>({
    text: `SELECT coalesce((SELECT position FROM ${tables.head}), 0) AS head,
                  (SELECT coalesce(json_object_agg(projection, position), '{}')
                     FROM ${tables.checkpoints} WHERE projection = ANY($1::text[])) AS checkpoints`,
    values: [projections],
  });
  const { head, checkpoints } = found.rows[0] ?? { head: 0, checkpoints: {} };
  return { position: head, behind: projections.filter((name) => (checkpoints[name] ?? 0) !== head) };
}
