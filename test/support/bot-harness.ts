import type { Update } from "telegraf/types";
import { afterAll, beforeAll } from "vitest";
import type { TelegramConfig } from "../../src/config.ts";
import type { CommandRequest, ReleaseCommand } from "../../src/domain/index.ts";
import { createLedger, type FeedOptions, type Ledger } from "../../src/ledger/index.ts";
import type { Logger } from "../../src/log.ts";
import { createLedgerBot, type LedgerBot, type LedgerBotOptions } from "../../src/telegram/bot.ts";
import { openServerLedger, type TestDatabase, testLogger } from "./databases.ts";
import { FakeBotApi, type FakeUser } from "./fake-bot-api.ts";
import { seedLedger } from "./seed.ts";

/**
 * The real telegraf bot, built by the factory `plugin-ledger bot` uses, on a ledger in real
 * PostgreSQL, talking to a fake Bot API server on loopback (fake-bot-api.ts). A test speaks to it
 * as a user would: `ask` (a message, and the bot's answers), `press` (an inline button of one of
 * the bot's messages, found in what the fake API recorded, and the edit it made).
 */

/** Who may do what: the users of each role. */
export type BotRoles = { admins?: FakeUser[]; operators?: FakeUser[]; viewers?: FakeUser[] };

/** What a bot under test is built with besides its ledger and the fake API. */
export type TestBotOptions = Partial<Omit<LedgerBotOptions, "config" | "ledger">> & {
  roles: BotRoles;
  config?: Partial<Pick<TelegramConfig, "webhook" | "auditChatIds">>;
};

/** A release as CI records it (on 2 January 2025, no notes unless `extra` says otherwise). */
export function release(
  pluginId: string,
  version: string,
  extra: Partial<ReleaseCommand> = {},
): ReleaseCommand {
  return { kind: "release", pluginId, version, buildDate: "2025-01-02", author: "ci", ...extra };
}

/** Each of `versions` released, then `running` registered. */
export function releasedAndRegistered(
  pluginId: string,
  versions: string[],
  running: string,
): CommandRequest[] {
  return [
    ...versions.map((version) => release(pluginId, version)),
    { kind: "register", pluginId, version: running },
  ];
}

export { seedLedger };

export type TestLedger = { database: TestDatabase; ledger: Ledger; close(): Promise<void> };

/** A ledger on a fresh schema of the run's PostgreSQL, seeded. */
export async function openTestLedger(
  options: {
    logger?: Logger | undefined;
    feed?: FeedOptions | undefined;
    seed?: CommandRequest[] | undefined;
  } = {},
): Promise<TestLedger> {
  const database = await openServerLedger();
  const ledger = createLedger(database.db, {
    schema: database.schema,
    logger: options.logger ?? testLogger,
    ...(options.feed ? { feed: options.feed } : {}),
  });
  await seedLedger(ledger, options.seed ?? []);
  return {
    database,
    ledger,
    async close() {
      await ledger.close();
      await database.close();
    },
  };
}

/** One test ledger for the file (opened before its tests, closed after): `const opened = useTestLedger()`, then `opened().ledger`. */
export function useTestLedger(): () => TestLedger {
  let opened: TestLedger | undefined;
  beforeAll(async () => {
    opened = await openTestLedger();
  });
  afterAll(async () => {
    await opened?.close();
  });
  return () => opened as TestLedger;
}

/** The bot on `ledger`, talking to `api`, with the given roles; not started. */
export function testBot(api: FakeBotApi, ledger: Ledger, options: TestBotOptions): LedgerBot {
  const { roles, config, ...rest } = options;
  const ids = (users: FakeUser[] = []) => users.map((u) => u.id);
  return createLedgerBot({
    logger: testLogger,
    ...rest,
    config: {
      token: api.token,
      apiRoot: api.url,
      webhook: undefined,
      admins: ids(roles.admins),
      operators: ids(roles.operators),
      viewers: ids(roles.viewers),
      ...config,
    },
    ledger,
  });
}

/** A preview the bot sent: its text, the chat, and the data of its Confirm and Cancel buttons. */
export type Preview = { chatId: number; text: string; confirm: string; cancel: string };

export type BotHarness = {
  database: TestDatabase;
  ledger: Ledger;
  api: FakeBotApi;
  bot: LedgerBot;
  /** Sends `text` as `user`, waits until the bot has handled it, and returns what it sent that chat. */
  ask(user: FakeUser, text: string, updateId?: number): Promise<string[]>;
  /** The preview the bot sent last (to `user`'s chat, if given), with its buttons. */
  lastPreview(user?: FakeUser): Preview | undefined;
  /** The update of `user` pressing the button `data` under the bot's message that carries it. */
  pressOf(user: FakeUser, data: string, updateId?: number): Update;
  /** `user` presses the button `data`; resolves once handled, with the press's update id and the edit made. */
  press(user: FakeUser, data: string, updateId?: number): Promise<{ updateId: number; edit?: string }>;
  /** The events of a stream (`plugin-<id>`, `audit-chats`), or all, in order. */
  events(streamId?: string): Promise<StoredEvent[]>;
  close(): Promise<void>;
};

export type StoredEvent = {
  position: number;
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: event payloads, read loosely by the tests.
  data: Record<string, any>;
  // biome-ignore lint/suspicious/noExplicitAny: as data.
  metadata: Record<string, any>;
};

/**
 * A ledger on a fresh schema, seeded, then the bot on it, started and polling. `bot`: the ledger
 * the bot is given (a test can wrap the real one to inject a fault).
 */
export async function startBotHarness(
  options: TestBotOptions & {
    seed?: CommandRequest[];
    feed?: FeedOptions;
    botLedger?: (ledger: Ledger) => Ledger;
  },
): Promise<BotHarness> {
  const { seed, feed, botLedger = (l: Ledger) => l, ...botOptions } = options;
  const opened = await openTestLedger({ logger: options.logger, feed, seed });
  const { database, ledger } = opened;
  const api = await FakeBotApi.start();
  const bot = testBot(api, botLedger(ledger), botOptions);
  await bot.start();
  await api.waitFor("getUpdates");

  function pressOf(user: FakeUser, data: string, updateId?: number): Update {
    // A button no message of the bot's carries (a forged one) comes under the user's own chat.
    const message = api.messageWithButton(data) ?? { chatId: user.id, messageId: 1 };
    return api.press(user, data, message, updateId);
  }
  return {
    database,
    ledger,
    api,
    bot,
    async ask(user, text, updateId) {
      const before = api.textsTo(user.id).length;
      await api.deliver(api.message(user, text, updateId));
      return api.textsTo(user.id).slice(before);
    },
    lastPreview(user) {
      const call = api
        .callsOf("sendMessage")
        .filter((c) => c.payload.reply_markup?.inline_keyboard)
        .findLast((c) => user === undefined || c.payload.chat_id === user.id);
      if (!call) return undefined;
      const [confirm, cancel] = call.payload.reply_markup.inline_keyboard[0];
      return {
        chatId: Number(call.payload.chat_id),
        text: String(call.payload.text),
        confirm: confirm.callback_data,
        cancel: cancel.callback_data,
      };
    },
    pressOf,
    async press(user, data, updateId) {
      const edits = api.callsOf("editMessageText").length;
      const update = pressOf(user, data, updateId);
      await api.deliver(update);
      const edit = api.callsOf("editMessageText").slice(edits).at(-1);
      return { updateId: update.update_id, ...(edit ? { edit: String(edit.payload.text) } : {}) };
    },
    async events(streamId) {
      const found = await database.db.pool.query(
        `SELECT position, type, data, metadata FROM "${database.schema}".events
          WHERE $1::text IS NULL OR stream_id = $1 ORDER BY position`,
        [streamId ?? null],
      );
      return found.rows.map((row) => ({ ...row, position: Number(row.position) }));
    },
    async close() {
      await bot.stop("tests done");
      await api.close();
      await opened.close();
    },
  };
}
