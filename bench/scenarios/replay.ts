import { seededHistory } from "../ledger-schemas.ts";
import type { Measurement, Scenario } from "../scenario.ts";
import type { ReadRequest } from "./replay-reader.ts";
import { readInChild } from "./walks-in-child.ts";

/**
 * The baseline's fetch size. pg parses a whole fetch before handing it over, so every row of it is
 * alive at once: a fetch that outlives V8's young generation gets copied and promoted, so the
 * fetch is kept small enough to die young (bench/README.md, "Why the code is the way it is").
 * The baseline is the plain way done well.
 */
const RAW_BATCH = 1000;

/**
 * Reads back every event of the run's seeded history (`seededHistory`, shared with the rebuild and
 * queries scenarios), each way in a fresh child process so that its peak RSS is the read's alone:
 * a raw `SELECT ... ORDER BY position` streamed with pg-cursor (the baseline), `store.readAll(0)`
 * as callers use it (one event at a time, what a replay or a rebuild iterates), and
 * `store.readAll(0, RAW_BATCH)`, which shows what readAll's default batch size costs.
 */
export const replay: Scenario = {
  name: "replay",
  summary: "events/s and peak RSS of store.readAll over the whole ledger vs a raw streamed SELECT",
  async run(context) {
    const { settings, progress } = context;
    const history = await seededHistory(context);
    const seed = history.seed;

    const read = async (way: ReadRequest["way"], batchSize: number | undefined) => {
      progress(`replay: ${way} read, batch ${batchSize ?? "default"}, in a fresh process`);
      return readInChild(context, history.schema, way, batchSize);
    };
    const raw = await read("raw", RAW_BATCH);
    const readAll = await read("store", undefined);
    const smallBatches = await read("store", RAW_BATCH);
    for (const result of [readAll, smallBatches]) {
      if (result.events !== raw.events || result.checksum !== raw.checksum) {
        throw new Error(
          `the store read ${result.events} events (checksum ${result.checksum}), the raw read ${raw.events} (${raw.checksum})`,
        );
      }
    }

    const measurements: Measurement[] = [
      {
        metric: `bulk seed, appendMany ${settings.seedBatch.toLocaleString("en-US")}/tx`,
        unit: "events/s",
        value: seed.perSecond,
        details: { ...seed },
      },
      {
        metric: "replay, store.readAll(0)",
        unit: "events/s",
        value: readAll.perSecond,
        baseline: raw.perSecond,
        targets: [{ ratioAtLeast: 0.6 }, { above: 150_000 }],
        details: { store: readAll, baseline: { ...raw, batchSize: RAW_BATCH } },
      },
      {
        // CPU time is steadier than wall time when the machine is shared.
        metric: "replay CPU per event, store.readAll(0)",
        unit: "µs",
        value: readAll.cpuMicrosPerEvent,
        baseline: raw.cpuMicrosPerEvent,
      },
      {
        metric: "replay peak RSS, store.readAll(0)",
        unit: "MB",
        value: readAll.peakRssMb,
        baseline: raw.peakRssMb,
        targets: [{ below: 150 }],
        details: { startRssMb: readAll.startRssMb, baselineStartRssMb: raw.startRssMb },
      },
      {
        metric: `replay, store.readAll(0, ${RAW_BATCH})`,
        unit: "events/s",
        value: smallBatches.perSecond,
        baseline: raw.perSecond,
        details: { store: smallBatches, baseline: raw },
      },
      {
        metric: `replay CPU per event, store.readAll(0, ${RAW_BATCH})`,
        unit: "µs",
        value: smallBatches.cpuMicrosPerEvent,
        baseline: raw.cpuMicrosPerEvent,
      },
      {
        metric: `replay peak RSS, store.readAll(0, ${RAW_BATCH})`,
        unit: "MB",
        value: smallBatches.peakRssMb,
        baseline: raw.peakRssMb,
      },
    ];
    return measurements;
  },
};
