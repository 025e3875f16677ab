import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { buildIfStale } from "../../scripts/build.ts";

/**
 * Picks the PostgreSQL server the integration tests use, once for the whole run:
 * TEST_DATABASE_URL, then the local server on 127.0.0.1:5432, then a testcontainers PostgreSQL
 * where a container runtime exists. With none of them (a laptop without PostgreSQL) the server
 * tests run on PGlite served over a loopback socket, one per test file. In CI a real server is
 * required.
 * It also makes one initialised PGlite folder that embedded tests copy instead of running initdb,
 * and rebuilds dist/ when a source is newer: the tests that spawn the CLI run what users run.
 */
declare module "vitest" {
  export interface ProvidedContext {
    serverUrl: string;
    serverKind: "postgres" | "pglite";
    pgliteTemplate: string;
  }
}

const LOCAL_URL = "postgres://postgres@127.0.0.1:5432/test";

export default async function setup(project: TestProject) {
  await buildIfStale();
  const cleanups: Array<() => Promise<void>> = [];
  const template = mkdtempSync(path.join(tmpdir(), "pl-template-"));
  const { PGlite } = await import("@electric-sql/pglite");
  const templateDb = await PGlite.create({ dataDir: path.join(template, "pgdata") });
  await templateDb.close();
  cleanups.push(async () => rmSync(template, { recursive: true, force: true }));
  project.provide("pgliteTemplate", template);

  let url = process.env.TEST_DATABASE_URL || ((await reachable(LOCAL_URL)) ? LOCAL_URL : undefined);
  if (!url && process.env.CI) {
    throw new Error(
      "CI needs a real PostgreSQL: set TEST_DATABASE_URL or start the local server on 127.0.0.1:5432",
    );
  }
  if (!url) url = await startContainer(cleanups);
  if (url) {
    project.provide("serverUrl", url);
    project.provide("serverKind", "postgres");
  } else {
    // Each test file then serves its own PGlite (test/support/databases.ts): one PGlite has a
    // single backend, and files sharing one would queue behind each other's transactions.
    project.provide("serverUrl", "");
    project.provide("serverKind", "pglite");
  }
  return async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function startContainer(cleanups: Array<() => Promise<void>>): Promise<string | undefined> {
  try {
    const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
    const container = await new PostgreSqlContainer("postgres:15-alpine").start();
    cleanups.push(async () => void (await container.stop()));
    return container.getConnectionUri();
  } catch {
    return undefined;
  }
}
