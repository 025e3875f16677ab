import { createLedger } from "../../src/ledger.ts";
import { createLogger } from "../../src/log.ts";
import { openDatabase } from "../../src/store/connection.ts";
import { serveOneRequest } from "../child-process.ts";

/**
 * The rebuild scenario's child process: one `ledger.rebuild()`, in a fresh process as the CLI's
 * `rebuild` runs it, so that neither the bench's own heap (the seed's garbage) nor a previous
 * rebuild's compiled code is counted for or against it.
 */
export type RebuildRequest = { databaseUrl: string; schema: string };
export type RebuildResultInChild = {
  events: number;
  seconds: number;
  perSecond: number;
  /** CPU time (user + system) of this process per event. */
  cpuMicrosPerEvent: number;
};

serveOneRequest<RebuildRequest, RebuildResultInChild>(async (request) => {
  const logger = createLogger("warn");
  const db = await openDatabase({
    databaseUrl: request.databaseUrl,
    dataDir: ".ledger",
    poolSize: 4,
    logger,
  });
  try {
    const ledger = createLedger(db, { schema: request.schema, logger });
    // Connected before the clock starts: only the rebuild is timed.
    await ledger.status();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const { events } = await ledger.rebuild();
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return {
      events,
      seconds,
      perSecond: events / seconds,
      cpuMicrosPerEvent: (cpu.user + cpu.system) / events,
    };
  } finally {
    await db.close();
  }
});
