import { mkdirSync } from "node:fs";
import path from "node:path";
import type pg from "pg";
import type { Logger } from "../log.ts";
import { embeddedClient, embeddedPool, SOCKET_PORT } from "./embedded-connections.ts";
import { tryLock } from "./embedded-lock.ts";
import {
  type EmbeddedFolder,
  leaveFolder,
  type Serving,
  serveFolder,
  stopServing,
} from "./embedded-owner.ts";

/**
 * The embedded ledger: PGlite files in a folder, owned by one process at a time (see
 * embedded-lock.ts). The owner serves them on a Unix socket in the folder (embedded-owner.ts);
 * every process, the owner included, reaches them through that socket with the ordinary `pg`
 * driver (embedded-connections.ts), so there is one SQL code path for the embedded default and a
 * PostgreSQL server.
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

// sun_path holds 108 bytes on Linux, 104 on macOS.
const MAX_SOCKET_PATH = 103;
// One backend queues every connection's work, so connections are cheap: accept many processes at once.
const MAX_SOCKET_CONNECTIONS = 256;

export function embeddedHost(dataDir: string, extraConnections: number, logger: Logger): EmbeddedHost {
  const folder = folderAt(dataDir);
  let serving: Serving | undefined;
  let pending: Promise<void> | undefined;
  let closed = false;

  /**
   * Takes the lock when nobody live holds it. A live holder may not listen yet (initdb) or may be
   * leaving: the connection that follows finds out, and `connectRetrying` looks again.
   */
  async function ensure(): Promise<void> {
    if (serving) return;
    if (closed) throw new Error("the embedded ledger is closed");
    const attempt = tryLock(folder.lockPath);
    if (!attempt.held) return;
    serving = await serveFolder(folder, attempt.nonce, extraConnections + MAX_SOCKET_CONNECTIONS, logger);
  }

  const connections = {
    folder,
    logger,
    isClosed: () => closed,
    ensureServed: () => host.ensureServed(),
  };
  const host: EmbeddedHost = {
    dir: folder.dir,
    role: () => (serving ? "embedded-owner" : "embedded-client"),
    ensureServed() {
      pending ??= ensure().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    pool: (max, types, bounds = {}) => embeddedPool(connections, max, types, bounds),
    client: (types, bounds = {}) => embeddedClient(connections, types, bounds),
    async close() {
      closed = true;
      if (!serving) return;
      const leaving = serving;
      await stopServing(folder, leaving, logger);
      serving = undefined;
      leaveFolder(folder, leaving.nonce);
    },
  };
  mkdirSync(folder.dir, { recursive: true });
  return host;
}

function folderAt(dataDir: string): EmbeddedFolder {
  const dir = path.resolve(dataDir);
  const socketPath = path.join(dir, `.s.PGSQL.${SOCKET_PORT}`);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new Error(
      `LEDGER_DATA_DIR is too long for a Unix socket path (${socketPath}); choose a shorter folder`,
    );
  }
  return { dir, socketPath, lockPath: path.join(dir, "ledger.lock") };
}
