import { Telegraf } from "telegraf";
import { createLogger } from "../../src/log.ts";
import { createLedgerBot } from "../../src/telegram/bot.ts";
import { FakeBotApi, type FakeUser } from "../../test/support/fake-bot-api.ts";
import { percentile } from "../closed-loop.ts";
import { openBenchLedger } from "../ledger-schemas.ts";
import type { Measurement, Scenario, ScenarioContext } from "../scenario.ts";

/** Measured presses (and echoes); a few more first warm connections, plans and JIT. */
const PRESSES = 200;
const WARMUP = 10;
const PLUGIN = "bench_bot";
const OPERATOR: FakeUser = { id: 77_001, first_name: "Bench", username: "bench_operator" };

/**
 * The Telegram bot's own latency, with Telegram itself taken out: a fake Bot API server on
 * loopback hands an update to the bot and times the bot's answering call. Measured: from a
 * Confirm press delivered (getUpdates answered) to the preview edited into the result
 * (editMessageText received), which spans the pending-action UPDATE, the ledger's append and
 * the edit. Baseline: a bare telegraf echo bot on the same server, from a text message
 * delivered to its sendMessage received, i.e. what telegraf and HTTP cost on their own.
 */
export const botLatency: Scenario = {
  name: "bot-latency",
  summary: "Telegram Confirm press -> edited result, vs a bare telegraf echo bot (fake Bot API on loopback)",
  async run(context) {
    const api = await FakeBotApi.start();
    try {
      context.progress(`bot-latency: ${PRESSES} Confirm presses through the ledger bot`);
      const confirm = await confirmLatencies(context, api);
      context.progress(`bot-latency: ${PRESSES} messages through a bare telegraf echo bot`);
      const echo = await echoLatencies(context, api);
      const measure = (q: number, label: string): Measurement => ({
        metric: `Confirm -> edited result ${label}`,
        unit: "ms",
        value: percentile(confirm, q),
        baseline: percentile(echo, q),
        // An operator should not notice a wait; the echo bot shows what is left for the ledger.
        targets: q === 0.99 ? [{ below: 250 }] : [],
        details: { presses: confirm.length, maxMs: confirm.at(-1), echoMaxMs: echo.at(-1) },
      });
      return [measure(0.5, "p50"), measure(0.99, "p99")];
    } finally {
      await api.close();
    }
  },
};

/** Each round: /upgrade (a preview, not timed), then Confirm, timed until the edit arrives. */
async function confirmLatencies(context: ScenarioContext, api: FakeBotApi): Promise<number[]> {
  const logger = createLogger("warn");
  // A ledger of its own: the run's schema holds bare appends that leave projections behind.
  const { ledger } = await openBenchLedger(context, "bot");
  const seed = { actor: { kind: "system" as const, id: "bench" } };
  for (const version of ["1.0.0", "1.0.1"]) {
    await ledger.execute(
      { kind: "release", pluginId: PLUGIN, version, buildDate: "2025-01-01", author: "bench" },
      seed,
    );
  }
  await ledger.execute({ kind: "register", pluginId: PLUGIN, version: "1.0.0" }, seed);

  const bot = createLedgerBot({
    config: {
      token: api.token,
      apiRoot: api.url,
      webhook: undefined,
      admins: [],
      operators: [OPERATOR.id],
      viewers: [],
    },
    ledger,
    logger,
  });
  await bot.start();
  const latencies: number[] = [];
  try {
    for (let round = 0; round < WARMUP + PRESSES && !context.signal.aborted; round++) {
      const target = round % 2 === 0 ? "1.0.1" : "1.0.0";
      const preview = api.nextCall("sendMessage", (c) => c.payload.chat_id === OPERATOR.id);
      await api.deliver(api.message(OPERATOR, `/upgrade ${PLUGIN} ${target} bench`));
      const buttons = (await preview).payload.reply_markup?.inline_keyboard?.[0];
      if (!buttons) throw new Error(`the bot sent no preview buttons: ${(await preview).payload.text}`);
      const press = api.press(OPERATOR, buttons[0].callback_data, { chatId: OPERATOR.id, messageId: 1 });
      const edited = api.nextCall("editMessageText", (c) => c.payload.chat_id === OPERATOR.id);
      await api.deliver(press);
      const edit = await edited;
      if (!String(edit.payload.text).includes("done by")) throw new Error(`not done: ${edit.payload.text}`);
      if (round >= WARMUP) latencies.push(edit.at - (api.deliveredAt.get(press.update_id) ?? Number.NaN));
    }
  } finally {
    await bot.stop("bench done");
  }
  context.signal.throwIfAborted();
  return latencies.sort((a, b) => a - b);
}

async function echoLatencies(context: ScenarioContext, api: FakeBotApi): Promise<number[]> {
  const echo = new Telegraf(api.token, { telegram: { apiRoot: api.url } });
  echo.on("text", (ctx) => ctx.reply(ctx.message.text));
  const polling = echo.launch();
  const latencies: number[] = [];
  try {
    for (let round = 0; round < WARMUP + PRESSES && !context.signal.aborted; round++) {
      const update = api.message(OPERATOR, `echo ${round}`);
      const sent = api.nextCall("sendMessage", (c) => c.payload.text === `echo ${round}`);
      await api.deliver(update);
      const reply = await sent;
      if (round >= WARMUP) latencies.push(reply.at - (api.deliveredAt.get(update.update_id) ?? Number.NaN));
    }
  } finally {
    echo.stop("bench done");
    await polling;
  }
  context.signal.throwIfAborted();
  return latencies.sort((a, b) => a - b);
}
