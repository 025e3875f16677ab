import { BENCH_TOKEN, change, listenApi, runningPlugins } from "../http-fixtures.ts";
import { latencyRows, type Percentiles, percentilesOf } from "../latency-rows.ts";
import { openBenchLedger } from "../ledger-schemas.ts";
import type { Scenario } from "../scenario.ts";
import { listenSse } from "../sse-listener.ts";

/**
 * From an append to an SSE client: `ledger.execute` of an upgrade, then the frame of its event
 * arriving at a client of `GET /v1/changes` (the API on a loopback port in this process, woken
 * by the feed's LISTEN/NOTIFY), `BENCH_CHANGES` appends one after another, each waited for.
 * Baseline, on the same appends from the same start: a `ledger.tail` handler in this process,
 * the feed without HTTP. Targets: p50 below 50 ms, p99 below 200 ms.
 */
export const changes: Scenario = {
  name: "changes",
  summary: "append → SSE client receives, p50/p99, vs append → an in-process ledger.tail",
  async run(context) {
    const { settings, progress, signal } = context;
    const { ledger } = await openBenchLedger(context, "changes");
    await runningPlugins(ledger);
    const api = await listenApi(ledger);
    const waiting = new Map<number, () => void>();
    const seen = (arrived: Map<number, number>, position: number) => arrived.has(position);
    const sse = listenSse(api.url, BENCH_TOKEN, (position) => waiting.get(position)?.());
    const tailed = new Map<number, number>();
    const tail = ledger.tail(await ledger.head(), (events) => {
      const now = performance.now();
      for (const event of events) {
        tailed.set(event.position, now);
        waiting.get(event.position)?.();
      }
    });
    try {
      await sse.opened;
      while (api.hub.clients < 1) await new Promise((resolve) => setTimeout(resolve, 10));
      progress(`changes: ${settings.changes} appends, each timed to an SSE client and to ledger.tail`);
      const sseMs: number[] = [];
      const tailMs: number[] = [];
      for (let n = 0; n < settings.changes && !signal.aborted; n++) {
        const started = performance.now();
        const position = await change(ledger, n);
        if (!(seen(sse.arrived, position) && seen(tailed, position))) {
          await new Promise<void>((resolve) => {
            waiting.set(position, () => {
              if (seen(sse.arrived, position) && seen(tailed, position)) resolve();
            });
          });
        }
        waiting.delete(position);
        sseMs.push((sse.arrived.get(position) as number) - started);
        tailMs.push((tailed.get(position) as number) - started);
      }
      const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
      const [s, t] = [sorted(sseMs), sorted(tailMs)];
      const round = (ms: number) => Math.round(ms * 100) / 100;
      const rounded = ({ p50, p99 }: Percentiles) => ({ p50: round(p50), p99: round(p99) });
      return latencyRows((q) => `append → SSE client receives, ${q}`, rounded(percentilesOf(s)), {
        baseline: rounded(percentilesOf(t)),
        targets: { p50: [{ below: 50 }], p99: [{ below: 200 }] },
        details: { appends: sseMs.length, sseMaxMs: round(s.at(-1) ?? 0), tailMaxMs: round(t.at(-1) ?? 0) },
      });
    } finally {
      sse.close();
      await tail.stop();
      await api.app.close();
      await ledger.close();
    }
  },
};
