import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandRequest } from "../../src/domain/index.ts";
import { createLedger, type Ledger } from "../../src/ledger/ledger.ts";
import { createLedgerBot, type LedgerBot } from "../../src/telegram/bot.ts";
import { openServerLedger, type TestDatabase, testLogger } from "../support/databases.ts";
import { type ApiCall, FakeBotApi, type FakeUser } from "../support/fake-bot-api.ts";

/**
 * /abtest through the real telegraf bot, on a ledger in real PostgreSQL, against a fake Bot API on
 * loopback: the same preview and Confirm flow as every other change.
 */
const operator: FakeUser = { id: 2002, first_name: "Otto", username: "otto" };
const viewer: FakeUser = { id: 2004, first_name: "Vera" };

describe("Telegram /abtest", () => {
  let database: TestDatabase;
  let ledger: Ledger;
  let api: FakeBotApi;
  let bot: LedgerBot;

  const seed = { actor: { kind: "cli" as const, id: "seed", name: "seed" } };
  async function run(command: CommandRequest) {
    const result = await ledger.execute(command, seed);
    if (!result.ok) throw new Error(`seed failed: ${JSON.stringify(result.violations)}`);
  }
  async function events() {
    const found = await database.db.pool.query(
      `SELECT type, data, metadata FROM "${database.schema}".events WHERE stream_id = 'plugin-alpha' ORDER BY position`,
    );
    return found.rows as Array<{
      type: string;
      data: Record<string, unknown>;
      metadata: Record<string, unknown>;
    }>;
  }
  async function ask(user: FakeUser, text: string): Promise<string[]> {
    const before = api.textsTo(user.id).length;
    await api.deliver(api.message(user, text));
    return api.textsTo(user.id).slice(before);
  }
  /** Presses Confirm on the last preview the bot sent `user`, and returns the edited message. */
  async function confirm(user: FakeUser): Promise<string> {
    const call = api
      .callsOf("sendMessage")
      .filter((c) => c.payload.chat_id === user.id && c.payload.reply_markup)
      .at(-1) as ApiCall;
    const data = call.payload.reply_markup.inline_keyboard[0][0].callback_data as string;
    const found = await database.db.pool.query(
      `SELECT message_id FROM "${database.schema}".telegram_pending_actions WHERE $1 LIKE '%' || id`,
      [data],
    );
    await api.deliver(
      api.press(user, data, { chatId: user.id, messageId: Number(found.rows[0]?.message_id) }),
    );
    return String(api.callsOf("editMessageText").at(-1)?.payload.text);
  }

  beforeAll(async () => {
    database = await openServerLedger();
    ledger = createLedger(database.db, { schema: database.schema, logger: testLogger });
    for (const version of ["3.3.0", "3.4.0"]) {
      await run({ kind: "release", pluginId: "alpha", version, buildDate: "2025-01-02", author: "ci" });
    }
    await run({ kind: "register", pluginId: "alpha", version: "3.3.0" });
    api = await FakeBotApi.start();
    bot = createLedgerBot({
      config: {
        token: api.token,
        apiRoot: api.url,
        webhook: undefined,
        admins: [],
        operators: [operator.id],
        viewers: [viewer.id],
      },
      ledger,
      logger: testLogger,
    });
    await bot.start();
    await api.waitFor("getUpdates");
  });

  afterAll(async () => {
    await bot?.stop("tests done");
    await api?.close();
    await database?.close();
  });

  it("lets an operator start, reweigh and promote a test through previews, and shows it in /version", async () => {
    const before = (await events()).length;
    const [preview] = await ask(operator, "/abtest alpha start 3.4.0 12.5 new fills");
    expect(preview).toContain("<b>Start an A/B test of alpha 3.4.0 at 12.5%</b>?");
    expect(preview).toContain("<code>3.3.0</code> 87.5% vs <code>3.4.0</code> 12.5%");
    expect(preview).toContain("Reason: new fills");
    expect(await events()).toHaveLength(before);

    const started = await confirm(operator);
    expect(started).toContain("done by otto");
    const [start] = (await events()).slice(before);
    expect(start).toMatchObject({
      type: "AbTestStarted",
      data: { pluginId: "alpha", control: "3.3.0", candidate: "3.4.0", candidateWeightBp: 1250 },
      metadata: { actor: { kind: "telegram", id: String(operator.id) }, reason: "new fills" },
    });
    expect(start?.data.testId).toMatch(/^[0-9a-f-]{36}$/);

    const [version] = await ask(viewer, "/version");
    expect(version).toContain("A/B: <code>3.3.0</code> 87.5% vs <code>3.4.0</code> 12.5%");
    const [status] = await ask(viewer, "/abtest alpha status");
    expect(status).toContain(`A/B test <code>${start?.data.testId}</code>`);
    expect(status).toContain("control <code>3.3.0</code> 87.5% · candidate <code>3.4.0</code> 12.5%");
    expect(await ask(viewer, "/abtest alpha abort")).toEqual([
      "Sorry, your role (viewer) may not run /abtest.",
    ]);

    await ask(operator, "/abtest alpha weight 50");
    expect(await confirm(operator)).toContain("candidate share 12.5% → 50%");
    const [promotePreview] = await ask(operator, "/abtest alpha promote it is better");
    expect(promotePreview).toContain("<b>Promote the A/B candidate of alpha</b>?");
    expect(await confirm(operator)).toContain(
      "<code>3.3.0</code> → <code>3.4.0</code> (A/B candidate promoted)",
    );
    expect((await events()).slice(before).map((e) => e.type)).toEqual([
      "AbTestStarted",
      "AbTestWeightChanged",
      "AbTestPromoted",
    ]);
    expect(await ledger.activeVersion("alpha")).toBe("3.4.0");
    expect(await ask(viewer, "/abtest alpha status")).toEqual([
      "<code>alpha</code> runs <code>3.4.0</code> and no A/B test.",
    ]);

    // Refused by the rules: a preview without buttons, nothing recorded.
    const count = (await events()).length;
    const [refused] = await ask(operator, "/abtest alpha abort");
    expect(refused).toContain("refused");
    expect(refused).toContain("NOT_FOUND: Plugin alpha runs no A/B test");
    const [usage] = await ask(operator, "/abtest alpha start 3.3.0 12.555");
    expect(usage).toContain("at most two decimals");
    expect(await ask(operator, "/abtest alpha stop")).toEqual([
      expect.stringContaining("after the plugin say start, weight, promote, abort or status"),
    ]);
    expect(await events()).toHaveLength(count);
  });
});
