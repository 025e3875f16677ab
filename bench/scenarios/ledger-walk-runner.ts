import { createLedger } from "../../src/ledger/ledger.ts";
import { createLogger } from "../../src/log.ts";
import { openDatabase } from "../../src/store/connection.ts";
import { serveOneRequest } from "../child-process.ts";
import { measureWalk, type WalkCost } from "../walk-cost.ts";

/**
 * The rebuild and verify scenarios' child process: one `ledger.rebuild()` or `ledger.verify()`
 * over the whole ledger, in a fresh process as the CLI runs it, so that neither the bench's own
 * heap (the seed's garbage) nor an earlier walk's compiled code is counted for or against it.
 */
export type WalkRequest = { walk: "rebuild" | "verify"; databaseUrl: string; schema: string };
export type WalkResult = WalkCost & {
  events: number;
  /** verify: whether the chain held; rebuild: always true (a broken chain throws). */
  ok: boolean;
};

serveOneRequest<WalkRequest, WalkResult>(async (request) => {
  const logger = createLogger("warn");
  const db = await openDatabase({
    databaseUrl: request.databaseUrl,
    dataDir: ".ledger",
    poolSize: 4,
    logger,
  });
  try {
    const ledger = createLedger(db, { schema: request.schema, logger });
    // Connected before the clock starts: only the walk is timed.
    await ledger.status();
    return await measureWalk(async () => {
      const { events, ok } =
        request.walk === "rebuild" ? { ...(await ledger.rebuild()), ok: true } : await ledger.verify();
      return { events, ok };
    });
  } finally {
    await db.close();
  }
});
