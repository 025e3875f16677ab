import type pg from "pg";
import type { Tables } from "../../store/tables.ts";

/** A durable subscriber as `plugin-ledger subscriptions` shows it. */
export type SubscriptionStatus = {
  name: string;
  /** The last position its handler finished. */
  position: number;
  /** Events it has still to handle: the head minus its position. */
  lag: number;
  lastRunAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  /** Failed runs since its last success (0: the last run succeeded). */
  consecutiveFailures: number;
  /** Some process runs it now (holds its advisory lock, or its unexpired lease on PGlite). */
  running: boolean;
  updatedAt: Date;
};

type Row = {
  name: string;
  position: number;
  lag: number;
  last_run_at: Date | null;
  last_error: string | null;
  last_error_at: Date | null;
  consecutive_failures: number;
  updated_at: Date;
  running: boolean;
};

export async function subscriptionList(pool: pg.Pool, tables: Tables): Promise<SubscriptionStatus[]> {
  // One statement: the head and the checkpoints from one snapshot, so no lag is negative.
  // A two-key advisory lock shows in pg_locks as classid = key 1 and objid = key 2 (as unsigned
  // oids) with objsubid 2: the keys subscriber-lease.ts takes.
  const found = await pool.query<Row>({
    text: `SELECT s.name, s.position, h.position - s.position AS lag, s.last_run_at, s.last_error,
                  s.last_error_at, s.consecutive_failures, s.updated_at,
                  (s.lease_expires_at > now() OR EXISTS (
                     SELECT 1 FROM pg_locks l
                      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                        AND l.classid = (hashtext($1)::bigint & 4294967295)::oid
                        AND l.objid = (hashtext(s.name)::bigint & 4294967295)::oid
                  )) IS TRUE AS running
             FROM ${tables.subscriptions} s CROSS JOIN ${tables.head} h
            ORDER BY s.name`,
    values: [tables.schema],
  });
  return found.rows.map((r) => ({
    name: r.name,
    position: Number(r.position),
    lag: Number(r.lag),
    lastRunAt: r.last_run_at,
    lastError: r.last_error,
    lastErrorAt: r.last_error_at,
    consecutiveFailures: r.consecutive_failures,
    running: r.running,
    updatedAt: r.updated_at,
  }));
}
