import type pg from "pg";
import type { Tables } from "../store/tables.ts";

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
};

export async function subscriptionList(pool: pg.Pool, tables: Tables): Promise<SubscriptionStatus[]> {
  // One statement: the head and the checkpoints from one snapshot, so no lag is negative.
  const found = await pool.query<Row>(
    `SELECT s.name, s.position, h.position - s.position AS lag, s.last_run_at, s.last_error,
            s.last_error_at, s.consecutive_failures, s.updated_at
       FROM ${tables.subscriptions} s CROSS JOIN ${tables.head} h
      ORDER BY s.name`,
  );
  return found.rows.map((r) => ({
    name: r.name,
    position: Number(r.position),
    lag: Number(r.lag),
    lastRunAt: r.last_run_at,
    lastError: r.last_error,
    lastErrorAt: r.last_error_at,
    consecutiveFailures: r.consecutive_failures,
    updatedAt: r.updated_at,
  }));
}
