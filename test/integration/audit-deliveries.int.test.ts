import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLedger, type Ledger } from "../../src/ledger/ledger.ts";
import { backends, type TestDatabase, testLogger } from "../support/databases.ts";

const CHAT = -1_003_000_000_001;
const admin = { actor: { kind: "telegram" as const, id: "1", name: "ada" }, reason: "ops room" };

/** The audit chats' events, projection and outbox, on PostgreSQL and on the embedded PGlite. */
describe.each(backends)("audit chats on $name", ({ open }) => {
  let database: TestDatabase;
  let ledger: Ledger;

  beforeAll(async () => {
    database = await open();
    ledger = createLedger(database.db, { schema: database.schema, logger: testLogger });
  });
  afterAll(async () => {
    await ledger?.close();
    await database?.close();
  });

  it("keeps each chat's last change, who made it and why, and rebuilds it the same", async () => {
    expect(await ledger.execute({ kind: "auditChatEnable", chatId: CHAT }, admin)).toMatchObject({
      ok: true,
    });
    expect(await ledger.execute({ kind: "auditChatsConfigure", chatIds: [42] }, admin)).toMatchObject({
      ok: true,
    });
    expect(await ledger.execute({ kind: "auditChatDisable", chatId: 42 }, admin)).toMatchObject({ ok: true });
    expect(await ledger.execute({ kind: "auditChatEnable", chatId: CHAT }, admin)).toMatchObject({
      ok: false,
      violations: [{ code: "ALREADY" }],
    });
    const live = await ledger.auditChats();
    expect(live).toMatchObject([
      {
        chatId: CHAT,
        enabled: true,
        source: "command",
        actor: { kind: "telegram", id: "1" },
        reason: "ops room",
      },
      { chatId: 42, enabled: false, source: "command" },
    ]);
    await ledger.rebuild();
    expect(await ledger.auditChats()).toEqual(live);
    expect(await ledger.replay()).toEqual(await ledger.status());
  });

  it("sends each outbox row once: pending, claimed, sent; a refusal goes back to pending", async () => {
    const outbox = ledger.auditDeliveries;
    await outbox.add(CHAT, [
      { key: "change:5", firstPosition: 3, lastPosition: 5, parts: ["a1", "a2"] },
      { key: "change:6", firstPosition: 6, lastPosition: 6, parts: ["b"] },
    ]);
    // Added again (a redelivered batch): nothing new.
    await outbox.add(CHAT, [{ key: "change:5", firstPosition: 3, lastPosition: 5, parts: ["other text"] }]);
    expect(await outbox.lastPosition(CHAT)).toBe(6);
    expect((await outbox.pending(CHAT)).map((r) => r.text)).toEqual(["a1", "a2", "b"]);

    expect(await outbox.claim(CHAT, "change:5", 1)).toBe(true);
    expect(await outbox.claim(CHAT, "change:5", 1)).toBe(true); // this sender's again, after a lost answer
    await outbox.sent(CHAT, "change:5", 1, 101);
    expect(await outbox.claim(CHAT, "change:5", 1)).toBe(false);

    expect(await outbox.claim(CHAT, "change:5", 2)).toBe(true);
    await outbox.failed(CHAT, "change:5", 2, "429: Too Many Requests", true);
    expect((await outbox.pending(CHAT)).map((r) => [r.key, r.part, r.lastError])).toEqual([
      ["change:5", 2, "429: Too Many Requests"],
      ["change:6", 1, null],
    ]);
    expect(await outbox.claim(CHAT, "change:5", 2)).toBe(true);
    await outbox.failed(CHAT, "change:5", 2, "socket hang up", false);
    expect((await outbox.list(CHAT)).map((r) => [r.key, r.part, r.state, r.messageId])).toEqual([
      ["change:5", 1, "sent", 101],
      ["change:5", 2, "uncertain", null],
      ["change:6", 1, "pending", null],
    ]);
  });

  it("leaves a row another sender left 'sending' uncertain, never to be sent again", async () => {
    const outbox = ledger.auditDeliveries;
    expect(await outbox.claim(CHAT, "change:6", 1)).toBe(true);
    // A new process: a ledger of its own, a sender of its own.
    const restarted = createLedger(database.db, { schema: database.schema, logger: testLogger });
    try {
      expect(await restarted.auditDeliveries.pending(CHAT)).toEqual([]);
      const settled = await restarted.auditDeliveries.settleInterrupted(CHAT);
      expect(settled.map((r) => [r.key, r.state])).toEqual([["change:6", "uncertain"]]);
      expect(await restarted.auditDeliveries.claim(CHAT, "change:6", 1)).toBe(false);
      // The first sender did post it after all: its record still lands.
      await outbox.sent(CHAT, "change:6", 1, 102);
      expect((await restarted.auditDeliveries.list(CHAT)).at(-1)).toMatchObject({
        state: "sent",
        messageId: 102,
      });
    } finally {
      await restarted.close();
    }
  });
});
