import { existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Logger } from "../log.ts";
import { readOwner, releaseLock, tryLock } from "./embedded-lock.ts";

export type Database = {
  pool: pg.Pool;
  /** `server`: a PostgreSQL server; `embedded-owner`: this process runs PGlite and serves its socket;
   *  `embedded-client`: another process owns the folder and this one connects to its socket. */
  mode: "server" | "embedded-owner" | "embedded-client";
  /** Where the ledger lives, safe to print (no password). */
  location: string;
  close(): Promise<void>;
};

export type ConnectionOptions = {
  databaseUrl: string | undefined;
  dataDir: string;
  poolSize: number;
  logger: Logger;
};

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
    return { pool, mode: "server", location: redactUrl(options.databaseUrl), close: () => pool.end() };
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

/** pg connects to `<host>/.s.PGSQL.<port>` when host is a directory, as libpq does. */
const SOCKET_PORT = 5432;
// sun_path is 108 bytes on Linux, 104 on macOS.
const MAX_SOCKET_PATH = 103;
const CLIENT_WAIT_MS = 15_000;

async function openEmbedded(options: ConnectionOptions): Promise<Database> {
  const dir = path.resolve(options.dataDir);
  mkdirSync(dir, { recursive: true });
  const socketPath = path.join(dir, `.s.PGSQL.${SOCKET_PORT}`);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new Error(
      `LEDGER_DATA_DIR is too long for a Unix socket path (${socketPath}); choose a shorter folder`,
    );
  }
  const lockPath = path.join(dir, "ledger.lock");
  const deadline = Date.now() + CLIENT_WAIT_MS;
  for (;;) {
    const attempt = tryLock(lockPath);
    if (attempt.held) return serveEmbedded(dir, socketPath, lockPath, options);
    // Another live process owns the folder: talk to it through its socket, never open the files.
    const pool = embeddedPool(dir, options.poolSize);
    try {
      await pool.query("select 1");
      options.logger.debug({ ownerPid: attempt.ownerPid }, "connected to the embedded ledger's owner");
      pool.on("error", (error) => options.logger.warn({ err: error }, "embedded ledger owner went away"));
      return { pool, mode: "embedded-client", location: dir, close: () => pool.end() };
    } catch (error) {
      await pool.end().catch(() => {});
      // The owner may still be starting, or may have just exited: look again until the deadline.
      if (Date.now() > deadline) {
        throw new Error(
          `the embedded ledger in ${dir} is held by process ${attempt.ownerPid}, whose socket does not answer (${(error as Error).message})`,
        );
      }
      await sleep(50);
    }
  }
}

function embeddedPool(dir: string, max: number): pg.Pool {
  return new pg.Pool({ host: dir, port: SOCKET_PORT, user: "postgres", database: "postgres", max, types });
}

async function serveEmbedded(
  dir: string,
  socketPath: string,
  lockPath: string,
  options: ConnectionOptions,
): Promise<Database> {
  // Loaded lazily: a server deployment never pays for the WASM module.
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("@electric-sql/pglite-socket"),
  ]);
  let db: InstanceType<typeof PGlite> | undefined;
  let server: InstanceType<typeof PGLiteSocketServer> | undefined;
  try {
    db = await PGlite.create({ dataDir: path.join(dir, "pgdata") });
    // A socket file left by a dead owner would make listen() fail with EADDRINUSE; we hold the lock.
    if (existsSync(socketPath)) rmSync(socketPath, { force: true });
    // PGlite has one backend; the socket server multiplexes connections onto it, queueing whole
    // transactions. It must accept more connections than our own pool holds, so that other
    // processes (a CLI call while the bot runs) get in too.
    server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: options.poolSize + 16 });
    await server.start();
  } catch (error) {
    await server?.stop().catch(() => {});
    await db?.close().catch(() => {});
    releaseLock(lockPath);
    throw error;
  }
  const pool = embeddedPool(dir, options.poolSize);
  pool.on("error", (error) => options.logger.warn({ err: error }, "embedded connection lost"));
  options.logger.debug({ dir }, "serving the embedded ledger");
  const started = { db, server };
  return {
    pool,
    mode: "embedded-owner",
    location: dir,
    async close() {
      await pool.end();
      await started.server.stop();
      await started.db.close();
      if (readOwner(lockPath) === process.pid) rmSync(socketPath, { force: true });
      releaseLock(lockPath);
    },
  };
}
