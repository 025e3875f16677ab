import path from "node:path";
import pg from "pg";
import type { Logger } from "../log.ts";
import { embeddedHost } from "./embedded.ts";

export type Database = {
  pool: pg.Pool;
  /** `server`: a PostgreSQL server; `embedded-owner`: this process runs PGlite and serves its socket;
   *  `embedded-client`: another process owns the folder and this one connects to its socket. */
  mode: "server" | "embedded-owner" | "embedded-client";
  /** Where the ledger lives, safe to print (no password). */
  location: string;
  /**
   * True when every connection shares one backend session (PGlite, embedded or served over a
   * socket): session state such as named prepared statements must not be used then.
   */
  sharedSession: boolean;
  close(): Promise<void>;
};

/**
 * How long any one database call may take (README "Configuration"): a server that accepts TCP
 * and never answers, or an owner that stopped, ends in an error rather than a hang.
 */
export type DatabaseTimeouts = {
  /** To open a connection (also the longest wait for a free one from the pool). */
  connectMs: number;
  /** Per statement, enforced by the server (`statement_timeout`); the client gives up on an
   *  unanswered statement a little later (see `queryTimeoutMs`). */
  statementMs: number;
  /** How long an operation that lost its connection keeps reconnecting and retrying before it
   *  reports the database unavailable. */
  retryMs: number;
};

export const DEFAULT_TIMEOUTS: DatabaseTimeouts = { connectMs: 5_000, statementMs: 30_000, retryMs: 15_000 };

/**
 * The client-side bound on one statement: the server's own statement timeout first (it answers
 * with a clear error and the connection stays usable), this only for a server that said nothing.
 */
export function queryTimeoutMs(timeouts: DatabaseTimeouts): number {
  return timeouts.statementMs + Math.min(timeouts.statementMs, 2_000);
}

export type ConnectionOptions = {
  databaseUrl: string | undefined;
  dataDir: string;
  poolSize: number;
  logger: Logger;
  timeouts?: DatabaseTimeouts | undefined;
};

/** int8 positions fit a JS number (2^53); parse them as numbers rather than strings, for this pool only. */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === 20 && format !== "binary") return (value: string) => Number(value);
    // biome-ignore lint/suspicious/noExplicitAny: pg's overloads do not accept a union format.
    return pg.types.getTypeParser(oid, format as any);
  },
};

/** Bounds every connection of a pool carries, server or embedded. */
export function boundedPoolOptions(timeouts: DatabaseTimeouts) {
  return {
    connectionTimeoutMillis: timeouts.connectMs,
    query_timeout: queryTimeoutMs(timeouts),
    // A startup parameter: every session of this pool has it from its first statement.
    statement_timeout: timeouts.statementMs,
  };
}

export async function openDatabase(options: ConnectionOptions): Promise<Database> {
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize,
      types,
      ...boundedPoolOptions(timeouts),
    });
    pool.on("error", (error) => options.logger.warn({ err: error }, "idle database connection lost"));
    let sharedSession: boolean;
    try {
      const found = await pool.query<{ version: string }>("SELECT version() AS version");
      sharedSession = /PGlite/i.test(found.rows[0]?.version ?? "");
    } catch (error) {
      await pool.end().catch(() => {});
      throw error;
    }
    return {
      pool,
      mode: "server",
      location: redactUrl(options.databaseUrl),
      sharedSession,
      close: () => pool.end(),
    };
  }
  return openEmbedded(options, timeouts);
}

/** Where a ledger lives, safe to print, before it is opened: the redacted URL, or the embedded folder. */
export function databaseLocation(options: { databaseUrl?: string | undefined; dataDir: string }): string {
  return options.databaseUrl ? redactUrl(options.databaseUrl) : path.resolve(options.dataDir);
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres://(unparsable url)";
  }
}

async function openEmbedded(options: ConnectionOptions, timeouts: DatabaseTimeouts): Promise<Database> {
  const host = embeddedHost(options.dataDir, options.poolSize, options.logger);
  await host.ensureServed();
  const pool = host.pool(options.poolSize, types, boundedPoolOptions(timeouts));
  pool.on("error", (error) => options.logger.warn({ err: error }, "embedded connection lost"));
  const database: Database = {
    pool,
    get mode() {
      return host.role();
    },
    location: host.dir,
    sharedSession: true,
    async close() {
      await pool.end();
      await host.close();
    },
  };
  return database;
}
