import { runInChild } from "../child-process.ts";
import { seededHistory } from "../ledger-schemas.ts";
import type { Scenario } from "../scenario.ts";
import type { ReadRequest, ReadResult } from "./replay-reader.ts";

const READER = new URL("./replay-reader.ts", import.meta.url);
/** Each way this many times, alternating, so that a neighbour's load falls on both alike. */
const ROUNDS = 2;

/**
 * `ledger.rebuild()` of the seeded history (shared with the replay and queries scenarios): every
 * projection table truncated and refilled from the events in one transaction. Baseline: the
 * replay scenario's raw read of the same events (a `SELECT ... ORDER BY position` of every
 * column, streamed with pg-cursor 1,000 rows a fetch, in a fresh process), which is what reading
 * them costs before anything is projected.
 */
export const rebuild: Scenario = {
  name: "rebuild",
  summary: "ledger.rebuild() events/s over the seeded history vs a raw streamed read of the same events",
  async run(context) {
    const { progress, signal } = context;
    const history = await seededHistory(context);
    const raw: ReadResult[] = [];
    const rebuilt: { events: number; seconds: number; cpuMicrosPerEvent: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const ways = round % 2 === 0 ? (["raw", "rebuild"] as const) : (["rebuild", "raw"] as const);
      for (const way of ways) {
        signal.throwIfAborted();
        if (way === "raw") {
          progress(`rebuild: raw read of the same events, in a fresh process (round ${round + 1}/${ROUNDS})`);
          const request: ReadRequest = {
            way: "raw",
            batchSize: 1000,
            databaseUrl: context.databaseUrl,
            schema: history.schema,
          };
          raw.push(await runInChild<ReadResult>(READER, request, signal));
        } else {
          progress(`rebuild: ledger.rebuild() (round ${round + 1}/${ROUNDS})`);
          const cpu = process.cpuUsage();
          const started = performance.now();
          const result = await history.ledger.rebuild();
          const seconds = (performance.now() - started) / 1000;
          const used = process.cpuUsage(cpu);
          rebuilt.push({
            events: result.events,
            seconds,
            cpuMicrosPerEvent: (used.user + used.system) / result.events,
          });
        }
      }
    }
    const events = history.head;
    const rate = (runs: { events: number; seconds: number }[]) =>
      runs.reduce((sum, r) => sum + r.events, 0) / runs.reduce((sum, r) => sum + r.seconds, 0);
    const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
    return [
      {
        metric: `rebuild, ledger.rebuild() of ${events.toLocaleString("en-US")} events`,
        unit: "events/s",
        value: rate(rebuilt),
        baseline: rate(raw),
        targets: [{ above: 100_000 }],
        details: { rebuilt, raw },
      },
      {
        metric: "rebuild CPU per event in Node (raw read: the reader's)",
        unit: "µs",
        value: mean(rebuilt.map((r) => r.cpuMicrosPerEvent)),
        baseline: mean(raw.map((r) => r.cpuMicrosPerEvent)),
      },
    ];
  },
};
