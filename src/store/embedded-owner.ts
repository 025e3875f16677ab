import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { PGlite } from "@electric-sql/pglite";
import type { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import type { Logger } from "../log.ts";
import { readOwner, releaseLock } from "./embedded-lock.ts";
import { wholeExchanges } from "./pglite-exchanges.ts";

/**
 * The owner's side of the embedded ledger (see embedded.ts): it holds the folder's lock, runs
 * PGlite on its files and serves them on the folder's Unix socket, until it hands over.
 */
export type EmbeddedFolder = { dir: string; socketPath: string; lockPath: string };

export type Serving = { db: PGlite; server: PGLiteSocketServer; nonce: string };

// PGlite's default, 128MB, was most of a CLI call's memory: its pages are touched at start-up, and
// a `status --json` on a folder nobody holds peaked at about 350 MB against 245 MB with 32MB, in
// the same time. The long-running process that serves the folder (the bot, `serve`) gets the same:
// a ledger's working set is its projections and the head of its events, and reads past the
// buffers come from the OS's page cache.
const SHARED_BUFFERS = "32MB";

// How long a leaving owner waits for other processes' connections to end before it stops serving.
const HANDOVER_WAIT_MS = 5_000;

/** Serves the folder, whose lock this process holds under `nonce`; on a failure, lets the lock go. */
export async function serveFolder(
  folder: EmbeddedFolder,
  nonce: string,
  maxConnections: number,
  logger: Logger,
): Promise<Serving> {
  const { dir, socketPath, lockPath } = folder;
  // Loaded lazily: a server deployment never pays for the WASM module.
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("@electric-sql/pglite-socket"),
  ]);
  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    db = await PGlite.create({
      dataDir: path.join(dir, "pgdata"),
      startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${SHARED_BUFFERS}`],
    });
    // A socket file left by a dead owner would make listen() fail; we hold the lock, so it is stale.
    if (existsSync(socketPath)) rmSync(socketPath, { force: true });
    // One backend: the socket server queues whole transactions from its connections onto it.
    server = new (PGLiteSocketServer as typeof import("@electric-sql/pglite-socket").PGLiteSocketServer)({
      db: wholeExchanges(db),
      path: socketPath,
      maxConnections,
    });
    await server.start();
    logger.debug({ dir }, "serving the embedded ledger");
    return { db, server, nonce };
  } catch (error) {
    await server?.stop().catch(() => {});
    await db?.close().catch(() => {});
    releaseLock(lockPath, nonce);
    throw error;
  }
}

/**
 * Stops serving and lets the lock go. Our own pool is closed by now: connections left are other
 * processes' work in hand. Let them finish (bounded), so that a short-lived owner does not cut
 * them off; they close their idle connections within IDLE_CLOSE_MS (embedded-connections.ts).
 */
export async function stopServing(folder: EmbeddedFolder, serving: Serving, logger: Logger): Promise<void> {
  const { db, server } = serving;
  const until = Date.now() + HANDOVER_WAIT_MS;
  const busy = () => {
    const stats = server.getStats();
    return stats.activeConnections > 0 || stats.queuedQueries > 0 || db.isInTransaction();
  };
  while (busy() && Date.now() < until) await sleep(20);
  if (busy()) logger.debug({ dir: folder.dir }, "leaving the embedded ledger while other processes use it");
  await server.stop();
  await db.close();
}

/** After `stopServing`: the socket file goes if the lock is still ours, then the lock. */
export function leaveFolder(folder: EmbeddedFolder, nonce: string): void {
  if (readOwner(folder.lockPath)?.nonce === nonce) rmSync(folder.socketPath, { force: true });
  releaseLock(folder.lockPath, nonce);
}
