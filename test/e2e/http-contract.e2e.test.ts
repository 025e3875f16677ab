import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
  const cli = async (...args: string[]) => {
    const run = await runCli(args, ledger.env);
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
    serve = await startServe(ledger.env);
  });
  afterAll(async () => {
    if (serve) expect(await serve.stop()).toBe(0);
    await ledger?.close();
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
});
