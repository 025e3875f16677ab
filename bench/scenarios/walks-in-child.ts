import { runInChild } from "../child-process.ts";
import { seededHistory } from "../ledger-schemas.ts";
import type { Measurement, ScenarioContext } from "../scenario.ts";
import type { WalkRequest, WalkResult } from "./ledger-walk-runner.ts";
import type { ReadRequest, ReadResult } from "./replay-reader.ts";

/** The parent's side of replay-reader.ts and ledger-walk-runner.ts: each run is a fresh process. */
const READER = new URL("./replay-reader.ts", import.meta.url);
const WALKER = new URL("./ledger-walk-runner.ts", import.meta.url);

/** Every event of `schema` read once, one way, in a fresh process (see replay-reader.ts). */
export function readInChild(
  context: ScenarioContext,
  schema: string,
  way: ReadRequest["way"],
  batchSize: number | undefined,
): Promise<ReadResult> {
  const request: ReadRequest = { way, batchSize, databaseUrl: context.databaseUrl, schema };
  return runInChild<ReadResult>(READER, request, context.signal);
}

export type WalkAgainstRawReads = {
  walked: WalkResult;
  raw: ReadResult[];
  /** A figure of the raw reads, averaged: the baseline. */
  rawMean(figure: (read: ReadResult) => number): number;
  /** Events/s (above `eventsPerSecondAbove`) and CPU per event, each against the raw reads'. */
  rows: Measurement[];
};

/**
 * `ledger.rebuild()` or `ledger.verify()` of the seeded history in a fresh process, as the CLI
 * runs it. Baseline: the replay scenario's raw streamed read of every column of the same events,
 * once before the walk and once after, averaged, so that a neighbour's load during the walk falls
 * on the baseline too.
 */
export async function walkAgainstRawReads(
  context: ScenarioContext,
  walk: WalkRequest["walk"],
  eventsPerSecondAbove: number,
): Promise<WalkAgainstRawReads> {
  const history = await seededHistory(context);
  const rawRead = (when: string) => {
    context.progress(`${walk}: raw read of the same events ${when} it, in a fresh process`);
    return readInChild(context, history.schema, "raw", 1000);
  };
  const raw = [await rawRead("before")];
  context.progress(`${walk}: ledger.${walk}(), in a fresh process`);
  const request: WalkRequest = { walk, databaseUrl: context.databaseUrl, schema: history.schema };
  const walked = await runInChild<WalkResult>(WALKER, request, context.signal);
  raw.push(await rawRead("after"));
  const rawMean = (figure: (read: ReadResult) => number) =>
    raw.reduce((sum, read) => sum + figure(read), 0) / raw.length;
  const rows: Measurement[] = [
    {
      metric: `${walk}, ledger.${walk}() of ${walked.events.toLocaleString("en-US")} events`,
      unit: "events/s",
      value: walked.perSecond,
      baseline: rawMean((r) => r.perSecond),
      targets: [{ above: eventsPerSecondAbove }],
      details: { [walk === "rebuild" ? "rebuilt" : "verified"]: walked, raw },
    },
    {
      metric: `${walk} CPU per event in Node (raw read: the reader's)`,
      unit: "µs",
      value: walked.cpuMicrosPerEvent,
      baseline: rawMean((r) => r.cpuMicrosPerEvent),
    },
  ];
  return { walked, raw, rawMean, rows };
}
