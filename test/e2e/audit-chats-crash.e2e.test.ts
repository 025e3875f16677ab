import type { ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { releasedAndRegistered, seedLedger, useTestLedger } from "../support/bot-harness.ts";
import { startBotProcess } from "../support/bot-process.ts";
import { runCli } from "../support/cli.ts";
import { FakeBotApi } from "../support/fake-bot-api.ts";

const CHAT_A = -1_002_000_000_001;
const CHAT_B = -1_002_000_000_002;

/**
 * `plugin-ledger bot` as a real process, killed (SIGKILL) after Telegram posted a change to one
 * audit chat and before the bot heard back and recorded it; then started again.
 */
describe("audit chats across a killed bot", () => {
  const opened = useTestLedger();
  const children: ChildProcess[] = [];

  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  });

  function startBot(api: FakeBotApi) {
    const started = startBotProcess(["bot"], {
      ...opened().database.env,
      TELEGRAM_BOT_TOKEN: api.token,
      TELEGRAM_API_ROOT: api.url,
      TELEGRAM_AUDIT_CHAT_IDS: `${CHAT_A},${CHAT_B}`,
      LEDGER_FEED_POLL_MS: "200",
    });
    children.push(started.child);
    return started;
  }

  it("posts the change to every chat exactly once: none twice, none missing", async () => {
    const api = await FakeBotApi.start();
    onTestFinished(() => api.close());
    await seedLedger(opened().ledger, releasedAndRegistered("trend", ["1.0.0", "1.1.0", "1.2.0"], "1.0.0"));
    const isUpgrade = (chat: number, text: string) => (c: { payload: Record<string, unknown> }) =>
      c.payload.chat_id === chat && String(c.payload.text).includes(text);
    const count = (chat: number, text: string) => api.textsTo(chat).filter((t) => t.includes(text)).length;
    const change = "<code>1.0.0</code> → <code>1.1.0</code>";

    const first = startBot(api);
    for (const chat of [CHAT_A, CHAT_B]) {
      await api.waitFor("sendMessage", isUpgrade(chat, "TELEGRAM_AUDIT_CHAT_IDS"), 60_000).catch((error) => {
        throw new Error(`${error.message}; bot stderr: ${first.stderr()}`);
      });
    }
    // Telegram posts the change to chat A, and the bot never hears back: it is killed first.
    const held = api.holdNext("sendMessage", isUpgrade(CHAT_A, change), 60_000);
    expect(
      (await runCli(["upgrade", "trend", "1.1.0", "--reason", "crash test"], opened().database.env)).code,
    ).toBe(0);
    await held;
    // Chat B is served by a subscriber of its own, which the held call does not stop: let it finish
    // (a send to B caught in flight by the kill would be the one uncertain case, not this test's).
    const sentToB = async () =>
      (await opened().ledger.auditDeliveries.list(CHAT_B)).some(
        (r) => r.text.includes(change) && r.state === "sent",
      );
    await expect.poll(sentToB, { timeout: 30_000 }).toBe(true);
    first.child.kill("SIGKILL");
    await first.exited;
    expect(count(CHAT_A, change)).toBe(1);

    const second = startBot(api);
    // A later change: once both chats have it, the first one has been settled everywhere.
    expect(
      (await runCli(["upgrade", "trend", "1.2.0", "--reason", "after the crash"], opened().database.env))
        .code,
    ).toBe(0);
    for (const chat of [CHAT_A, CHAT_B]) {
      await api.waitFor("sendMessage", isUpgrade(chat, "after the crash"), 60_000).catch((error) => {
        throw new Error(`${error.message}; bot stderr: ${second.stderr()}`);
      });
    }
    expect(count(CHAT_A, change)).toBe(1);
    expect(count(CHAT_B, change)).toBe(1);
    expect(count(CHAT_A, "after the crash")).toBe(1);
    expect(count(CHAT_B, "after the crash")).toBe(1);

    // The interrupted send is on record as uncertain (not sent again), and the log says so.
    const rows = await opened().ledger.auditDeliveries.list(CHAT_A);
    const interrupted = rows.find((r) => r.text.includes(change));
    expect(interrupted?.state).toBe("uncertain");
    expect(second.stderr()).toContain("a send was interrupted");
    second.child.kill("SIGTERM");
    await second.exited;
  });
});
