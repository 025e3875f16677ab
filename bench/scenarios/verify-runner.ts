import { createLedger } from "../../src/ledger.ts";
import { createLogger } from "../../src/log.ts";
import { openDatabase } from "../../src/store/connection.ts";
import { serveOneRequest } from "../child-process.ts";

/**
 * The verify scenario's child process: one `ledger.verify()`, in a fresh process as the CLI's
 * `verify` runs it, reporting events/s, CPU per event and the process's peak RSS.
 */
export type VerifyRequest = { databaseUrl: string; schema: string };
export type VerifyResultInChild = {
  events: number;
  ok: boolean;
  seconds: number;
  perSecond: number;
  cpuMicrosPerEvent: number;
  peakRssMb: number;
};

serveOneRequest<VerifyRequest, VerifyResultInChild>(async (request) => {
  const logger = createLogger("warn");
  const db = await openDatabase({
    databaseUrl: request.databaseUrl,
    dataDir: ".ledger",
    poolSize: 2,
    logger,
  });
  try {
    const ledger = createLedger(db, { schema: request.schema, logger });
    // Connected before the clock starts: only the walk is timed.
    await ledger.status();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const result = await ledger.verify();
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return {
      events: result.events,
      ok: result.ok,
      seconds,
      perSecond: result.events / seconds,
      cpuMicrosPerEvent: (cpu.user + cpu.system) / result.events,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await db.close();
  }
});
