import { runInChild } from "../child-process.ts";
import { seededHistory } from "../ledger-schemas.ts";
import type { Scenario, ScenarioContext } from "../scenario.ts";
import type { WalkRequest, WalkResult } from "./ledger-walk-runner.ts";
import type { ReadRequest, ReadResult } from "./replay-reader.ts";

const READER = new URL("./replay-reader.ts", import.meta.url);
const WALKER = new URL("./ledger-walk-runner.ts", import.meta.url);

/**
 * `ledger.verify()` of the seeded history (the whole hash chain recomputed), in a fresh process
 * as the CLI runs it. Baseline: the replay scenario's raw streamed read of every column of the
 * same events, once before and once after, averaged, so that a neighbour's load falls on both.
 */
export const verify: Scenario = {
  name: "verify",
  summary: "ledger.verify() events/s and peak RSS over the seeded history vs a raw streamed read",
  async run(context) {
    const history = await seededHistory(context);
    const raw = [await rawRead(context, history.schema, "before")];
    context.progress("verify: ledger.verify(), in a fresh process");
    const request: WalkRequest = { walk: "verify", databaseUrl: context.databaseUrl, schema: history.schema };
    const verified = await runInChild<WalkResult>(WALKER, request, context.signal);
    raw.push(await rawRead(context, history.schema, "after"));
    if (!verified.ok || verified.events !== raw[0]?.events) {
      throw new Error(
        `verify answered ok=${verified.ok} over ${verified.events} events; the read saw ${raw[0]?.events}`,
      );
    }
    const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
    return [
      {
        metric: `verify, ledger.verify() of ${verified.events.toLocaleString("en-US")} events`,
        unit: "events/s",
        value: verified.perSecond,
        baseline: mean(raw.map((r) => r.perSecond)),
        targets: [{ above: 250_000 }],
        details: { verified, raw },
      },
      {
        metric: "verify CPU per event in Node (raw read: the reader's)",
        unit: "µs",
        value: verified.cpuMicrosPerEvent,
        baseline: mean(raw.map((r) => r.cpuMicrosPerEvent)),
      },
      {
        metric: "verify peak RSS",
        unit: "MB",
        value: verified.peakRssMb,
        baseline: mean(raw.map((r) => r.peakRssMb)),
        targets: [{ below: 150 }],
      },
    ];
  },
};

async function rawRead(context: ScenarioContext, schema: string, when: string): Promise<ReadResult> {
  context.progress(`verify: raw read of the same events ${when} it, in a fresh process`);
  const request: ReadRequest = { way: "raw", batchSize: 1000, databaseUrl: context.databaseUrl, schema };
  return runInChild<ReadResult>(READER, request, context.signal);
}
