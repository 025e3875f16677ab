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

export type ConnectionOptions = {
  databaseUrl: string | undefined;
  dataDir: string;
  poolSize: number;
  logger: Logger;
  /** Bound on establishing a connection (default 5 s): a stopped server or owner ends in an error. */
  connectTimeoutMs?: number;
  /** Bound on one query's answer over the embedded socket (default 60 s). */
  queryTimeoutMs?: number;
};

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_EMBEDDED_QUERY_TIMEOUT_MS = 60_000;

/** int8 positions fit a JS number (2^53); parse them as numbers rather than strings, for this pool only. */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === 20 && format !== "binary") return (value: string) => Number(value);
    // biome-ignore lint/suspicious/noExplicitAny: pg's overloads do not accept a union format.
    return pg.types.getTypeParser(oid, format as any);
  },
};

export async function openDatabase(options: ConnectionOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize, types });
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
  return openEmbedded(options);
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

async function openEmbedded(options: ConnectionOptions): Promise<Database> {
  const host = embeddedHost(options.dataDir, options.poolSize, options.logger, {
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    queryTimeoutMs: options.queryTimeoutMs ?? DEFAULT_EMBEDDED_QUERY_TIMEOUT_MS,
  });
  await host.ensureServed();
  const pool = host.pool(options.poolSize, types);
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
