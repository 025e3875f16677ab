import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Command } from "../../src/domain/index.ts";
import { createLedger, type Ledger } from "../../src/ledger/ledger.ts";
import { createLedgerBot, type LedgerBot } from "../../src/telegram/bot.ts";
import { parseTimelineCsv } from "../../src/timeline/csv.ts";
import { openServerLedger, type TestDatabase, testLogger } from "../support/databases.ts";
import { FakeBotApi, type FakeUser } from "../support/fake-bot-api.ts";
import { pngHeader } from "../support/png.ts";

/** /timeline through the real bot on a fake Bot API server: a chart as a photo, the CSV as a document. */
const viewer: FakeUser = { id: 2004, first_name: "Vera" };

describe("Telegram /timeline", () => {
  let database: TestDatabase;
  let ledger: Ledger;
  let api: FakeBotApi;
  let bot: LedgerBot;

  const seed = { actor: { kind: "cli" as const, id: "seed", name: "seed" }, reason: "seeding" };
  async function run(command: Command) {
    const result = await ledger.execute(command, seed);
    if (!result.ok) throw new Error(`seed failed: ${JSON.stringify(result.violations)}`);
  }

  beforeAll(async () => {
    database = await openServerLedger();
    ledger = createLedger(database.db, { schema: database.schema, logger: testLogger });
    for (const version of ["1.0.0", "1.1.0"]) {
      await run({ kind: "release", pluginId: "momentum", version, buildDate: "2025-01-02", author: "ci" });
    }
    await run({ kind: "register", pluginId: "momentum", version: "1.0.0" });
    await run({ kind: "upgrade", pluginId: "momentum", version: "1.1.0" });
    await run({ kind: "rollback", pluginId: "momentum" });
    api = await FakeBotApi.start();
    bot = createLedgerBot({
      config: {
        token: api.token,
        apiRoot: api.url,
        webhook: undefined,
        admins: [],
        operators: [],
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

  it("sends a viewer the chart as a photo and the intervals as a CSV document", async () => {
    await api.deliver(api.message(viewer, "/timeline momentum 7"));
    const [photo] = api.callsOf("sendPhoto");
    const [document] = api.callsOf("sendDocument");
    expect(Number(photo?.payload.chat_id)).toBe(viewer.id);
    expect(photo?.payload.caption).toContain("<b>momentum</b>: the last 7 days");
    expect(photo?.payload.caption).toContain("3 intervals · 1 rollback · 0 A/B tests");
    const png = photo?.files?.photo;
    expect(png?.filename).toMatch(/^timeline-momentum-\d{4}-\d{2}-\d{2}\.png$/);
    expect(pngHeader(png?.bytes ?? Buffer.alloc(0)).width).toBe(1200);
    const csv = document?.files?.document;
    expect(csv?.filename).toMatch(/\.csv$/);
    expect(csv?.size).toBe(csv?.bytes.length);
    const items = parseTimelineCsv(csv?.bytes.toString("utf8") ?? "");
    expect(items.map((i) => `${i.version} ${i.action}`)).toEqual([
      "1.0.0 registered",
      "1.1.0 upgraded",
      "1.0.0 rolled_back",
    ]);
  });

  it("says so when nothing ran, and shows the usage for bad arguments", async () => {
    const before = api.textsTo(viewer.id).length;
    await api.deliver(api.message(viewer, "/timeline never_ran"));
    await api.deliver(api.message(viewer, "/timeline momentum 0"));
    expect(api.textsTo(viewer.id).slice(before)).toEqual([
      "<b>never_ran</b> ran no version in the last 30 days.",
      "Usage: <code>/timeline &lt;plugin&gt; [more plugins] [days]</code>\nthe days must be at least 1",
    ]);
    expect(api.callsOf("sendPhoto")).toHaveLength(1);
  });
});
