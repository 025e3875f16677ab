import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import type { LedgerApi } from "../../src/http/app.ts";
import { createLedger } from "../../src/ledger/ledger.ts";
import { openDatabase } from "../../src/store/connection.ts";
import { testLogger } from "../support/databases.ts";
import { auth, testApi } from "../support/http-api.ts";
import { type LedgerFixture, openFixture, release } from "../support/ledger-fixtures.ts";
import { connectSse, positionsOf, type SseClient } from "../support/sse-client.ts";

let f: LedgerFixture;
let api: LedgerApi | undefined;
let url: string;
const clients: SseClient[] = [];

beforeEach(async () => {
  f = await openFixture();
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await api?.app.close();
  api = undefined;
  await f.close();
});

async function listen(heartbeatMs?: number) {
  api = await testApi(f.ledger, heartbeatMs);
  url = await api.app.listen({ host: "127.0.0.1", port: 0 });
}

async function connect(query = "", headers: Record<string, string> = {}) {
  const client = await connectSse(`${url}/v1/changes${query}`, { ...auth, ...headers });
  clients.push(client);
  return client;
}

const releases = async (from: number, count: number) => {
  for (let i = from; i < from + count; i++) await f.ok(release("momentum", `1.${i}.0`));
};
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const joined = (n: number) => vi.waitFor(() => expect(api?.hub.clients).toBe(n), { timeout: 30_000 });

describe("GET /v1/changes (Server-Sent Events)", () => {
  it("sends each event with its position as id and its type as event, live from now without a position", async () => {
    await releases(0, 2);
    await listen();
    const client = await connect();
    expect(client.status).toBe(200);
    await joined(1);
    await releases(2, 3);
    await vi.waitFor(() => expect(positionsOf(client)).toEqual([3, 4, 5]), { timeout: 30_000 });
    const frame = client.frames[0];
    expect(frame?.event).toBe("VersionReleased");
    const event = JSON.parse(frame?.data ?? "{}");
    expect(event).toMatchObject({ position: 3, type: "VersionReleased", data: { version: "1.2.0" } });
    const [stored] = (await f.ledger.events(2).next()).value ?? [];
    expect(event).toEqual(JSON.parse(JSON.stringify(stored)));
  });

  it("resumes after Last-Event-ID (or ?after=) missing nothing and repeating nothing, while events keep coming", async () => {
    await releases(0, 5);
    await listen();
    const first = await connect("?after=0");
    await vi.waitFor(() => expect(positionsOf(first)).toEqual(range(1, 5)), { timeout: 30_000 });
    first.close();
    await first.ended;
    await joined(0);

    // Missed while away, and more appended while the client catches up.
    await releases(5, 10);
    const writing = releases(15, 20);
    const resumed = await connect("", { "last-event-id": "5" });
    await writing;
    await vi.waitFor(() => expect(positionsOf(resumed)).toEqual(range(6, 35)), { timeout: 30_000 });

    const byQuery = await connect("?after=30");
    await joined(2);
    await releases(35, 2);
    await vi.waitFor(() => expect(positionsOf(byQuery)).toEqual(range(31, 37)), { timeout: 30_000 });
    await vi.waitFor(() => expect(positionsOf(resumed)).toEqual(range(6, 37)), { timeout: 30_000 });
  });

  it("sends heartbeat comments on an idle stream", async () => {
    await listen(50);
    const client = await connect();
    await vi.waitFor(() => expect(client.comments).toContain("heartbeat"), { timeout: 30_000 });
  });

  it("ends every stream when the server closes", async () => {
    await listen();
    const streams = [await connect(), await connect("?after=0")];
    await joined(2);
    await api?.app.close();
    api = undefined;
    await Promise.all(streams.map((s) => s.ended));
    for (const stream of streams) expect(stream.frames).toEqual([]);
  });
});

// Sessions terminated by the server: PostgreSQL's pg_terminate_backend, not PGlite's single backend.
describe.skipIf(inject("serverKind") === "pglite")(
  "GET /v1/changes when the database drops the API's connections",
  () => {
    it("keeps its clients and misses no position once the feed reconnects", async () => {
      // The API gets a pool of its own, named, so that only its sessions are terminated.
      const name = `http_changes_${Math.random().toString(36).slice(2, 10)}`;
      const serverUrl = f.test.env.DATABASE_URL as string;
      const apiDb = await openDatabase({
        databaseUrl: `${serverUrl}${serverUrl.includes("?") ? "&" : "?"}application_name=${name}`,
        dataDir: "unused",
        poolSize: 4,
        logger: testLogger,
      });
      const apiLedger = createLedger(apiDb, {
        schema: f.test.schema,
        logger: testLogger,
        feed: { pollMs: 200 },
      });
      try {
        await releases(0, 3);
        api = await testApi(apiLedger);
        url = await api.app.listen({ host: "127.0.0.1", port: 0 });
        const client = await connect("?after=0");
        await vi.waitFor(() => expect(positionsOf(client)).toEqual(range(1, 3)), { timeout: 30_000 });

        const terminated = await f.test.db.pool.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
          [name],
        );
        expect(terminated.rowCount).toBeGreaterThan(0);
        await releases(3, 5);
        await vi.waitFor(() => expect(positionsOf(client)).toEqual(range(1, 8)), { timeout: 60_000 });
        expect(api.hub.clients).toBe(1);
      } finally {
        await api?.app.close();
        api = undefined;
        await apiLedger.close();
        await apiDb.close();
      }
    });
  },
);
