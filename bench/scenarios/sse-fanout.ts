import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { BENCH_TOKEN, change, runningPlugins } from "../http-fixtures.ts";
import { openBenchLedger } from "../ledger-schemas.ts";
import type { Scenario } from "../scenario.ts";
import { listenSse, type SseListener } from "../sse-listener.ts";

const BIN = fileURLToPath(new URL("../../bin/plugin-ledger.js", import.meta.url));
const CHANGES = 5;

/**
 * `BENCH_SSE_CLIENTS` SSE clients on one `plugin-ledger serve` process (its own, so that its RSS
 * is the server's): the time from an append to its frame reaching the last of them, the median
 * of 5 changes, against the same with one client connected, in the same run. And the server's
 * RSS per connected client: (RSS with the clients − RSS before them) / clients. Target: every
 * client within 1 s.
 */
export const sseFanout: Scenario = {
  name: "sse-fanout",
  summary: "one change reaching 1,000 SSE clients (vs 1), and the server's RSS per client",
  async run(context) {
    const { settings, progress, signal } = context;
    const { ledger, schema } = await openBenchLedger(context, "fanout");
    await runningPlugins(ledger);
    const server = await startServer(context.databaseUrl, schema, signal);
    const clients: SseListener[] = [];
    let n = 0;
    /** The time from an append to its frame at the last of `clients`, in ms. */
    const toAll = async (): Promise<number> => {
      const started = performance.now();
      const position = await change(ledger, n++);
      for (;;) {
        if (clients.every((c) => c.arrived.has(position))) break;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      return Math.max(...clients.map((c) => (c.arrived.get(position) as number) - started));
    };
    const median = async () => {
      const times: number[] = [];
      for (let i = 0; i < CHANGES && !signal.aborted; i++) times.push(await toAll());
      return times.sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? 0;
    };
    try {
      clients.push(listenSse(server.url, BENCH_TOKEN));
      await clients[0]?.opened;
      await toAll();
      const oneClientMs = await median();
      const rssBefore = server.rssKb();
      progress(`sse-fanout: connecting ${settings.sseClients} clients`);
      for (let i = clients.length; i < settings.sseClients; i += 100) {
        const batch = Array.from({ length: Math.min(100, settings.sseClients - i) }, () =>
          listenSse(server.url, BENCH_TOKEN),
        );
        clients.push(...batch);
        await Promise.all(batch.map((c) => c.opened));
      }
      // Every client hears one change before anything is timed: all of them have joined.
      await toAll();
      const rssAfter = server.rssKb();
      const allClientsMs = await median();
      const round = (ms: number) => Math.round(ms * 10) / 10;
      return [
        {
          metric: `one change reaching all of ${clients.length} SSE clients (median of ${CHANGES})`,
          unit: "ms",
          value: round(allClientsMs),
          baseline: round(oneClientMs),
          targets: [{ below: 1000 }],
        },
        {
          metric: `server RSS per connected SSE client (${clients.length} clients)`,
          unit: "KB",
          value: Math.round(((rssAfter - rssBefore) / clients.length) * 10) / 10,
          details: { rssBeforeKb: rssBefore, rssAfterKb: rssAfter },
        },
      ];
    } finally {
      for (const client of clients) client.close();
      await server.stop();
      await ledger.close();
    }
  },
};

async function startServer(databaseUrl: string, schema: string, signal: AbortSignal) {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0"], {
    env: {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: databaseUrl,
      LEDGER_SCHEMA: schema,
      HTTP_TOKENS: BENCH_TOKEN,
      LOG_LEVEL: "warn",
      DATABASE_POOL_SIZE: "4",
    },
    signal,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  child.on("error", () => {});
  const url = await new Promise<string>((resolve, reject) => {
    exited.then(() => reject(new Error("plugin-ledger serve exited before it listened")));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const found = /^listening on (\S+)$/.exec(line)?.[1];
      if (found) resolve(found);
    });
  });
  return {
    url,
    rssKb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1]),
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
