/**
 * A process running one durable subscriber, for the feed's crash and exclusion tests. It opens the
 * ledger named by the environment and runs subscriber `name`; each batch its handler records a run
 * (its pid, first and last position, start and end by the database's clock) in `feed_runs` and the
 * positions, in order, in `feed_handled`, and prints `handled <last position>`. SIGTERM stops it
 * cleanly (`stopped`); SIGKILL is the test's business.
 */
import { loadConfig } from "../../src/config.ts";
import { openLedgerInternals } from "../../src/ledger/ledger.ts";
import { createLogger } from "../../src/log.ts";

const [name = "peer", batchText = "10", delayText = "20", leaseText = "15000"] = process.argv.slice(2);
const config = loadConfig();
const logger = createLogger(process.env.PEER_LOG_LEVEL ?? "warn");
const { ledger, database } = await openLedgerInternals({ ...config, logger, feed: { pollMs: 50 } });
const { pool } = database;
const runs = `"${config.schema}".feed_runs`;
const handled = `"${config.schema}".feed_handled`;

const subscription = ledger.subscribe(
  name,
  async (events) => {
    const positions = events.map((e) => e.position);
    const run = await pool.query<{ id: number }>(
      `INSERT INTO ${runs} (pid, first, last, started) VALUES ($1, $2, $3, clock_timestamp()) RETURNING id`,
      [process.pid, positions[0], positions[positions.length - 1]],
    );
    await new Promise((r) => setTimeout(r, Number(delayText)));
    await pool.query(
      `INSERT INTO ${handled} (position, pid) SELECT p, $2 FROM unnest($1::bigint[]) WITH ORDINALITY AS t(p, i) ORDER BY i`,
      [positions, process.pid],
    );
    await pool.query(`UPDATE ${runs} SET ended = clock_timestamp() WHERE id = $1`, [run.rows[0]?.id]);
    process.stdout.write(`handled ${positions[positions.length - 1]}\n`);
  },
  {
    batchSize: Number(batchText),
    standbyMs: 50,
    leaseMs: Number(leaseText),
    retry: { initialMs: 20, maxMs: 200 },
  },
);
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  void subscription
    .stop()
    .then(() => ledger.close())
    .then(() => process.stdout.write("stopped\n"));
});
