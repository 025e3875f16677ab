import type { Scenario } from "../scenario.ts";
import { walkAgainstRawReads } from "./walks-in-child.ts";

/**
 * `ledger.rebuild()` of the seeded history (shared with the replay and queries scenarios): every
 * projection table truncated and refilled from the events in one transaction, in a fresh process
 * as the CLI runs it. Baseline: the replay scenario's raw read of the same events (a
 * `SELECT ... ORDER BY position` of every column, streamed with pg-cursor 1,000 rows a fetch, in
 * a fresh process), which is what reading them costs before anything is validated or projected.
 * A raw read before the rebuild and one after, averaged, so that a neighbour's load during the
 * rebuild falls on the baseline too.
 */
export const rebuild: Scenario = {
  name: "rebuild",
  summary: "ledger.rebuild() events/s over the seeded history vs a raw streamed read of the same events",
  async run(context) {
    return (await walkAgainstRawReads(context, "rebuild", 150_000)).rows;
  },
};
