import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { LedgerApi } from "../../src/http/app.ts";
import { auth, testApi } from "../support/http-api.ts";
import { connectSse, positionsOf, type SseClient } from "../support/sse-client.ts";
import { type LedgerFixture, openFixture, release } from "./ledger-fixtures.ts";

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
