import { runInChild } from "../child-process.ts";
import { seededHistory } from "../ledger-schemas.ts";
import type { Scenario, ScenarioContext } from "../scenario.ts";
import type { WalkRequest, WalkResult } from "./ledger-walk-runner.ts";
import type { ReadRequest, ReadResult } from "./replay-reader.ts";

const READER = new URL("./replay-reader.ts", import.meta.url);
const WALKER = new URL("./ledger-walk-runner.ts", import.meta.url);

/**
 * `ledger.rebuild()` of the seeded history (shared with the replay and queries scenarios): every
 * projection table truncated and refilled from the events in one transaction, in a fresh process
 * as the CLI runs it. Baseline: the replay scenario's raw read of the same events (a
 * `SELECT ... ORDER BY position` of every column, streamed with pg-cursor 1,000 rows a fetch, in
 * a fresh process), which is what reading them costs before anything is validated or projected.
 * A raw read before the rebuild and one after, averaged, so that a neighbour's load during the
 * rebuild falls on the baseline too; at a million events each takes tens of seconds.
 */
export const rebuild: Scenario = {
  name: "rebuild",
  summary: "ledger.rebuild() events/s over the seeded history vs a raw streamed read of the same events",
  async run(context) {
    const history = await seededHistory(context);
    const raw = [await rawRead(context, history.schema, "before")];
    context.progress("rebuild: ledger.rebuild(), in a fresh process");
    const request: WalkRequest = {
      walk: "rebuild",
      databaseUrl: context.databaseUrl,
      schema: history.schema,
    };
    const rebuilt = await runInChild<WalkResult>(WALKER, request, context.signal);
    raw.push(await rawRead(context, history.schema, "after"));
    const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
    return [
      {
        metric: `rebuild, ledger.rebuild() of ${rebuilt.events.toLocaleString("en-US")} events`,
        unit: "events/s",
        value: rebuilt.perSecond,
        baseline: mean(raw.map((r) => r.perSecond)),
        targets: [{ above: 100_000 }],
        details: { rebuilt, raw },
      },
      {
        metric: "rebuild CPU per event in Node (raw read: the reader's)",
        unit: "µs",
        value: rebuilt.cpuMicrosPerEvent,
        baseline: mean(raw.map((r) => r.cpuMicrosPerEvent)),
      },
    ];
  },
};

async function rawRead(context: ScenarioContext, schema: string, when: string): Promise<ReadResult> {
  context.progress(`rebuild: raw read of the same events ${when} it, in a fresh process`);
  const request: ReadRequest = { way: "raw", batchSize: 1000, databaseUrl: context.databaseUrl, schema };
  return runInChild<ReadResult>(READER, request, context.signal);
}
