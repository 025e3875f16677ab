import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { promisify } from "node:util";
import Fastify from "fastify";
import { pluginStatus } from "../../src/ledger/queries/status.ts";
import { tablesIn } from "../../src/store/tables.ts";
import { pluginId } from "../event-fixtures.ts";
import { BENCH_TOKEN, listenApi, runningPlugins } from "../http-fixtures.ts";
import { openBenchLedger } from "../ledger-schemas.ts";
import type { Scenario } from "../scenario.ts";

type Load = { perSecond: number; p50: number; p99: number; errors: number };

/** autocannon's own CLI, run as a process: the load generator does not share the server's event loop. */
const AUTOCANNON = createRequire(import.meta.url).resolve("autocannon/autocannon.js");
const run = promisify(execFile);

/**
 * `GET /v1/plugins/{id}` (bearer token, zod validation, ETag, the ledger, the JSON document)
 * under autocannon at `BENCH_HTTP_CONNECTIONS` connections, against a bare Fastify route that
 * runs the same SELECT (`pluginStatus`, one statement) on the same pool and sends its rows:
 * no token, no validation, no ETag. Both in this process, autocannon in a process of its own;
 * they alternate, two runs each of half the time, and each keeps its better run. Targets: at least 50% of the bare
 * route's requests per second, p99 below 20 ms.
 */
export const httpPlugin: Scenario = {
  name: "http-plugin",
  summary: "GET /v1/plugins/{id} with autocannon vs a bare Fastify route running the same SELECT",
  async run(context) {
    const { settings, progress, signal } = context;
    const opened = await openBenchLedger(context, "http");
    const { ledger, schema } = opened;
    await runningPlugins(ledger);
    const api = await listenApi(ledger);
    const tables = tablesIn(schema);
    const bare = Fastify();
    bare.get<{ Params: { id: string } }>("/bare/:id", async (request) =>
      pluginStatus(context.db.pool, tables, request.params.id),
    );
    const bareUrl = await bare.listen({ host: "127.0.0.1", port: 0 });
    const id = pluginId(0);
    const load = async (
      url: string,
      seconds: number,
      headers: Record<string, string> = {},
    ): Promise<Load> => {
      const args = ["-c", String(settings.httpConnections), "-d", String(seconds), "-j"];
      for (const [name, value] of Object.entries(headers)) args.push("-H", `${name}=${value}`);
      const { stdout } = await run(process.execPath, [AUTOCANNON, ...args, url], {
        signal,
        maxBuffer: 1 << 24,
      });
      const result = JSON.parse(stdout);
      return {
        perSecond: Math.round(result.requests.average),
        p50: result.latency.p50,
        p99: result.latency.p99,
        errors: result.errors + result.timeouts + result.non2xx,
      };
    };
    const ours = (seconds: number) =>
      load(`${api.url}/v1/plugins/${id}`, seconds, { authorization: `Bearer ${BENCH_TOKEN}` });
    const theirs = (seconds: number) => load(`${bareUrl}/bare/${id}`, seconds);
    try {
      progress(
        `http-plugin: warm-up, then ${settings.httpConnections} connections, ${settings.seconds} s each, alternating`,
      );
      await ours(1);
      await theirs(1);
      const runs = { ours: [] as Load[], bare: [] as Load[] };
      const half = Math.max(1, Math.round(settings.seconds / 2));
      for (let round = 0; round < 2 && !signal.aborted; round++) {
        runs.ours.push(await ours(half));
        runs.bare.push(await theirs(half));
      }
      const best = (all: Load[]) => all.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
      const [o, b] = [best(runs.ours), best(runs.bare)];
      if (o.errors > 0 || b.errors > 0)
        throw new Error(`errors under load: ours ${o.errors}, bare ${b.errors}`);
      return [
        {
          metric: `GET /v1/plugins/{id}, ${settings.httpConnections} connections`,
          unit: "requests/s",
          value: o.perSecond,
          baseline: b.perSecond,
          targets: [{ ratioAtLeast: 0.5 }],
          details: runs,
        },
        {
          metric: `GET /v1/plugins/{id} latency p99, ${settings.httpConnections} connections`,
          unit: "ms",
          value: o.p99,
          baseline: b.p99,
          targets: [{ below: 20 }],
        },
      ];
    } finally {
      await bare.close();
      await api.app.close();
      await ledger.close();
    }
  },
};
