import pg from "pg";

/** The local server the project's tests and CI use (.ci/run). */
export const LOCAL_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";

export const NEEDS_A_SERVER =
  "npm run bench needs a PostgreSQL server: set DATABASE_URL=postgres://..., or run one on 127.0.0.1:5432 " +
  "(user postgres, database test). The embedded PGlite that the ledger uses without DATABASE_URL is not a " +
  "benchmark target: one WASM backend, no concurrency, so its figures would say nothing about production.";

/** DATABASE_URL when set, else the local server; either must answer, or the caller is told why. */
export async function chooseDatabase(
  configured: string | undefined,
): Promise<{ url: string; source: string } | { url: undefined; problem: string }> {
  const url = configured ?? LOCAL_DATABASE_URL;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return { url, source: configured ? "DATABASE_URL" : "local server (DATABASE_URL unset)" };
  } catch (error) {
    const where = configured ? "DATABASE_URL" : LOCAL_DATABASE_URL;
    return { url: undefined, problem: `${where} does not answer (${(error as Error).message})` };
  } finally {
    await client.end().catch(() => {});
  }
}

export type ServerInfo = {
  version: string;
  synchronousCommit: string;
  fsync: string;
  sharedBuffers: string;
};

export async function describeServer(pool: pg.Pool): Promise<ServerInfo> {
  const found = await pool.query({
    text: `SELECT current_setting('server_version'), current_setting('synchronous_commit'),
                  current_setting('fsync'), current_setting('shared_buffers')`,
    rowMode: "array",
  });
  const [version, synchronousCommit, fsync, sharedBuffers] = (found.rows[0] ?? []) as string[];
  return {
    version: version ?? "?",
    synchronousCommit: synchronousCommit ?? "?",
    fsync: fsync ?? "?",
    sharedBuffers: sharedBuffers ?? "?",
  };
}

/**
 * Drops the run's schema, and the ledgers scenarios made next to it (`<schema>_<name>`, see
 * ledger-schemas.ts), on a connection of its own, so it works even when the run's pool is
 * broken. The events table refuses DELETE and TRUNCATE, not DROP.
 */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    // A connection of an interrupted run may still hold a lock for a moment; do not wait forever.
    await client.query("SET lock_timeout = '15s'");
    const found = await client.query<{ name: string }>(
      "SELECT nspname AS name FROM pg_namespace WHERE nspname = $1 OR starts_with(nspname, $2)",
      [schema, `${schema}_`],
    );
    for (const { name } of found.rows) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  } finally {
    await client.end().catch(() => {});
  }
}
