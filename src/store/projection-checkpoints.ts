import type pg from "pg";
import type { Tables } from "./tables.ts";

/**
 * The one statement that moves projections' checkpoints, as a piece of SQL for a statement that
 * holds it (an append's, in a CTE) or on its own (a rebuild's). `names` and `position` are the
 * placeholders (`$1`) of the parameters that carry the projections' names (text[]) and the position.
 */
export function checkpointsUpsert(tables: Tables, names: string, position: string): string {
  return `INSERT INTO ${tables.checkpoints} (projection, position, updated_at)
          SELECT unnest(${names}::text[]), ${position}, now()
          ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at`;
}

/** Sets the checkpoints of these projections to `position` (a rebuild: to the head it rebuilt to). */
export async function moveCheckpoints(
  client: pg.ClientBase,
  tables: Tables,
  projections: readonly string[],
  position: number,
): Promise<void> {
  await client.query({ text: checkpointsUpsert(tables, "$1", "$2"), values: [projections, position] });
}
