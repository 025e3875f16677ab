import Cursor from "pg-cursor";
import { createLogger } from "../../src/log.ts";
import { type Database, openDatabase } from "../../src/store/connection.ts";
import { createEventStore, type EventStore } from "../../src/store/event-store.ts";
import { tablesIn } from "../../src/store/tables.ts";
import { serveOneRequest } from "../child-process.ts";
import { measureWalk, peakRssMb, type WalkCost } from "../walk-cost.ts";

/**
 * The replay scenario's child process: reads every event once, one way, and reports events/s and
 * the process's peak RSS. Run once per way, each in a fresh process (see replay.ts).
 */
export type ReadRequest = {
  /** `raw`: pg-cursor over a plain SELECT; `store`: `store.readAll`, one event at a time. */
  way: "raw" | "store";
  /** Rows per fetch; for the store, undefined means readAll's own default. */
  batchSize: number | undefined;
  databaseUrl: string;
  schema: string;
};
export type ReadResult = WalkCost & {
  events: number;
  /** Sum of the stream versions read: every way must read the same events. */
  checksum: number;
  /** Peak RSS before the read began (Node, tsx, pg, the store's modules), in MB. */
  startRssMb: number;
};

/** The same columns the store selects, in the same order. */
const COLUMNS =
  "position, stream_id, stream_version, event_id, type, schema_version, data, metadata, recorded_at, prev_hash, hash";

serveOneRequest<ReadRequest, ReadResult>(async (request) => {
  const db = await openDatabase({
    databaseUrl: request.databaseUrl,
    dataDir: ".ledger",
    poolSize: 1,
    logger: createLogger("warn"),
  });
  try {
    const store = createEventStore({ pool: db.pool, schema: request.schema });
    // Connected before the clock starts: only the read is timed.
    await store.head();
    const startRssMb = peakRssMb();
    return { ...(await measureWalk(() => readAll(request, db, store))), startRssMb };
  } finally {
    await db.close();
  }
});

async function readAll(
  request: ReadRequest,
  db: Database,
  store: EventStore,
): Promise<{ events: number; checksum: number }> {
  let events = 0;
  let checksum = 0;
  switch (request.way) {
    case "store":
      for await (const event of store.readAll(0, request.batchSize)) {
        events += 1;
        checksum += event.streamVersion;
      }
      break;
    case "raw": {
      // A connection of its own: the pool pipelines, and a cursor keeps a portal open across
      // round trips, which pg refuses on a pipelining connection.
      const client = db.newClient();
      client.on("error", () => {});
      await client.connect();
      try {
        // The pool's own type parsers (int8 as number), so both sides decode the same values.
        const cursor = client.query(
          new Cursor(`SELECT ${COLUMNS} FROM ${tablesIn(request.schema).events} ORDER BY position`, [], {
            rowMode: "array",
            types: db.pool.options.types,
          }),
        );
        for (;;) {
          const rows: unknown[][] = await cursor.read(request.batchSize ?? 1000);
          if (rows.length === 0) break;
          for (const row of rows) {
            events += 1;
            checksum += row[2] as number;
          }
        }
        await cursor.close();
      } finally {
        await client.end();
      }
      break;
    }
  }
  return { events, checksum };
}
