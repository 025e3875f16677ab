import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openNote, parseVerifierKey } from "../../src/domain/signed-note.ts";
import { generateSigningKey, writeSigningKey } from "../../src/index.ts";
import { runCli } from "../support/cli.ts";
import { openServerLedger, type TestDatabase } from "../support/databases.ts";
import { auth, TOKEN, testApi } from "../support/http-api.ts";
import { openFixture } from "../support/ledger-fixtures.ts";
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

  it("the bundled process publishes the library's OpenAPI document and answers bad input with 400", async () => {
    const started = await startServe(ledger.env);
    const f = await openFixture();
    const api = await testApi(f.ledger);
    try {
      const served = await started.get("/v1/openapi.json");
      expect(served.status).toBe(200);
      const inProcess = await api.app.inject({ url: "/v1/openapi.json", headers: auth });
      expect(JSON.parse(served.body)).toEqual(inProcess.json());
      const bad = await started.get("/v1/plugins/NOT_AN_ID/history?limit=abc");
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body)).toMatchObject({ error: { code: "INVALID_INPUT" } });
    } finally {
      await api.app.close();
      await f.close();
      await started.stop();
    }
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

  // `serve` and `npm start` are long-running: each signs checkpoints (with a key and a rule) and
  // delivers the webhooks (when configured) besides answering.
  it.each([
    ["serve", ["serve", "--port", "0"], {}],
    ["npm start", [], { HTTP_PORT: "0" }],
  ])("%s signs a checkpoint every N events and delivers the webhooks", async (_name, args, extra) => {
    const fresh = await openServerLedger();
    const dir = mkdtempSync(path.join(tmpdir(), "pl-serve-key-"));
    const keyFile = path.join(dir, "signing.key");
    const key = generateSigningKey("plugin-ledger/serve-test");
    writeSigningKey(keyFile, key.privateKey);
    const positions: number[] = [];
    const receiver = createServer((request, response) => {
      positions.push(Number(request.headers["x-ledger-position"]));
      request.resume();
      request.on("end", () => response.writeHead(200).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const env = {
      ...fresh.env,
      ...extra,
      LEDGER_SIGNING_KEY_FILE: keyFile,
      LEDGER_CHECKPOINT_EVERY: "2",
      LEDGER_WEBHOOK_URLS: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      LEDGER_WEBHOOK_SECRET: "a-secret-for-the-serve-test",
      LEDGER_FEED_POLL_MS: "100",
      HTTP_TOKENS: TOKEN,
    };
    const started = await startServe(env, args);
    try {
      // Both subscribers start at the head: wait until they hold it before writing.
      for (;;) {
        const listed = await runCli(["subscriptions", "--json"], env);
        const running = JSON.parse(listed.stdout).items.filter((s: { running: boolean }) => s.running);
        if (running.length === 2) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      for (const version of ["1.0.0", "1.1.0", "1.2.0"]) {
        expect((await runCli(["release", "signed", version], env)).code).toBe(0);
      }
      let answer = await started.get("/v1/checkpoint?format=json");
      while (answer.status === 404) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        answer = await started.get("/v1/checkpoint?format=json");
      }
      const checkpoint = JSON.parse(answer.body);
      // Every 2 events: the tree of 2, not of 3 (the third event starts the next count).
      expect(checkpoint.size).toBe(2);
      expect(openNote(checkpoint.note, parseVerifierKey(key.verifierKey)).split("\n")[1]).toBe("2");
      while (positions.length < 3) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(positions).toEqual([1, 2, 3]);
    } finally {
      expect(await started.stop()).toBe(0);
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
      await fresh.close();
    }
  });
});
