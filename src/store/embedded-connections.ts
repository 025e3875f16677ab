import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Logger } from "../log.ts";
import { BoundedClient } from "./bounded-client.ts";
import { DatabaseUnavailableError } from "./connection-errors.ts";
import { isStopped, readOwner } from "./embedded-lock.ts";
import type { EmbeddedFolder } from "./embedded-owner.ts";

/**
 * Every process's side of the embedded ledger (see embedded.ts): `pg` pools and clients that
 * reach the folder's socket, each connection first making sure somebody live serves it.
 */
export type EmbeddedConnections = {
  folder: EmbeddedFolder;
  logger: Logger;
  isClosed(): boolean;
  /** Serve the folder if no live process holds it (EmbeddedHost.ensureServed). */
  ensureServed(): Promise<void>;
};

/** pg connects to `<host>/.s.PGSQL.<port>` when host is a directory, as libpq does. */
export const SOCKET_PORT = 5432;
// How long a connection waits for a live owner to listen: it may be running initdb on a busy
// machine (seconds), or leaving. A stopped owner is reported at once.
const OWNER_WAIT_MS = 60_000;
// Idle connections close soon, so that a leaving owner is not held up by another process's idle pool.
const IDLE_CLOSE_MS = 1_000;

export function embeddedPool(
  at: EmbeddedConnections,
  max: number,
  types: pg.CustomTypesConfig,
  bounds: pg.PoolConfig,
): pg.Pool {
  class EmbeddedPool extends pg.Pool {}
  const base = pg.Pool.prototype.connect as unknown as (this: pg.Pool) => Promise<pg.PoolClient>;
  // Pool.query connects through this method too, so reads and writes both get the retry.
  EmbeddedPool.prototype.connect = function (
    this: pg.Pool,
    callback?: (error: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void,
  ) {
    const connected = connectRetrying(at, () => base.call(this), bounds.connectionTimeoutMillis);
    if (!callback) return connected;
    connected.then(
      (client) => callback(undefined, client, (release) => client.release(release as boolean | Error)),
      (error: Error) => callback(error),
    );
  } as typeof pg.Pool.prototype.connect;
  return new EmbeddedPool({
    ...bounds,
    host: at.folder.dir,
    port: SOCKET_PORT,
    user: "postgres",
    database: "postgres",
    max,
    types,
    idleTimeoutMillis: IDLE_CLOSE_MS,
    Client: clientClass(at),
  });
}

export function embeddedClient(
  at: EmbeddedConnections,
  types: pg.CustomTypesConfig,
  bounds: pg.ClientConfig,
) {
  const Client = clientClass(at);
  return new Client({
    ...bounds,
    host: at.folder.dir,
    port: SOCKET_PORT,
    user: "postgres",
    database: "postgres",
    types,
  });
}

function clientClass(at: EmbeddedConnections): typeof pg.Client {
  const { logger } = at;
  const { dir } = at.folder;
  const base = pg.Client.prototype.connect as unknown as (this: pg.Client) => Promise<void>;
  // Bounded as a server pool's clients are (bounded-client.ts).
  class EmbeddedClient extends BoundedClient {
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
    const connected = at.ensureServed().then(() => base.call(this));
    if (!callback) return connected;
    connected.then(
      () => callback(undefined),
      (error: Error) => callback(error),
    );
  } as typeof pg.Client.prototype.connect;
  return EmbeddedClient;
}

/**
 * A connection that was refused never sent a statement, so trying again is always safe: the
 * owner was starting or leaving, and the next try connects to it or takes the folder over.
 */
async function connectRetrying<T>(
  at: EmbeddedConnections,
  connect: () => Promise<T>,
  connectMs: number | undefined,
): Promise<T> {
  const { lockPath, dir } = at.folder;
  const deadline = Date.now() + OWNER_WAIT_MS;
  for (;;) {
    try {
      return await connect();
    } catch (error) {
      if (at.isClosed()) throw error;
      if (isConnectTimeout(error)) {
        const owner = readOwner(lockPath);
        const stopped = owner !== undefined && isStopped(owner.pid) ? " (it is stopped)" : "";
        throw unavailable(at.folder, `did not answer within ${connectMs} ms${stopped}`, error);
      }
      if (!isRefused(error)) throw error;
      const owner = readOwner(lockPath);
      if (owner && isStopped(owner.pid)) throw unavailable(at.folder, "is stopped", error);
      if (Date.now() > deadline)
        throw unavailable(at.folder, `took no connection for ${OWNER_WAIT_MS} ms`, error);
      at.logger.debug({ dir, err: error }, "embedded ledger not answering yet; looking again");
      await sleep(20 + Math.random() * 30);
    }
  }
}

function unavailable(folder: EmbeddedFolder, what: string, cause: unknown): Error {
  const owner = readOwner(folder.lockPath);
  const holder = owner ? `its owner (process ${owner.pid})` : "its owner";
  return new DatabaseUnavailableError(folder.dir, new Error(`${holder} ${what}`, { cause }), true);
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
