import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSigningKey, writeSigningKey } from "../../src/index.ts";
import { runCli } from "../support/cli.ts";
import { openServerLedger, type TestDatabase } from "../support/databases.ts";
import { type ServeProcess, startServe } from "../support/serve-process.ts";

/**
 * The HTTP API's contract: every route answers what the CLI's --json answers to the same
 * question, on the same ledger, a `serve` process and CLI processes side by side.
 */
describe("HTTP API contract with the CLI's --json", () => {
  let ledger: TestDatabase;
  let serve: ServeProcess;
  let head = 0;
  let midTime = "";
  // The CLI and `serve` share a signing key: checkpoints signed by one are served by the other.
  const keyDir = mkdtempSync(path.join(tmpdir(), "pl-contract-"));
  const keyFile = path.join(keyDir, "signing.key");
  writeSigningKey(keyFile, generateSigningKey("plugin-ledger/contract").privateKey);
  const env = () => ({ ...ledger.env, LEDGER_SIGNING_KEY_FILE: keyFile });
  const cli = async (...args: string[]) => {
    const run = await runCli(args, env());
    if (run.code !== 0) throw new Error(`plugin-ledger ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
    return run.stdout;
  };

  beforeAll(async () => {
    ledger = await openServerLedger();
    await cli("host", "set", "--api", "2.3.0", "--db-schema", "14.0.0");
    await Promise.all([
      cli("release", "momentum", "1.0.0", "--features", "fills"),
      cli("release", "grid_bot", "0.9.0", "--compat", "momentum=^1.0.0"),
    ]);
    await cli("release", "momentum", "1.1.0");
    await cli("release", "momentum", "1.2.0");
    await cli("register", "momentum", "1.0.0");
    await cli("register", "grid_bot", "0.9.0");
    const found = await ledger.db.pool.query(`SELECT max(recorded_at) AS at FROM "${ledger.schema}".events`);
    midTime = (found.rows[0].at as Date).toISOString();
    await cli("upgrade", "momentum", "1.1.0", "--reason", "better fills");
    await cli("abtest", "start", "momentum", "1.2.0", "--weight", "25");
    head = Number(JSON.parse(await cli("status", "--json")).position);
    serve = await startServe(env());
  });
  afterAll(async () => {
    if (serve) expect(await serve.stop()).toBe(0);
    await ledger?.close();
    rmSync(keyDir, { recursive: true, force: true });
  });

  const units = ["BTCUSDT", "ETHUSDT", "acct:42", "SOLUSDT", "Ünit"];
  const unitQuery = units.map((u) => `unit=${encodeURIComponent(u)}`).join("&");
  /** [route, CLI arguments, what of the CLI's document the route answers], once the ledger is seeded. */
  const cases = (): [string, () => string[], (cli: Record<string, unknown>) => unknown][] => [
    ["/v1/status", () => ["status"], (d) => d],
    ["/v1/plugins", () => ["status"], (d) => ({ position: d.position, items: d.plugins })],
    [
      "/v1/plugins/momentum",
      () => ["status"],
      (d) => ({
        position: d.position,
        plugin: (d.plugins as { pluginId: string }[]).find((p) => p.pluginId === "momentum"),
      }),
    ],
    ["/v1/plugins/momentum/versions", () => ["versions", "momentum"], (d) => d],
    ["/v1/plugins/momentum/history?limit=2", () => ["history", "momentum", "--limit", "2"], (d) => d],
    ["/v1/matrix", () => ["matrix"], (d) => d],
    ["/v1/asof?at=4", () => ["asof", "4"], (d) => d],
    [`/v1/asof?at=${midTime}`, () => ["asof", midTime], (d) => d],
    [`/v1/assign?plugin=momentum&${unitQuery}`, () => ["abtest", "assign", "momentum", ...units], (d) => d],
    [
      `/v1/assign?plugin=momentum&at=6&${unitQuery}`,
      () => ["abtest", "assign", "momentum", ...units, "--at", "6"],
      (d) => d,
    ],
    ["/v1/audit?limit=4", () => ["audit", "--limit", "4"], (d) => d],
    ["/v1/audit?plugin=grid_bot", () => ["audit", "--plugin", "grid_bot"], (d) => d],
    ["/v1/plugins/momentum/diff?from=1.0.0&to=1.2.0", () => ["diff", "momentum", "1.0.0", "1.2.0"], (d) => d],
    ["/v1/plugins/momentum/diff?from=1.2.0&to=1.0.0", () => ["diff", "momentum", "1.2.0", "1.0.0"], (d) => d],
    [
      `/v1/timeline?plugin=momentum&plugin=grid_bot&to=${head}`,
      () => ["timeline", "momentum", "grid_bot", "--to", String(head)],
      (d) => d,
    ],
  ];

  it("answers every question as the CLI's --json does", async () => {
    const answers = await Promise.all(
      cases().map(async ([route, args, pick]) => {
        const [http, printed] = await Promise.all([serve.get(route), cli(...args(), "--json")]);
        return { route, http, expected: pick(JSON.parse(printed)) };
      }),
    );
    for (const { route, http, expected } of answers) {
      expect(http.status, route).toBe(200);
      const body = JSON.parse(http.body);
      // The audit's page cursor is the API's own field.
      if (route.startsWith("/v1/audit")) delete body.nextBefore;
      expect(body, route).toEqual(expected);
    }
  });

  it("streams the events and the CSV timeline byte for byte as the CLI prints them", async () => {
    const [events, printedEvents] = await Promise.all([
      serve.get("/v1/events?after=3"),
      cli("events", "--from", "3"),
    ]);
    expect(events.body).toBe(printedEvents);
    const route = `/v1/timeline?plugin=momentum&format=csv&to=${head}`;
    const [csv, printedCsv] = await Promise.all([
      serve.get(route),
      cli("timeline", "momentum", "--format", "csv", "--to", String(head)),
    ]);
    expect(csv.body).toBe(printedCsv);
  });

  it("serves the checkpoint `plugin-ledger checkpoint` signed, byte for byte, and its --json", async () => {
    const none = await serve.get("/v1/checkpoint");
    expect(none.status).toBe(404);
    expect(JSON.parse(none.body).error.code).toBe("NOT_FOUND");
    const printed = await cli("checkpoint");
    const signed = JSON.parse(await cli("checkpoint", "--json"));
    expect(signed.size).toBe(head);
    // The text verb prints the note (the same size signed again answers the stored note).
    expect(printed).toBe(signed.note);
    const stored = await ledger.db.pool.query(
      `SELECT note FROM "${ledger.schema}".signed_checkpoints WHERE tree_size = $1`,
      [head],
    );
    expect(stored.rows[0].note).toBe(signed.note);

    for (const route of ["/v1/checkpoint", `/v1/checkpoints/${head}`]) {
      const note = await serve.get(route);
      expect(note.status, route).toBe(200);
      expect(note.body, route).toBe(signed.note);
      const { ok: _ok, ...document } = signed;
      expect(JSON.parse((await serve.get(`${route}?format=json`)).body), route).toEqual(document);
    }
  });
});
