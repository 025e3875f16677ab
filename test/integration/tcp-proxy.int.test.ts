import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { isConnectionLost } from "../../src/store/connection-errors.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

// The proxy itself: each fault it injects looks to pg as the real one does.
describe("tcp proxy", () => {
  let proxy: TcpProxy;
  let url: string;
  beforeAll(async () => {
    const target = new URL(inject("serverUrl"));
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    url = proxy.urlFor(inject("serverUrl"));
  });
  afterAll(() => proxy.close());

  async function connected(options: pg.ClientConfig = {}): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url, ...options });
    client.on("error", () => {}); // the faults below are the point
    await client.connect();
    return client;
  }

  it("forwards queries", async () => {
    const client = await connected();
    expect((await client.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await client.end();
  });

  it("cut ends open connections with a lost-connection error and keeps forwarding new ones", async () => {
    const client = await connected();
    const pending = client.query("SELECT pg_sleep(30)");
    await new Promise((resolve) => setTimeout(resolve, 100));
    proxy.cut();
    const error = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isConnectionLost(error)).toBe(true);
    const again = await connected();
    expect((await again.query("SELECT 2 AS two")).rows).toEqual([{ two: 2 }]);
    await again.end();
  });

  it("refuse makes connecting fail with ECONNREFUSED until restore", async () => {
    await proxy.refuse();
    const error = await connected().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as { code?: string }).code).toBe("ECONNREFUSED");
    expect(isConnectionLost(error)).toBe(true);
    await proxy.restore();
    const client = await connected();
    expect((await client.query("SELECT 3 AS three")).rows).toEqual([{ three: 3 }]);
    await client.end();
  });

  it("stall holds a new connection unanswered until the client's own timeout", async () => {
    proxy.stall();
    const error = await connected({ connectionTimeoutMillis: 300 })
      .then(
        () => undefined,
        (e: unknown) => e,
      )
      .finally(() => proxy.restore());
    expect(isConnectionLost(error)).toBe(true);
  });

  it("stall holds an open connection's query until query_timeout", async () => {
    const client = await connected({ query_timeout: 300 });
    proxy.stall();
    const error = await client
      .query("SELECT 4")
      .then(
        () => undefined,
        (e: unknown) => e,
      )
      .finally(() => proxy.restore());
    expect(isConnectionLost(error)).toBe(true);
    await client.end().catch(() => {});
  });
});
