import { describe, expect, it } from "vitest";
import { createEventStore } from "../../src/store/event-store.ts";
import { verifyChain } from "../../src/store/verify.ts";
import { freshDataDir, openEmbeddedLedger } from "../support/databases.ts";
import { type Peer, startPeer } from "../support/processes.ts";

const done = (line: string) =>
  JSON.parse(line.slice("done ".length)) as { round: number; mode: string; read: number };

async function round(peer: Peer, n: number) {
  peer.child.stdin.write("go\n");
  return done(await peer.waitFor(new RegExp(`^done \\{"round":${n},`)));
}

describe("the embedded ledger shared between processes", () => {
  it("lets a second process append and read through the process that holds it", async () => {
    const ledger = await openEmbeddedLedger();
    const peer = startPeer(["batch", "second", "25"], ledger.env);
    try {
      expect(await peer.waitFor(/^ready/)).toBe("ready embedded-client");
      expect(await round(peer, 1)).toEqual({ round: 1, mode: "embedded-client", read: 25 });
      const store = createEventStore({ pool: ledger.db.pool, schema: ledger.schema });
      expect(await store.readStream("plugin-second")).toHaveLength(25);
      expect(ledger.db.mode).toBe("embedded-owner");
      expect((await verifyChain(store)).ok).toBe(true);
    } finally {
      peer.child.stdin.write("exit\n");
      expect(await peer.exited).toBe(0);
      await ledger.close();
    }
  });

  it("never lets two processes started at once both open the files, and hands over when the owner leaves", async () => {
    const dataDir = freshDataDir();
    const env = { LEDGER_DATA_DIR: dataDir };
    const peers = [startPeer(["batch", "alpha", "30"], env), startPeer(["batch", "beta", "30"], env)];
    const modes = (await Promise.all(peers.map((p) => p.waitFor(/^ready/)))).map((l) => l.split(" ")[1]);
    expect(modes.sort()).toEqual(["embedded-client", "embedded-owner"]);

    const results = await Promise.all(peers.map((p) => round(p, 1)));
    expect(results.map((r) => r.read)).toEqual([30, 30]);

    // The owner leaves; the other process serves the folder itself on its next connection.
    const ownerIndex = results.findIndex((r) => r.mode === "embedded-owner");
    const owner = peers[ownerIndex] as Peer;
    const other = peers[1 - ownerIndex] as Peer;
    owner.child.stdin.write("exit\n");
    expect(await owner.exited).toBe(0);
    const after = await round(other, 2);
    expect(after).toEqual({ round: 2, mode: "embedded-owner", read: 60 });
    other.child.stdin.write("exit\n");
    expect(await other.exited).toBe(0);

    const ledger = await openEmbeddedLedger(dataDir);
    try {
      const store = createEventStore({ pool: ledger.db.pool, schema: ledger.schema });
      const check = await verifyChain(store);
      expect(check).toMatchObject({ ok: true, events: 90 });
    } finally {
      await ledger.close();
    }
  });
});
