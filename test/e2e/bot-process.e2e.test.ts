import type { ChildProcess } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createLedger } from "../../src/ledger/index.ts";
import type { LedgerBot } from "../../src/telegram/bot.ts";
import { testBot } from "../support/bot-harness.ts";
import { startBotProcess } from "../support/bot-process.ts";
import { openServerLedger, type TestDatabase, testLogger } from "../support/databases.ts";
import { FakeBotApi, type FakeUser } from "../support/fake-bot-api.ts";

const viewer: FakeUser = { id: 4242, first_name: "Vic", username: "vic" };

/** `plugin-ledger bot` (and `npm start` with a token) as a real process, and webhook mode. */
describe("the bot as a process, and by webhook", () => {
  let database: TestDatabase;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    database = await openServerLedger();
  });
  afterEach(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    child = undefined;
  });
  afterAll(async () => {
    await database?.close();
  });

  function startCli(api: FakeBotApi, args: string[]) {
    const started = startBotProcess(args, {
      LOG_LEVEL: "info",
      ...database.env,
      TELEGRAM_BOT_TOKEN: api.token,
      TELEGRAM_API_ROOT: api.url,
      TELEGRAM_VIEWERS: String(viewer.id),
    });
    child = started.child;
    return started;
  }

  for (const args of [["bot"], []]) {
    const name = args.length ? "plugin-ledger bot" : "plugin-ledger (npm start) with TELEGRAM_BOT_TOKEN";
    it(`${name} answers /whoami and stops on SIGTERM with exit 0`, async () => {
      const api = await FakeBotApi.start();
      onTestFinished(() => api.close());
      const cli = startCli(api, args);
      await api
        .waitFor("getUpdates", () => true, 30_000)
        .catch((error) => {
          throw new Error(`${error.message}; output: ${cli.output()}`);
        });
      await api.deliver(api.message(viewer, "/whoami"));
      const [reply] = api.textsTo(viewer.id);
      expect(reply).toContain(`<code>${viewer.id}</code>`);
      expect(reply).toContain("<b>viewer</b>");
      expect(api.callsOf("setMyCommands").length).toBeGreaterThanOrEqual(2);

      cli.child.kill("SIGTERM");
      expect(await cli.exited).toBe(0);
      expect(cli.output()).toContain("stopping the bot");
      expect(cli.output()).not.toContain(api.token);
    });
  }

  it("exits 2 with one line naming TELEGRAM_BOT_TOKEN when Telegram refuses the token, without retrying", async () => {
    const api = await FakeBotApi.start();
    onTestFinished(() => api.close());
    api.failNext("getMe", 1, { ok: false, error_code: 401, description: "Unauthorized" });
    const cli = startCli(api, ["bot"]);
    expect(await cli.exited).toBe(2);
    const errors = cli
      .output()
      .split("\n")
      .filter((line) => line.startsWith("plugin-ledger:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/TELEGRAM_BOT_TOKEN/);
    expect(api.calls.filter((c) => c.method === "getMe")).toHaveLength(1);
    expect(cli.output()).not.toContain(api.token);
  });

  describe("webhook mode", () => {
    let api: FakeBotApi;
    let bot: LedgerBot;
    const secret = "s3cret-Token_1";

    beforeAll(async () => {
      api = await FakeBotApi.start();
      bot = testBot(api, createLedger(database.db, { schema: database.schema, logger: testLogger }), {
        roles: { viewers: [viewer] },
        config: { webhook: { url: "https://ledger.example.test", secret, port: 0 } },
      });
      await bot.start();
    });
    afterAll(async () => {
      await bot?.stop();
      await api?.close();
    });

    const post = (pathname: string, body: unknown, token?: string) =>
      fetch(`http://127.0.0.1:${bot.webhookAddress()?.port}${pathname}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { "x-telegram-bot-api-secret-token": token } : {}),
        },
        body: JSON.stringify(body),
      });

    it("registers its fixed path with the secret, and takes only updates that carry it", async () => {
      const [setWebhook] = api.callsOf("setWebhook");
      expect(setWebhook?.payload).toMatchObject({
        url: "https://ledger.example.test/telegram/webhook",
        secret_token: secret,
      });
      expect(api.callsOf("getUpdates")).toHaveLength(0);

      expect((await post("/telegram/webhook", api.message(viewer, "/whoami"))).status).toBe(403);
      expect((await post("/telegram/webhook", api.message(viewer, "/whoami"), "wrong")).status).toBe(403);
      expect((await post("/elsewhere", api.message(viewer, "/whoami"), secret)).status).toBe(403);
      expect(api.callsOf("sendMessage")).toHaveLength(0);

      const accepted = await post("/telegram/webhook", api.message(viewer, "/whoami"), secret);
      expect(accepted.status).toBe(200);
      const [reply] = api.callsOf("sendMessage");
      expect(reply?.payload).toMatchObject({ chat_id: viewer.id, parse_mode: "HTML" });
      expect(reply?.payload.text).toContain("<b>viewer</b>");
    });

    it("checks the role again on press: a preview from when the user was an operator writes nothing", async () => {
      const id = "7b0c1e52-4f1a-4c3e-9d7e-2a8f5e6b9c01";
      const now = Date.now();
      await database.db.pool.query(
        `INSERT INTO "${database.schema}".telegram_pending_actions
           (id, update_id, chat_id, message_id, requester_user_id, command, ctx, created_at, expires_at)
         VALUES ($1, 1, $2, 1, $2, $3, $4, $5, $6)`,
        [
          id,
          viewer.id,
          JSON.stringify({ kind: "register", pluginId: "demoted", version: "1.0.0" }),
          JSON.stringify({ actor: { kind: "telegram", id: String(viewer.id), name: "vic" } }),
          new Date(now),
          new Date(now + 60_000),
        ],
      );
      const accepted = await post(
        "/telegram/webhook",
        api.press(viewer, `confirm:${id}`, { chatId: viewer.id, messageId: 1 }),
        secret,
      );
      expect(accepted.status).toBe(200);
      expect(api.callsOf("answerCallbackQuery").at(-1)?.payload).toMatchObject({
        text: "Sorry, your role (viewer) no longer allows this.",
        show_alert: true,
      });
      const state = await database.db.pool.query(
        `SELECT state FROM "${database.schema}".telegram_pending_actions WHERE id = $1`,
        [id],
      );
      expect(state.rows[0].state).toBe("pending");
      const events = await database.db.pool.query(
        `SELECT count(*)::int AS n FROM "${database.schema}".events`,
      );
      expect(events.rows[0].n).toBe(0);
    });
  });
});
