import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Update } from "telegraf/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandRequest } from "../../src/domain/index.ts";
import { type BotHarness, release, seedLedger, startBotHarness } from "../support/bot-harness.ts";
import { runCli } from "../support/cli.ts";
import type { FakeUser } from "../support/fake-bot-api.ts";

/**
 * The audit chats: the real bot (built as `plugin-ledger bot` builds it) on real PostgreSQL,
 * against the fake Bot API; changes made by the CLI as a process.
 */
const admin: FakeUser = { id: 2001, first_name: "Ada", username: "ada" };
const operator: FakeUser = { id: 2002, first_name: "Otto", username: "otto" };
const CHAT_A = -1_001_000_000_001;
const CHAT_B = -1_001_000_000_002;
const CHAT_C = -1_001_000_000_003;

describe("audit chats", () => {
  let h: BotHarness;
  let updateId = 10_000;

  const run = (command: CommandRequest) => seedLedger(h.ledger, [command]);
  const cli = (...args: string[]) => runCli(args, h.database.env);
  /** `plugin-ledger upgrade momentum <version>` by `actor`, with a reason and any more flags. */
  const upgradeByCli = (version: string, actor: string, reason: string, ...flags: string[]) =>
    cli("upgrade", "momentum", version, "--actor", actor, "--reason", reason, ...flags);
  /** The messages a chat got that mention `text`. */
  const mentions = (chatId: number, text: string) => h.api.textsTo(chatId).filter((t) => t.includes(text));
  /** Resolves once `chatId` has a message mentioning `text`. */
  const arrives = (chatId: number, text: string, timeoutMs = 30_000) =>
    h.api.waitFor(
      "sendMessage",
      (c) => c.payload.chat_id === chatId && String(c.payload.text).includes(text),
      timeoutMs,
    );
  /** A message in a group chat, as Telegram delivers it to a bot. */
  function groupMessage(user: FakeUser, chatId: number, text: string): Update {
    const command = /^\/\S+/.exec(text)?.[0] ?? "";
    return {
      update_id: updateId++,
      message: {
        message_id: updateId,
        date: Math.floor(Date.now() / 1000),
        from: { is_bot: false, ...user },
        chat: { id: chatId, type: "group", title: "ops" },
        text,
        entities: [{ type: "bot_command", offset: 0, length: command.length }],
      },
    } as Update;
  }
  const auditEvents = () => h.events("audit-chats");

  beforeAll(async () => {
    h = await startBotHarness({
      roles: { admins: [admin], operators: [operator] },
      config: { auditChatIds: [CHAT_A, CHAT_B] },
      feed: { pollMs: 100 },
      seed: [{ kind: "hostSet", apiVersion: "2.4.0", dbSchemaVersion: "7.0.0" }],
      notifier: { retry: { initialMs: 100, maxMs: 400 }, standbyMs: 100 },
    });
  });

  afterAll(async () => {
    await h?.close();
  });

  it("records the configured chats as events, and tells each that it is on", async () => {
    const events = await auditEvents();
    expect(events.map((e) => [e.type, e.data.chatId, e.data.source])).toEqual([
      ["AuditChatEnabled", CHAT_A, "config"],
      ["AuditChatEnabled", CHAT_B, "config"],
    ]);
    expect(events[0]?.metadata.actor).toMatchObject({ kind: "system", id: "TELEGRAM_AUDIT_CHAT_IDS" });
    await arrives(CHAT_A, "TELEGRAM_AUDIT_CHAT_IDS");
    await arrives(CHAT_B, "TELEGRAM_AUDIT_CHAT_IDS");
  });

  it("posts an upgrade by the CLI to both chats once, with actor, reason and diff; a forced change is marked", async () => {
    await run(release("momentum", "1.0.0", { features: ["market-orders"], releaseNotes: "First <cut>." }));
    await run(
      release("momentum", "1.1.0", {
        buildDate: "2025-02-03",
        features: ["market-orders", "trailing-stop"],
        releaseNotes: "Trailing stops & faster fills.",
      }),
    );
    await run(release("momentum", "2.0.0", { buildDate: "2025-03-04" }));
    await run({ kind: "register", pluginId: "momentum", version: "1.0.0" });

    const upgrade = await upgradeByCli("1.1.0", "alice", "faster <fills>");
    expect(upgrade.code).toBe(0);
    const forced = await upgradeByCli("2.0.0", "alice", "new API live", "--force");
    expect(forced.code).toBe(0);
    for (const chat of [CHAT_A, CHAT_B]) await arrives(chat, "<code>1.1.0</code> → <code>2.0.0</code>");

    for (const chat of [CHAT_A, CHAT_B]) {
      const [message, ...more] = mentions(chat, "<code>1.0.0</code> → <code>1.1.0</code>");
      expect(more).toEqual([]);
      expect(message).toContain("<b>momentum</b>: <code>1.0.0</code> → <code>1.1.0</code> (upgraded)");
      expect(message).toContain("By alice (CLI)");
      expect(message).toContain("Reason: faster &lt;fills&gt;");
      expect(message).toContain("+ feature trailing-stop");
      expect(message).toContain("Trailing stops &amp; faster fills.");
      expect(message).not.toContain("FORCED");
      expect(message).toMatch(/#\d+ · head <code>[0-9a-f]{12}<\/code>/);

      const [forcedMessage, ...again] = mentions(chat, "<code>1.1.0</code> → <code>2.0.0</code>");
      expect(again).toEqual([]);
      expect(forcedMessage).toContain("<b>FORCED</b> past MAJOR_MISMATCH");
      expect(forcedMessage).toContain("Reason: new API live");
      expect(forcedMessage).toContain("− feature market-orders");
    }
    // Every message fits Telegram's limit and was recorded as sent, once per chat.
    // (the fake has the message before the bot hears back and records it: poll for the record)
    await expect
      .poll(async () => (await h.ledger.auditDeliveries.list()).every((r) => r.state === "sent"), {
        timeout: 10_000,
      })
      .toBe(true);
    const rows = await h.ledger.auditDeliveries.list();
    expect(rows.every((r) => r.text.length < 4096 && r.messageId !== null)).toBe(true);
    const keys = rows.map((r) => `${r.chatId}/${r.key}/${r.part}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("posts an import of 500 releases as at most three messages per chat", async () => {
    const file = path.join(tmpdir(), `audit-import-${process.pid}.json`);
    const releases = Array.from({ length: 500 }, (_, i) => ({
      pluginId: "bulk_plugin",
      version: `1.${i}.0`,
      buildDate: "2025-01-01",
      author: "pipeline",
      releaseNotes: `build ${i}`,
    }));
    writeFileSync(file, JSON.stringify(releases));
    const sentBefore = new Map([CHAT_A, CHAT_B].map((chat) => [chat, h.api.textsTo(chat).length]));
    const imported = await cli("import", file, "--actor", "pipeline", "--reason", "nightly");
    expect(imported.code).toBe(0);
    // A change after the import: once it arrives, everything of the import has been posted.
    await run({ kind: "deprecate", pluginId: "momentum", version: "1.0.0", reason: "old" });
    await run({ kind: "rollback", pluginId: "momentum", version: "1.1.0", allowMajor: true });
    for (const chat of [CHAT_A, CHAT_B]) await arrives(chat, "(rolled back)");

    for (const chat of [CHAT_A, CHAT_B]) {
      const sent = h.api.textsTo(chat).slice(sentBefore.get(chat));
      const aboutImport = sent.filter((t) => t.includes("bulk_plugin"));
      expect(aboutImport.length).toBeGreaterThanOrEqual(1);
      expect(aboutImport.length).toBeLessThanOrEqual(3);
      const listed = aboutImport.flatMap((t) =>
        t.split("\n").filter((l) => l.includes("<b>bulk_plugin</b>")),
      );
      const more = aboutImport.flatMap((t) => [...t.matchAll(/… and (\d+) more/g)].map((m) => Number(m[1])));
      expect(listed.length + more.reduce((a, b) => a + b, 0)).toBe(500);
      expect(aboutImport.join("\n")).toContain("By pipeline (CLI)");
      for (const text of sent) expect(text.length).toBeLessThan(4096);
    }
  });

  it("refuses /notify on from an operator; from an admin it is an event, and the chat is then told", async () => {
    const before = (await auditEvents()).length;
    await h.api.deliver(groupMessage(operator, CHAT_C, "/notify on"));
    expect(h.api.textsTo(CHAT_C).at(-1)).toContain("may not run /notify on");
    expect(await auditEvents()).toHaveLength(before);

    await h.api.deliver(groupMessage(admin, CHAT_C, "/notify on the ops room"));
    expect(h.api.textsTo(CHAT_C).at(-1)).toContain("told of every change from now on");
    const events = await auditEvents();
    expect(events).toHaveLength(before + 1);
    expect(events.at(-1)).toMatchObject({
      type: "AuditChatEnabled",
      data: { chatId: CHAT_C, source: "command" },
      metadata: { actor: { kind: "telegram", id: String(admin.id), name: "ada" }, reason: "the ops room" },
    });
    await arrives(CHAT_C, "/notify on");
    // A redelivered /notify writes nothing more.
    await h.api.deliver(groupMessage(admin, CHAT_C, "/notify on"));
    expect(await auditEvents()).toHaveLength(before + 1);
  });

  it("does not hold the other chats back while one answers 403", async () => {
    h.api.failChat(CHAT_C);
    const upgraded = await upgradeByCli("2.0.0", "bob", "retry", "--allow-major");
    expect(upgraded.code).toBe(0);
    // The refused chat fails again and again (its subscriber backs off) while the others are told.
    for (const chat of [CHAT_A, CHAT_B]) await arrives(chat, "By bob (CLI)");
    const refusedCalls = () =>
      h.api.calls.filter((c) => c.failed?.error_code === 403 && c.payload.chat_id === CHAT_C);
    expect(mentions(CHAT_C, "By bob")).toEqual([]);
    await expect.poll(() => refusedCalls().length, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    const lastError = async () =>
      (await h.ledger.subscriptions()).find((s) => s.name === `audit-chat:${CHAT_C}`)?.lastError ?? "";
    await expect.poll(lastError, { timeout: 30_000 }).toContain("403");

    // Back in the group: it gets the change, once.
    h.api.failChat(CHAT_C, null);
    await arrives(CHAT_C, "By bob (CLI)", 60_000);
    await run({ kind: "deactivate", pluginId: "momentum" });
    await arrives(CHAT_C, "(deactivated)");
    expect(mentions(CHAT_C, "By bob")).toHaveLength(1);
  });

  it("waits out a 429 and posts the change once", async () => {
    h.api.failNext("sendMessage", 1);
    await run({ kind: "register", pluginId: "momentum", version: "1.1.0" });
    const registered = "→ <code>1.1.0</code> (registered)";
    for (const chat of [CHAT_A, CHAT_B, CHAT_C]) await arrives(chat, registered);
    const refused = h.api.calls.filter((c) => c.method === "sendMessage" && c.failed?.error_code === 429);
    expect(refused).toHaveLength(1);
    for (const chat of [CHAT_A, CHAT_B, CHAT_C]) expect(mentions(chat, registered)).toHaveLength(1);
  });

  it("posts a note to every audit chat once per key", async () => {
    const notifier = h.bot.notifier();
    expect(notifier?.chats().sort()).toEqual([CHAT_A, CHAT_B, CHAT_C].sort());
    await notifier?.postToAuditChats("<b>checkpoint</b> size 42", "checkpoint:42");
    await notifier?.postToAuditChats("<b>checkpoint</b> size 42", "checkpoint:42");
    for (const chat of [CHAT_A, CHAT_B, CHAT_C])
      expect(mentions(chat, "checkpoint</b> size 42")).toHaveLength(1);
  });
});
