import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { BoundedClient } from "../../src/store/bounded-client.ts";
import { isConnectionLost } from "../../src/store/connection-errors.ts";

const serverUrl = inject("serverUrl");

describe.skipIf(inject("serverKind") !== "postgres")("a server pool's client bounds each statement", () => {
  async function client(queryTimeoutMs: number): Promise<BoundedClient> {
    const opened = new BoundedClient({ connectionString: serverUrl, query_timeout: queryTimeoutMs });
    opened.on("error", () => {});
    await opened.connect();
    return opened;
  }

  it("fails a statement that outlasts the bound as a lost connection, and the connection with it", async () => {
    const bounded = await client(300);
    const outcome = await bounded.query("SELECT pg_sleep(3)").catch((error: unknown) => error);
    expect(isConnectionLost(outcome)).toBe(true);
    expect((outcome as Error).message).toMatch(/Query read timeout|Connection terminated/);
    await expect(bounded.query("SELECT 1")).rejects.toThrow();
    await bounded.end().catch(() => {});
  });

  it("answers statements within the bound, in every form pg takes them", async () => {
    const bounded = await client(5_000);
    expect((await bounded.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    expect((await bounded.query("SELECT $1::int AS n", [2])).rows).toEqual([{ n: 2 }]);
    expect(
      (await bounded.query({ text: "SELECT $1::int AS n", values: [3], rowMode: "array" })).rows,
    ).toEqual([[3]]);
    const viaCallback = await new Promise((resolve, reject) =>
      bounded.query("SELECT $1::int AS n", [4], (error: Error | null, result: pg.QueryResult) =>
        error ? reject(error) : resolve(result.rows),
      ),
    );
    expect(viaCallback).toEqual([{ n: 4 }]);
    await bounded.end();
  });

  it("leaves no timer behind: after a fast statement or a call pg refuses, the connection outlives the bound", async () => {
    const bounded = await client(200);
    await bounded.query("SELECT 1");
    await new Promise<void>((resolve) => bounded.query("SELECT 2", () => resolve()));
    expect(() => bounded.query(null as unknown as string)).toThrow(TypeError);
    await sleep(500);
    expect((await bounded.query("SELECT 3 AS three")).rows).toEqual([{ three: 3 }]);
    await bounded.end();
  });

  it("takes a statement's own query_timeout instead of the client's", async () => {
    const bounded = await client(60_000);
    const outcome = await bounded
      .query({ text: "SELECT pg_sleep(3)", query_timeout: 200 } as pg.QueryConfig)
      .catch((error: unknown) => error);
    expect(isConnectionLost(outcome)).toBe(true);
    await bounded.end().catch(() => {});
  });

  it("is what a server pool is made of: the pool discards the client and the next statement gets a fresh one", async () => {
    const pool = new pg.Pool({
      Client: BoundedClient,
      connectionString: serverUrl,
      max: 1,
      query_timeout: 300,
    });
    pool.on("error", () => {});
    const outcome = await pool.query("SELECT pg_sleep(3)").catch((error: unknown) => error);
    expect(isConnectionLost(outcome)).toBe(true);
    expect((await pool.query("SELECT 5 AS five")).rows).toEqual([{ five: 5 }]);
    await pool.end();
  });
});
