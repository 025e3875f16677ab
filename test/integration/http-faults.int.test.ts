import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildApi, type LedgerApi } from "../../src/http/app.ts";
import { testLogger } from "../support/databases.ts";
import { auth, TOKEN } from "../support/http-api.ts";
import { openProxiedLedger, type ProxiedLedger } from "../support/proxied-ledger.ts";
import type { TcpProxy } from "../support/tcp-proxy.ts";

/**
 * The HTTP API in front of a database that goes away (a loopback proxy that refuses or stalls
 * its connections): a request gets 503 UNAVAILABLE in the error shape with a Retry-After, never a
 * 500 or a hang, and the next request after the database is back gets its answer.
 */
describe.skipIf(inject("serverKind") !== "postgres")("HTTP API while the database is away", () => {
  let faulty: ProxiedLedger;
  let api: LedgerApi;

  beforeAll(async () => {
    // The ledger gives up before the API's own deadline: the 503 is its DatabaseUnavailableError.
    faulty = await openProxiedLedger({ timeouts: { connectMs: 1_000, statementMs: 2_000, retryMs: 1_500 } });
    api = await buildApi({ ledger: faulty.ledger, tokens: [TOKEN], logger: testLogger, deadlineMs: 60_000 });
  });
  afterAll(async () => {
    await api?.app.close();
    await faulty?.close();
  });

  const get = (url: string) => api.app.inject({ method: "GET", url, headers: auth });

  function expectUnavailable(answer: Awaited<ReturnType<typeof get>>) {
    expect(answer.statusCode).toBe(503);
    expect(answer.json()).toEqual({
      error: { code: "UNAVAILABLE", message: "the ledger's database is not reachable; try again later" },
    });
    expect(answer.headers["retry-after"]).toBe("5");
  }

  it.each([
    ["refused", (p: TcpProxy) => p.refuse()],
    ["stalled", async (p: TcpProxy) => p.stall()],
  ])("answers 503 UNAVAILABLE while connections are %s, then answers again", async (_how, fault) => {
    expect((await get("/v1/status")).statusCode).toBe(200);
    await fault(faulty.proxy);
    try {
      for (const url of ["/v1/status", "/v1/plugins/momentum/diff?from=1.0.0&to=1.1.0", "/v1/checkpoint"]) {
        expectUnavailable(await get(url));
      }
      expect((await api.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(503);
    } finally {
      await faulty.proxy.restore();
    }
    expect((await get("/v1/status")).statusCode).toBe(200);
  });
});
