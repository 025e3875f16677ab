import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createEventStore } from "../../src/store/event-store.ts";
import { verifyChain } from "../../src/store/verify.ts";
import { freshDataDir, openEmbeddedLedger, openServerLedger } from "../support/databases.ts";
import { startPeer } from "../support/processes.ts";

/** Appends acknowledged to the peer before SIGKILL, as position -> event id. */
async function killMidLoop(env: Record<string, string>): Promise<Map<number, string>> {
  const peer = startPeer(["loop", "crash"], env);
  await peer.waitFor(/^ready/);
  await peer.waitFor(/^ack 40 /);
  // Let it run on a little, so the kill lands at an arbitrary point inside an append.
  await sleep(150);
  peer.child.kill("SIGKILL");
  await peer.exited;
  const acked = new Map<number, string>();
  for (const line of peer.lines) {
    const [word, position, eventId] = line.split(" ");
    if (word === "ack" && position && eventId) acked.set(Number(position), eventId);
  }
  return acked;
}

describe("an appending process killed with SIGKILL", () => {
  it("loses no acknowledged append on PostgreSQL, and the chain verifies", async () => {
    const ledger = await openServerLedger();
    try {
      const acked = await killMidLoop(ledger.env);
      const store = createEventStore({ pool: ledger.db.pool, schema: ledger.schema });
      const found = new Map<number, string>();
      for await (const event of store.readAll(0)) found.set(event.position, event.eventId);
      for (const [position, eventId] of acked) expect(found.get(position)).toBe(eventId);
      expect(found.size).toBeGreaterThanOrEqual(acked.size);
      const check = await verifyChain(store);
      expect(check).toMatchObject({ ok: true, firstBadPosition: null });
      expect(check.events).toBe(found.size);
    } finally {
      await ledger.close();
    }
  });

  it("loses no acknowledged append on the embedded ledger it owned, which reopens and verifies", async () => {
    const dataDir = freshDataDir();
    const acked = await killMidLoop({ LEDGER_DATA_DIR: dataDir });
    // The dead owner left its lock and socket behind: opening takes them over.
    const ledger = await openEmbeddedLedger(dataDir);
    try {
      expect(ledger.db.mode).toBe("embedded-owner");
      const store = createEventStore({ pool: ledger.db.pool, schema: ledger.schema });
      const found = new Map<number, string>();
      for await (const event of store.readAll(0)) found.set(event.position, event.eventId);
      for (const [position, eventId] of acked) expect(found.get(position)).toBe(eventId);
      expect((await verifyChain(store)).ok).toBe(true);
    } finally {
      await ledger.close();
    }
  });
});
