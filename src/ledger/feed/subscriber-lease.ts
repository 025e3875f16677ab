import { randomBytes } from "node:crypto";
import os from "node:os";
import type pg from "pg";
import type { Logger } from "../../log.ts";
import type { Database } from "../../store/connection.ts";
import type { Tables } from "../../store/tables.ts";
import { discardClient } from "./dedicated-client.ts";

/**
 * The right to run one named subscriber: only one process holds it at a time, and the checkpoint
 * moves only while it is held.
 *
 * - On a PostgreSQL server: a session advisory lock, keyed by (schema, name), held on a dedicated
 *   connection, and the checkpoint written on that same connection. If the process dies its
 *   session ends and the lock goes with it at once, so a standby takes over within its next try;
 *   if the connection is lost, the write of the checkpoint fails and this process stands down.
 * - On PGlite every connection shares one session, so advisory locks exclude nobody. There the
 *   lease is the row's `lease_owner` and `lease_expires_at`, taken by one conditional UPDATE
 *   (free, ours, or expired) and renewed while held; every checkpoint write is conditioned on
 *   still owning it. A process that dies holds it until it expires (`leaseMs`).
 *   A conditional UPDATE is atomic on both backends, so no `FOR UPDATE SKIP LOCKED` is needed.
 */
export type SubscriberLease = {
  /** Tries to take the lease; with it, the checkpoint (created at `from` if the row is new). */
  acquire(): Promise<{ position: number } | null>;
  /** Still held? (renews a row lease; checks a lock's connection.) */
  renew(): Promise<boolean>;
  /** Moves the checkpoint to `position`; false when the lease was lost meanwhile. */
  commit(position: number): Promise<boolean>;
  /** Records a failed handler run; best effort. */
  recordError(message: string): Promise<void>;
  release(): Promise<void>;
};

export type LeaseOptions = {
  database: Database;
  tables: Tables;
  name: string;
  /** Where a subscriber without a checkpoint starts: after this position, or at the head. */
  from: number | "head";
  leaseMs: number;
  queryTimeoutMs: number;
  logger: Logger;
};

type Queryable = Pick<pg.Pool, "query"> | pg.Client;

export function subscriberLease(options: LeaseOptions): SubscriberLease {
  return options.database.sharedSession ? rowLease(options) : advisoryLease(options);
}

/** One round trip each, bounded in time: a lost connection fails one call, never hangs one. */
function runner(options: LeaseOptions, ownerId: string) {
  const { tables, name } = options;
  const query = (db: Queryable, text: string, values: unknown[]) =>
    db.query({ text, values, query_timeout: options.queryTimeoutMs } as pg.QueryConfig);
  const start =
    options.from === "head"
      ? `(SELECT position FROM ${tables.head})`
      : `${Math.max(0, Math.trunc(options.from))}`;
  return {
    query,
    /** Creates the row if it is new; the checkpoint either way. */
    async checkpoint(db: Queryable): Promise<number> {
      await query(
        db,
        `INSERT INTO ${tables.subscriptions} (name, position) SELECT $1, ${start}
          WHERE NOT EXISTS (SELECT 1 FROM ${tables.subscriptions} WHERE name = $1)`,
        [name],
      );
      const found = await query(db, `SELECT position FROM ${tables.subscriptions} WHERE name = $1`, [name]);
      return Number(found.rows[0]?.position ?? 0);
    },
    async recordError(db: Queryable, message: string, ownerCheck = "") {
      await query(
        db,
        `UPDATE ${tables.subscriptions}
            SET last_error = $2, last_error_at = now(), last_run_at = now(),
                consecutive_failures = consecutive_failures + 1
          WHERE name = $1 ${ownerCheck}`,
        [name, message.slice(0, 2_000), ...(ownerCheck ? [ownerId] : [])],
      );
    },
    /** Never backwards: a checkpoint only moves on. */
    commitText: `UPDATE ${tables.subscriptions}
                    SET position = greatest(position, $2), updated_at = now(), last_run_at = now(),
                        consecutive_failures = 0`,
  };
}

/** The dedicated connection an advisory lock is held on, and whether it holds the lock now. */
type LockSession = {
  client: pg.Client | undefined;
  held: boolean;
  /** The connection reported its loss: nothing more is done on it. */
  lost: boolean;
};

/** Connects the session's connection if it has none; a loss reported later drops it. */
async function lockConnection(session: LockSession, options: LeaseOptions): Promise<pg.Client> {
  if (session.client) return session.client;
  const next = options.database.newClient();
  // An idle connection reports its loss as an event; unhandled it would end the process.
  next.on("error", (error) => {
    if (session.client === next) {
      options.logger.warn({ err: error, subscriber: options.name }, "subscriber: lock connection lost");
      session.lost = true;
      dropLockConnection(session);
    }
  });
  try {
    await next.connect();
  } catch (error) {
    discardClient(next);
    throw error;
  }
  session.client = next;
  session.lost = false;
  return next;
}

function dropLockConnection(session: LockSession) {
  if (!session.client) return;
  discardClient(session.client);
  session.client = undefined;
  session.held = false;
}

function advisoryLease(options: LeaseOptions): SubscriberLease {
  const { tables, name, logger } = options;
  const sql = runner(options, "");
  const session: LockSession = { client: undefined, held: false, lost: false };
  const drop = () => dropLockConnection(session);

  return {
    async acquire() {
      try {
        const db = await lockConnection(session, options);
        const found = await sql.query(db, "SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS held", [
          tables.schema,
          name,
        ]);
        if (found.rows[0]?.held !== true) return null;
        session.held = true;
        return { position: await sql.checkpoint(db) };
      } catch (error) {
        drop();
        throw error;
      }
    },
    async renew() {
      const { client, held, lost } = session;
      if (!client || !held || lost) return false;
      try {
        await sql.query(client, "SELECT 1", []);
        return true;
      } catch {
        drop();
        return false;
      }
    },
    async commit(position) {
      const { client, held, lost } = session;
      if (!client || !held || lost) return false;
      try {
        const done = await sql.query(client, `${sql.commitText} WHERE name = $1`, [name, position]);
        return done.rowCount === 1;
      } catch (error) {
        logger.warn(
          { err: error, subscriber: name },
          "subscriber: cannot move the checkpoint; standing down",
        );
        drop();
        return false;
      }
    },
    async recordError(message) {
      if (session.client && session.held) await sql.recordError(session.client, message);
    },
    async release() {
      const db = session.client;
      if (!db) return;
      if (session.held)
        await sql
          .query(db, "SELECT pg_advisory_unlock(hashtext($1), hashtext($2))", [tables.schema, name])
          .catch(() => {});
      drop();
    },
  };
}

function rowLease(options: LeaseOptions): SubscriberLease {
  const { database, tables, name } = options;
  const { pool } = database;
  // Each subscription its own owner, even two of one name in one process.
  const ownerId = `${os.hostname()}:${process.pid}:${randomBytes(6).toString("hex")}`;
  const sql = runner(options, ownerId);
  const ours = "AND lease_owner = $3 AND lease_expires_at > now()";
  const until = `now() + make_interval(secs => ${options.leaseMs / 1000})`;
  return {
    async acquire() {
      await sql.checkpoint(pool);
      const taken = await sql.query(
        pool,
        `UPDATE ${tables.subscriptions} SET lease_owner = $2, lease_expires_at = ${until}
          WHERE name = $1 AND (lease_owner IS NULL OR lease_owner = $2 OR lease_expires_at <= now())
          RETURNING position`,
        [name, ownerId],
      );
      const row = taken.rows[0];
      return row ? { position: Number(row.position) } : null;
    },
    async renew() {
      try {
        const renewed = await sql.query(
          pool,
          `UPDATE ${tables.subscriptions} SET lease_expires_at = ${until}
            WHERE name = $1 AND lease_owner = $2 AND lease_expires_at > now()`,
          [name, ownerId],
        );
        return renewed.rowCount === 1;
      } catch {
        return false;
      }
    },
    async commit(position) {
      try {
        const done = await sql.query(
          pool,
          `${sql.commitText}, lease_expires_at = ${until} WHERE name = $1 ${ours}`,
          [name, position, ownerId],
        );
        return done.rowCount === 1;
      } catch (error) {
        options.logger.warn(
          { err: error, subscriber: name },
          "subscriber: cannot move the checkpoint; standing down",
        );
        return false;
      }
    },
    async recordError(message) {
      await sql.recordError(pool, message, "AND lease_owner = $3");
    },
    async release() {
      await sql
        .query(
          pool,
          `UPDATE ${tables.subscriptions} SET lease_owner = NULL, lease_expires_at = NULL
            WHERE name = $1 AND lease_owner = $2`,
          [name, ownerId],
        )
        .catch(() => {});
    },
  };
}
