import { describe, expect, it, onTestFinished } from "vitest";
import { BotTokenRejectedError, TelegramUnreachableError } from "../../src/telegram/startup-retry.ts";
import { testBot, useTestLedger } from "../support/bot-harness.ts";
import { capturingLogger } from "../support/capturing-logger.ts";
import { type ApiError, FakeBotApi, type FakeUser } from "../support/fake-bot-api.ts";

const viewer: FakeUser = { id: 5151, first_name: "Val" };
const BAD_GATEWAY: ApiError = { ok: false, error_code: 502, description: "Bad Gateway" };
const CONFLICT: ApiError = {
  ok: false,
  error_code: 409,
  description:
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
};
const UNAUTHORIZED: ApiError = { ok: false, error_code: 401, description: "Unauthorized" };

/**
 * The bot's start-up against a Bot API that blips: calls retried with backoff (short here), a 409
 * from a second poller waited out, a refused token not retried.
 */
describe("Telegram bot start-up", () => {
  const opened = useTestLedger();

  async function botOn(api: FakeBotApi, attempts = 8) {
    const log = capturingLogger();
    const bot = testBot(api, opened().ledger, {
      roles: { viewers: [viewer] },
      logger: log.logger,
      startupBackoff: { firstDelayMs: 10, maxDelayMs: 80, attempts },
    });
    onTestFinished(() => bot.stop("test done"));
    return { bot, log };
  }
  async function fakeApi() {
    const api = await FakeBotApi.start();
    onTestFinished(() => api.close());
    return api;
  }
  const failedCalls = (api: FakeBotApi, method: string) =>
    api.calls.filter((c) => c.method === method && c.failed);

  it("survives getMe cut off three times and answering 502 twice, then serves", async () => {
    const api = await fakeApi();
    api.dropNext("getMe", 3);
    api.failNext("getMe", 2, BAD_GATEWAY);
    api.dropNext("setMyCommands", 1);
    api.dropNext("deleteWebhook", 2);
    const { bot, log } = await botOn(api);
    await bot.start();
    await api.waitFor("getUpdates");

    expect(failedCalls(api, "getMe")).toHaveLength(5);
    expect(api.callsOf("getMe")).toHaveLength(1);
    expect(api.callsOf("setMyCommands").length).toBeGreaterThanOrEqual(2);
    const retries = log.lines.filter((l) => l.level === 40 && /trying again/.test(l.msg));
    expect(retries.filter((l) => l.method === "getMe")).toHaveLength(5);
    expect(retries.filter((l) => l.method === "setMyCommands")).toHaveLength(1);
    expect(failedCalls(api, "deleteWebhook")).toHaveLength(2);

    await api.deliver(api.message(viewer, "/whoami"));
    expect(api.textsTo(viewer.id).at(-1)).toContain("<b>viewer</b>");
  });

  it("waits out a 409 from a second poller, logged, and goes on polling", async () => {
    const api = await fakeApi();
    const { bot, log } = await botOn(api);
    await bot.start();
    await api.waitFor("getUpdates");
    let stoppedEarly = false;
    bot.stopped.then(
      () => {
        stoppedEarly = true;
      },
      () => {
        stoppedEarly = true;
      },
    );
    api.failNext("getUpdates", 3, CONFLICT);

    await api.deliver(api.message(viewer, "/whoami"));
    expect(api.textsTo(viewer.id).at(-1)).toContain("<b>viewer</b>");
    expect(failedCalls(api, "getUpdates")).toHaveLength(3);
    const conflicts = log.lines.filter((l) => l.level === 40 && /409 Conflict/.test(l.msg));
    expect(conflicts).toHaveLength(3);
    expect(stoppedEarly).toBe(false);
  });

  it("does not retry a token Telegram refuses", async () => {
    const api = await fakeApi();
    api.failNext("getMe", 1, UNAUTHORIZED);
    const { bot } = await botOn(api);
    const failure = await bot.start().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BotTokenRejectedError);
    expect(String((failure as Error).message)).toMatch(/TELEGRAM_BOT_TOKEN/);
    expect(api.calls.filter((c) => c.method === "getMe")).toHaveLength(1);
  });

  it("gives up with one clear error when every attempt fails", async () => {
    const api = await fakeApi();
    api.dropNext("getMe", 10);
    const { bot } = await botOn(api, 4);
    const failure = await bot.start().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TelegramUnreachableError);
    expect(String((failure as Error).message)).toMatch(/getMe in 4 attempts/);
    expect(failedCalls(api, "getMe")).toHaveLength(4);
  });
});
