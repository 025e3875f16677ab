import { existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { PGlite } from "@electric-sql/pglite";
import type { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import pg from "pg";
import type { Logger } from "../log.ts";
import { DatabaseUnavailableError } from "./connection-errors.ts";
import { isStopped, readOwner, releaseLock, tryLock } from "./embedded-lock.ts";
import { wholeExchanges } from "./pglite-exchanges.ts";

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
  /** Serve the folder if no live process holds it; resolves once this process serves it or another holds it. */
  ensureServed(): Promise<void>;
  /** `bounds`: the connect and statement timeouts every connection carries. */
  pool(max: number, types: pg.CustomTypesConfig, bounds?: pg.PoolConfig): pg.Pool;
  /** One connection outside the pool (not yet connected), with the same bounds. */
  client(types: pg.CustomTypesConfig, bounds?: pg.ClientConfig): pg.Client;
  close(): Promise<void>;
};

/** pg connects to `<host>/.s.PGSQL.<port>` when host is a directory, as libpq does. */
const SOCKET_PORT = 5432;
// sun_path holds 108 bytes on Linux, 104 on macOS.
const MAX_SOCKET_PATH = 103;
// How long a connection waits for a live owner to listen: it may be running initdb on a busy
// machine (seconds), or leaving. A stopped owner is reported at once.
const OWNER_WAIT_MS = 60_000;
// How long a leaving owner waits for other processes' connections to end before it stops serving.
const HANDOVER_WAIT_MS = 5_000;
// Idle connections close soon, so that a leaving owner is not held up by another process's idle pool.
const IDLE_CLOSE_MS = 1_000;
// One backend queues every connection's work, so connections are cheap: accept many processes at once.
const MAX_SOCKET_CONNECTIONS = 256;

export function embeddedHost(dataDir: string, extraConnections: number, logger: Logger): EmbeddedHost {
  const dir = path.resolve(dataDir);
  const socketPath = path.join(dir, `.s.PGSQL.${SOCKET_PORT}`);
  const lockPath = path.join(dir, "ledger.lock");
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new Error(
      `LEDGER_DATA_DIR is too long for a Unix socket path (${socketPath}); choose a shorter folder`,
    );
  }
  let serving: { db: PGlite; server: PGLiteSocketServer; nonce: string } | undefined;
  let pending: Promise<void> | undefined;
  let closed = false;

  async function serve(nonce: string): Promise<void> {
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
      server = new (PGLiteSocketServer as typeof import("@electric-sql/pglite-socket").PGLiteSocketServer)({
        db: wholeExchanges(db),
        path: socketPath,
        maxConnections: extraConnections + MAX_SOCKET_CONNECTIONS,
      });
      await server.start();
      serving = { db, server, nonce };
      logger.debug({ dir }, "serving the embedded ledger");
    } catch (error) {
      await server?.stop().catch(() => {});
      await db?.close().catch(() => {});
      releaseLock(lockPath, nonce);
      throw error;
    }
  }

  /**
   * Takes the lock when nobody live holds it. A live holder may not listen yet (initdb) or may be
   * leaving: the connection that follows finds out, and `connectRetrying` looks again.
   */
  async function ensure(): Promise<void> {
    if (serving) return;
    if (closed) throw new Error("the embedded ledger is closed");
    const attempt = tryLock(lockPath);
    if (attempt.held) return serve(attempt.nonce);
  }

  /**
   * A connection that was refused never sent a statement, so trying again is always safe: the
   * owner was starting or leaving, and the next try connects to it or takes the folder over.
   */
  async function connectRetrying<T>(connect: () => Promise<T>, connectMs: number | undefined): Promise<T> {
    const deadline = Date.now() + OWNER_WAIT_MS;
    for (;;) {
      try {
        return await connect();
      } catch (error) {
        if (closed) throw error;
        if (isConnectTimeout(error)) {
          const owner = readOwner(lockPath);
          const stopped = owner !== undefined && isStopped(owner.pid) ? " (it is stopped)" : "";
          throw unavailable(`did not answer within ${connectMs} ms${stopped}`, error);
        }
        if (!isRefused(error)) throw error;
        const owner = readOwner(lockPath);
        if (owner && isStopped(owner.pid)) throw unavailable("is stopped", error);
        if (Date.now() > deadline) throw unavailable(`took no connection for ${OWNER_WAIT_MS} ms`, error);
        logger.debug({ dir, err: error }, "embedded ledger not answering yet; looking again");
        await sleep(20 + Math.random() * 30);
      }
    }
  }

  function unavailable(what: string, cause: unknown): Error {
    const owner = readOwner(lockPath);
    const holder = owner ? `its owner (process ${owner.pid})` : "its owner";
    return new DatabaseUnavailableError(dir, new Error(`${holder} ${what}`, { cause }), true);
  }

  function clientClass(): typeof pg.Client {
    const base = pg.Client.prototype.connect as unknown as (this: pg.Client) => Promise<void>;
    class EmbeddedClient extends pg.Client {
      constructor(config: pg.ClientConfig) {
        super(config);
        // An owner that leaves or dies closes this socket; the failure reaches the query in
        // hand, or the pool discards the idle connection. It must never crash the process.
        this.on("error", (error) => logger.debug({ dir, err: error }, "embedded connection lost"));
      }
    }
    // pg's Pool calls connect(callback); a direct caller may use the promise.
    EmbeddedClient.prototype.connect = function (
      this: pg.Client,
      callback?: (error: Error | undefined) => void,
    ) {
      const connected = host.ensureServed().then(() => base.call(this));
      if (!callback) return connected;
      connected.then(
        () => callback(undefined),
        (error: Error) => callback(error),
      );
    } as typeof pg.Client.prototype.connect;
    return EmbeddedClient;
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
    pool(max, types, bounds = {}) {
      class EmbeddedPool extends pg.Pool {}
      const base = pg.Pool.prototype.connect as unknown as (this: pg.Pool) => Promise<pg.PoolClient>;
      // Pool.query connects through this method too, so reads and writes both get the retry.
      EmbeddedPool.prototype.connect = function (
        this: pg.Pool,
        callback?: (
          error: Error | undefined,
          client?: pg.PoolClient,
          done?: (release?: unknown) => void,
        ) => void,
      ) {
        const connected = connectRetrying(() => base.call(this), bounds.connectionTimeoutMillis);
        if (!callback) return connected;
        connected.then(
          (client) => callback(undefined, client, (release) => client.release(release as boolean | Error)),
          (error: Error) => callback(error),
        );
      } as typeof pg.Pool.prototype.connect;
      return new EmbeddedPool({
        ...bounds,
        host: dir,
        port: SOCKET_PORT,
        user: "postgres",
        database: "postgres",
        max,
        types,
        idleTimeoutMillis: IDLE_CLOSE_MS,
        Client: clientClass(),
      });
    },
    client(types, bounds = {}) {
      const Client = clientClass();
      return new Client({
        ...bounds,
        host: dir,
        port: SOCKET_PORT,
        user: "postgres",
        database: "postgres",
        types,
      });
    },
    async close() {
      closed = true;
      if (!serving) return;
      const { db, server, nonce } = serving;
      // Our own pool is closed by now: connections left are other processes' work in hand. Let
      // them finish (bounded), so that a short-lived owner does not cut them off; they close
      // their idle connections within IDLE_CLOSE_MS.
      const until = Date.now() + HANDOVER_WAIT_MS;
      const busy = () => {
        const stats = server.getStats();
        return stats.activeConnections > 0 || stats.queuedQueries > 0 || db.isInTransaction();
      };
      while (busy() && Date.now() < until) await sleep(20);
      if (busy()) logger.debug({ dir }, "leaving the embedded ledger while other processes use it");
      await server.stop();
      await db.close();
      serving = undefined;
      if (readOwner(lockPath)?.nonce === nonce) rmSync(socketPath, { force: true });
      releaseLock(lockPath, nonce);
    },
  };
  mkdirSync(dir, { recursive: true });
  return host;
}

/** Refused, reset or gone before the start-up finished: the owner was starting or leaving. */
function isRefused(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  if (code === "ECONNREFUSED" || code === "ENOENT" || code === "ECONNRESET" || code === "EPIPE") return true;
  return /connection terminated unexpectedly/i.test(message ?? "");
}

function isConnectTimeout(error: unknown): boolean {
  return /connection timeout|timeout exceeded when trying to connect/i.test(
    (error as { message?: string }).message ?? "",
  );
}
