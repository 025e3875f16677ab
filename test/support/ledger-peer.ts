/**
 * A second process on a ledger, for the crash and embedded-sharing tests. It opens the ledger
 * named by the environment, says `ready <mode>`, and then either appends in a loop printing
 * `ack <position> <eventId>` after each acknowledged append (`loop`), or (`batch`) answers each
 * `go` on stdin by appending and reading back its own events (`done <json>`), until `exit`.
 */
import { createInterface } from "node:readline";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { openDatabase } from "../../src/store/connection.ts";
import { migrate } from "../../src/store/migrate.ts";
import { appendingStore } from "./appending-store.ts";

const [mode = "loop", name = "peer", countText = "20"] = process.argv.slice(2);
const config = loadConfig();
const logger = createLogger("warn");
const db = await openDatabase({ ...config, logger });
await migrate(db.pool, config.schema, logger);
const store = appendingStore({ pool: db.pool, schema: config.schema });
const metadata = { actor: { kind: "system" as const, id: name } };
process.stdout.write(`ready ${db.mode}\n`);

if (mode === "loop") {
  for (let i = 0; ; i++) {
    const { events } = await store.append(`plugin-${name}`, "any", [{ type: "Tick", data: { i } }], metadata);
    const event = events[0];
    if (event) process.stdout.write(`ack ${event.position} ${event.eventId}\n`);
  }
} else {
  const count = Number(countText);
  let round = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === "exit") break;
    if (line.trim() !== "go") continue;
    round += 1;
    for (let i = 0; i < count; i++) {
      await store.append(`plugin-${name}`, "any", [{ type: "Tick", data: { round, i } }], metadata);
    }
    const mine = await store.readStream(`plugin-${name}`);
    process.stdout.write(`done ${JSON.stringify({ round, mode: db.mode, read: mine.length })}\n`);
  }
  await db.close();
  // stdin stays open in the parent; let go of it so the process can end.
  process.stdin.destroy();
}
