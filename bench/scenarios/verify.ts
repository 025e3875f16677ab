import type { Scenario } from "../scenario.ts";
import { walkAgainstRawReads } from "./walks-in-child.ts";

/**
 * `ledger.verify()` of the seeded history (the whole hash chain recomputed), in a fresh process
 * as the CLI runs it. Baseline: the replay scenario's raw streamed read of every column of the
 * same events, once before and once after, averaged, so that a neighbour's load falls on both.
 */
export const verify: Scenario = {
  name: "verify",
  summary: "ledger.verify() events/s and peak RSS over the seeded history vs a raw streamed read",
  async run(context) {
    const { walked: verified, raw, rawMean, rows } = await walkAgainstRawReads(context, "verify", 250_000);
    if (!verified.ok || verified.events !== raw[0]?.events) {
      throw new Error(
        `verify answered ok=${verified.ok} over ${verified.events} events; the read saw ${raw[0]?.events}`,
      );
    }
    return [
      ...rows,
      {
        metric: "verify peak RSS",
        unit: "MB",
        value: verified.peakRssMb,
        baseline: rawMean((r) => r.peakRssMb),
        targets: [{ below: 150 }],
      },
    ];
  },
};
