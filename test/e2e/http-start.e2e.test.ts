import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { openServerLedger, type TestDatabase } from "../support/databases.ts";
import { TOKEN } from "../support/http-api.ts";
import { startServe } from "../support/serve-process.ts";

describe("serving the HTTP API as a process", () => {
  let ledger: TestDatabase;
  beforeAll(async () => {
    ledger = await openServerLedger();
  });
  afterAll(async () => {
    await ledger?.close();
  });

  it("npm start serves it when HTTP_PORT is set, and stops with 0 on SIGTERM", async () => {
    const started = await startServe({ ...ledger.env, HTTP_PORT: "0" }, []);
    expect((await fetch(`${started.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${started.url}/v1/status`)).status).toBe(401);
    const status = await started.get("/v1/status");
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body)).toEqual({ position: 0, host: null, plugins: [] });
    expect(await started.stop()).toBe(0);
  });

  it("refuses to serve without tokens, or with a short one, in one line and exit 2", async () => {
    const noTokens = await runCli(["serve", "--port", "0"], ledger.env);
    expect(noTokens.code).toBe(2);
    expect(noTokens.stderr.trim().split("\n")).toEqual([expect.stringMatching(/HTTP_TOKENS is not set/)]);
    const short = await runCli(["status"], { ...ledger.env, HTTP_TOKENS: `${TOKEN},short` });
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/HTTP_TOKENS/);
    const portOnly = await runCli(["status"], { ...ledger.env, HTTP_PORT: "8080" });
    expect(portOnly.code).toBe(2);
    expect(portOnly.stderr).toMatch(/HTTP_TOKENS is required with HTTP_PORT/);
  });
});
