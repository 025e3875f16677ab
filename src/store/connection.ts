import path from "node:path";
import pg from "pg";
import type { Logger } from "../log.ts";
import { BoundedClient } from "./bounded-client.ts";
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
  /**
   * A connection of its own, outside the pool, not yet connected: for what holds a session open
   * (the change feed's LISTEN, a subscriber's advisory lock). The caller handles its errors.
   */
  newClient(): pg.Client;
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
export function boundedPoolOptions(timeouts: DatabaseTimeouts, kind: "server" | "embedded") {
  return {
    connectionTimeoutMillis: timeouts.connectMs,
    query_timeout: queryTimeoutMs(timeouts),
    // Startup parameters: every session of this pool has them from its first statement.
    statement_timeout: timeouts.statementMs,
    ...(kind === "server"
      ? {
          // A client that vanished inside a transaction (a black-holed network) would otherwise
          // hold the head lock, and with it every writer, until the server noticed the dead
          // socket. Not on PGlite: there a session that ends is the one backend everybody shares.
          idle_in_transaction_session_timeout: timeouts.statementMs,
          // Dead peers are noticed by TCP keepalive too, not only by the next statement's timeout.
          keepAlive: true,
        }
      : {}),
  };
}

/** Whether the server at `url` is PGlite behind its socket (one backend for every connection). */
async function servesPglite(url: string, timeouts: DatabaseTimeouts): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, types, ...boundedPoolOptions(timeouts, "server") });
  // A connection lost here fails the query below, which is what the caller hears.
  client.on("error", () => {});
  try {
    await client.connect();
    const found = await client.query<{ version: string }>("SELECT version() AS version");
    return /PGlite/i.test(found.rows[0]?.version ?? "");
  } finally {
    await client.end().catch(() => {});
  }
}

export async function openDatabase(options: ConnectionOptions): Promise<Database> {
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
  if (options.databaseUrl) {
    const sharedSession = await servesPglite(options.databaseUrl, timeouts);
    const pool = new pg.Pool({
      Client: BoundedClient,
      connectionString: options.databaseUrl,
      max: options.poolSize,
      types,
      ...boundedPoolOptions(timeouts, "server"),
      // A connection sends the statements queued on it without waiting for each answer: an
      // append's statements and its COMMIT travel in one round trip (event-store.ts). Not through
      // PGlite's socket, whose one backend is shared by every connection.
      pipeline: !sharedSession,
    });
    // The pool discards it; the next operation opens a new one (and reports if it cannot).
    pool.on("error", (error) => options.logger.debug({ err: error }, "idle database connection lost"));
    return {
      pool,
      mode: "server",
      location: redactUrl(options.databaseUrl),
      sharedSession,
      newClient: () =>
        new BoundedClient({
          connectionString: options.databaseUrl,
          types,
          ...boundedPoolOptions(timeouts, "server"),
        }),
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
  const pool = host.pool(options.poolSize, types, boundedPoolOptions(timeouts, "embedded"));
  pool.on("error", (error) => options.logger.debug({ err: error }, "embedded connection lost"));
  const database: Database = {
    pool,
    get mode() {
      return host.role();
    },
    location: host.dir,
    sharedSession: true,
    newClient: () => host.client(types, boundedPoolOptions(timeouts, "embedded")),
    async close() {
      await pool.end();
      await host.close();
    },
  };
  return database;
}
