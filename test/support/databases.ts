import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { createLogger } from "../../src/log.ts";
import { type Database, openDatabase } from "../../src/store/connection.ts";
import { migrate } from "../../src/store/migrate.ts";

export const testLogger = createLogger(process.env.TEST_LOG_LEVEL ?? "silent");

export type TestDatabase = {
  backend: string;
  db: Database;
  schema: string;
  /** Environment for a child process (the CLI) that should see this same ledger. */
  env: Record<string, string>;
  close(): Promise<void>;
};

export function uniqueSchema(prefix = "t"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

/** A fresh, migrated schema on the run's PostgreSQL server (or this file's PGlite stand-in). */
export async function openServerLedger(): Promise<TestDatabase> {
  const url = inject("serverKind") === "pglite" ? await pgliteStandIn() : inject("serverUrl");
  const schema = uniqueSchema();
  const db = await openDatabase({ databaseUrl: url, dataDir: "unused", poolSize: 20, logger: testLogger });
  await migrate(db.pool, schema, testLogger);
  return {
    backend: inject("serverKind"),
    db,
    schema,
    env: { DATABASE_URL: url, LEDGER_SCHEMA: schema },
    async close() {
      await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
      await db.close();
    },
  };
}

let standIn: Promise<string> | undefined;

/**
 * Without a PostgreSQL server, this test file's own PGlite served on a loopback port, reached
 * through a postgres:// URL like a server (child processes included). It lives as long as the
 * file's worker.
 */
function pgliteStandIn(): Promise<string> {
  standIn ??= (async () => {
    const { PGlite } = await import("@electric-sql/pglite");
    const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
    const db = await PGlite.create({ dataDir: path.join(freshDataDir(), "pgdata") });
    const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 64 });
    await server.start();
    return `postgres://postgres@${server.getServerConn()}/postgres`;
  })();
  return standIn;
}

/** A fresh embedded data folder, copied from the run's initialised template (no initdb per test). */
export function freshDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "pl-"));
  cpSync(path.join(inject("pgliteTemplate"), "pgdata"), path.join(dir, "pgdata"), { recursive: true });
  return dir;
}

/** An embedded ledger owned by this process, in its own folder. */
export async function openEmbeddedLedger(dataDir = freshDataDir()): Promise<TestDatabase> {
  const schema = "ledger";
  const db = await openDatabase({ databaseUrl: undefined, dataDir, poolSize: 4, logger: testLogger });
  await migrate(db.pool, schema, testLogger);
  return {
    backend: "pglite",
    db,
    schema,
    env: { LEDGER_DATA_DIR: dataDir, LEDGER_SCHEMA: schema },
    async close() {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The store suite runs once on each: the server and the embedded default. */
export const backends = [
  { name: "server", open: openServerLedger },
  { name: "embedded", open: () => openEmbeddedLedger() },
] as const;
