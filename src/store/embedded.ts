import { existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { PGlite } from "@electric-sql/pglite";
import type { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import pg from "pg";
import type { Logger } from "../log.ts";
import { readOwner, releaseLock, tryLock } from "./embedded-lock.ts";

/**
 * The embedded ledger: PGlite files in a folder, owned by one process at a time (see
 * embedded-lock.ts). The owner serves them on a Unix socket in the folder; every process,
 * the owner included, reaches them through that socket with the ordinary `pg` driver, so there is
 * one SQL code path for the embedded default and a PostgreSQL server.
 *
 * When the owner goes away, a remaining process takes over on its next new connection: each
 * connection first makes sure somebody live serves the folder, and serves it itself if nobody does.
 */
export type EmbeddedHost = {
  dir: string;
  role(): "embedded-owner" | "embedded-client";
  /** Serve the folder if no live process does; resolves once somebody does. */
  ensureServed(): Promise<void>;
  pool(max: number, types: pg.CustomTypesConfig): pg.Pool;
  /** One connection outside the pool (not yet connected). */
  client(types: pg.CustomTypesConfig): pg.Client;
  close(): Promise<void>;
};

/** pg connects to `<host>/.s.PGSQL.<port>` when host is a directory, as libpq does. */
const SOCKET_PORT = 5432;
// sun_path holds 108 bytes on Linux, 104 on macOS.
const MAX_SOCKET_PATH = 103;
const OWNER_WAIT_MS = 15_000;
// How long a leaving owner waits for another process's transaction to finish before it stops serving.
const HANDOVER_WAIT_MS = 5_000;

export function embeddedHost(dataDir: string, extraConnections: number, logger: Logger): EmbeddedHost {
  const dir = path.resolve(dataDir);
  const socketPath = path.join(dir, `.s.PGSQL.${SOCKET_PORT}`);
  const lockPath = path.join(dir, "ledger.lock");
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new Error(
      `LEDGER_DATA_DIR is too long for a Unix socket path (${socketPath}); choose a shorter folder`,
    );
  }
  let serving: { db: PGlite; server: PGLiteSocketServer } | undefined;
  let pending: Promise<void> | undefined;
  let closed = false;

  async function serve(): Promise<void> {
    // Loaded lazily: a server deployment never pays for the WASM module.
    const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
      import("@electric-sql/pglite"),
      import("@electric-sql/pglite-socket"),
    ]);
    let db: PGlite | undefined;
    let server: PGLiteSocketServer | undefined;
    try {
      db = await PGlite.create({ dataDir: path.join(dir, "pgdata") });
      // A socket file left by a dead owner would make listen() fail; we hold the lock, so it is stale.
      if (existsSync(socketPath)) rmSync(socketPath, { force: true });
      // One backend: the socket server queues whole transactions from its connections onto it.
      // It must accept more connections than our own pool, so other processes get in too.
      server = new (PGLiteSocketServer as typeof import("@electric-sql/pglite-socket").PGLiteSocketServer)({
        db,
        path: socketPath,
        maxConnections: extraConnections + 16,
      });
      await server.start();
      serving = { db, server };
      logger.debug({ dir }, "serving the embedded ledger");
    } catch (error) {
      await server?.stop().catch(() => {});
      await db?.close().catch(() => {});
      releaseLock(lockPath);
      throw error;
    }
  }

  async function ensure(): Promise<void> {
    if (serving) return;
    if (closed) throw new Error("the embedded ledger is closed");
    const deadline = Date.now() + OWNER_WAIT_MS;
    for (;;) {
      const attempt = tryLock(lockPath);
      if (attempt.held) return serve();
      if (await socketAnswers()) return;
      if (Date.now() > deadline) {
        throw new Error(
          `the embedded ledger in ${dir} is held by process ${attempt.ownerPid}, whose socket does not answer`,
        );
      }
      // The owner may still be starting (initdb takes seconds), or may be leaving: look again.
      await sleep(50);
    }
  }

  async function socketAnswers(): Promise<boolean> {
    const probe = new pg.Client({ host: dir, port: SOCKET_PORT, user: "postgres", database: "postgres" });
    try {
      await probe.connect();
      await probe.query("select 1");
      return true;
    } catch {
      return false;
    } finally {
      await probe.end().catch(() => {});
    }
  }

  const host: EmbeddedHost = {
    dir,
    role: () => (serving ? "embedded-owner" : "embedded-client"),
    ensureServed() {
      pending ??= ensure().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    pool(max, types) {
      return new pg.Pool({
        host: dir,
        port: SOCKET_PORT,
        user: "postgres",
        database: "postgres",
        max,
        types,
        Client: clientFor(host),
      });
    },
    client(types) {
      const Client = clientFor(host);
      return new Client({ host: dir, port: SOCKET_PORT, user: "postgres", database: "postgres", types });
    },
    async close() {
      closed = true;
      if (!serving) return;
      const { db, server } = serving;
      // Do not cut another process's transaction in half: wait (bounded) until none is open.
      const until = Date.now() + HANDOVER_WAIT_MS;
      while ((db.isInTransaction() || server.getStats().queuedQueries > 0) && Date.now() < until)
        await sleep(20);
      await server.stop();
      await db.close();
      serving = undefined;
      if (readOwner(lockPath) === process.pid) rmSync(socketPath, { force: true });
      releaseLock(lockPath);
    },
  };
  mkdirSync(dir, { recursive: true });
  return host;
}

/** A pg Client that makes sure the folder is served before it connects (see EmbeddedHost). */
function clientFor(host: EmbeddedHost): typeof pg.Client {
  class EmbeddedClient extends pg.Client {}
  const baseConnect = pg.Client.prototype.connect as unknown as (this: pg.Client) => Promise<void>;
  // pg's Pool calls connect(callback); a direct caller may use the promise.
  EmbeddedClient.prototype.connect = function (
    this: pg.Client,
    callback?: (error: Error | undefined) => void,
  ) {
    const connected = host.ensureServed().then(() => baseConnect.call(this));
    if (!callback) return connected;
    connected.then(
      () => callback(undefined),
      (error: Error) => callback(error),
    );
  } as typeof pg.Client.prototype.connect;
  return EmbeddedClient;
}
