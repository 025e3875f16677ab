import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandRequest } from "../../src/domain/index.ts";
import type { Ledger } from "../../src/ledger/index.ts";
import {
  type BotHarness,
  type Preview,
  release,
  releasedAndRegistered,
  seedLedger,
  startBotHarness,
} from "../support/bot-harness.ts";
import type { ApiCall, FakeUser } from "../support/fake-bot-api.ts";

/**
 * The real telegraf bot, built by the factory `plugin-ledger bot` uses, on a ledger in real
 * PostgreSQL, talking to a fake Bot API server on loopback. Each test works on its own plugin.
 */
const admin: FakeUser = { id: 1001, first_name: "Ada", username: "ada" };
const operator: FakeUser = { id: 1002, first_name: "Otto", username: "otto" };
const otherOperator: FakeUser = { id: 1003, first_name: "Olga", username: "olga" };
const viewer: FakeUser = { id: 1004, first_name: "Vera" };
const stranger: FakeUser = { id: 1999, first_name: "Sam", username: "sam" };

describe("Telegram bot", () => {
  let h: BotHarness;
  /** Moves the bot's clock, which must not matter to expiry. */
  let clockOffsetMs = 0;
  /** Makes the next /matrix fail inside the ledger. */
  let failMatrix = false;

  const run = (command: CommandRequest) => seedLedger(h.ledger, [command]);
  const plugin = (pluginId: string, versions: string[], running: string) =>
    seedLedger(h.ledger, releasedAndRegistered(pluginId, versions, running));
  const events = (pluginId?: string) => h.events(pluginId === undefined ? undefined : `plugin-${pluginId}`);
  async function pendingRows() {
    const found = await h.database.db.pool.query(
      `SELECT * FROM "${h.database.schema}".telegram_pending_actions`,
    );
    return found.rows;
  }
  const ask = (user: FakeUser, text: string, updateId?: number) => h.ask(user, text, updateId);
  const lastPreview = (user: FakeUser) => h.lastPreview(user) as Preview;
  /** `user` presses a button of a preview; resolves with the press's update id. */
  const press = async (user: FakeUser, data: string, updateId?: number) =>
    (await h.press(user, data, updateId)).updateId;
  const edits = () => h.api.callsOf("editMessageText").map((c) => String(c.payload.text));

  beforeAll(async () => {
    h = await startBotHarness({
      roles: { admins: [admin], operators: [operator, otherOperator], viewers: [viewer] },
      seed: [{ kind: "hostSet", apiVersion: "2.4.0", dbSchemaVersion: "7.0.0" }],
      clock: () => new Date(Date.now() + clockOffsetMs),
      botLedger: (ledger): Ledger => ({
        ...ledger,
        async matrix() {
          if (failMatrix) {
            failMatrix = false;
            throw new Error("the matrix query broke (a test fault)");
          }
          return ledger.matrix();
        },
      }),
    });
  });

  afterAll(async () => {
    await h?.close();
  });

  it("lets a viewer read what runs, but not upgrade", async () => {
    await plugin("reader", ["1.0.0", "1.1.0"], "1.0.0");
    const [status] = await ask(viewer, "/version");
    expect(status).toContain("<b>reader</b> <code>1.0.0</code>");
    expect(status).toContain("A/B: none");
    expect(status).toContain("ServiceAPI <code>2.4.0</code>");

    const before = (await events()).length;
    const refused = await ask(viewer, "/upgrade reader 1.1.0 please");
    expect(refused).toEqual(["Sorry, your role (viewer) may not run /upgrade."]);
    expect(await pendingRows()).toHaveLength(0);
    expect(await events()).toHaveLength(before);
  });

  it("gives a stranger one refusal line, and still answers /whoami", async () => {
    expect(await ask(stranger, "/version")).toEqual([
      "Sorry, this bot only answers the people its admins have added.",
    ]);
    expect(await ask(stranger, "hello there")).toHaveLength(1);
    const [whoami] = await ask(stranger, "/whoami");
    expect(whoami).toContain("<code>1999</code>");
    expect(whoami).toContain("no role");
  });

  it("records an operator's upgrade once it is confirmed, with their name and reason", async () => {
    await plugin("alpha", ["3.2.1", "3.3.0"], "3.2.1");
    const before = (await events("alpha")).length;
    const [previewText] = await ask(operator, "/upgrade alpha 3.3.0 faster fills");
    const preview = lastPreview(operator);
    expect(preview.text).toBe(previewText);
    expect(preview.text).toContain("<code>alpha</code>: <code>3.2.1</code> → <code>3.3.0</code>");
    expect(preview.text).toContain("Reason: faster fills");
    // The same diff the audit chats are shown: what the operator is about to run.
    expect(preview.text).toContain("<b>What changes, 3.2.1 → 3.3.0:</b>");
    expect(preview.text).toContain("<i>Versions brought in:</i>\n• <code>3.3.0</code> ci: no notes");
    expect(await events("alpha")).toHaveLength(before);

    const pressId = await press(operator, preview.confirm);
    const written = (await events("alpha")).slice(before);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      type: "PluginUpgraded",
      data: { pluginId: "alpha", from: "3.2.1", to: "3.3.0" },
      metadata: {
        actor: { kind: "telegram", id: String(operator.id), name: "otto" },
        reason: "faster fills",
        causationId: String(pressId),
        idempotencyKey: `tg:${pressId}`,
      },
    });
    const edit = h.api.callsOf("editMessageText").at(-1) as ApiCall;
    expect(edit.payload.chat_id).toBe(operator.id);
    expect(edit.payload.text).toContain("done by otto");
    expect(edit.payload.text).toContain("PluginUpgraded alpha 3.2.1 → 3.3.0");
    expect(edit.payload.reply_markup).toBeUndefined();
    expect(await h.ledger.activeVersion("alpha")).toBe("3.3.0");
  });

  it("writes nothing on Cancel, on an expired preview, or on another person's press", async () => {
    await plugin("beta", ["1.0.0", "1.1.0"], "1.0.0");
    const before = (await events("beta")).length;

    await ask(operator, "/upgrade beta 1.1.0");
    const cancelled = lastPreview(operator);
    await press(operator, cancelled.cancel);
    expect(edits().at(-1)).toContain("cancelled by otto");
    await press(operator, cancelled.confirm);
    expect(h.api.callsOf("answerCallbackQuery").at(-1)?.payload.text).toBe("Already cancelled.");

    await ask(operator, "/upgrade beta 1.1.0");
    const foreign = lastPreview(operator);
    await press(otherOperator, foreign.confirm);
    expect(h.api.callsOf("answerCallbackQuery").at(-1)?.payload).toMatchObject({
      text: "Only the person who asked can press these buttons.",
      show_alert: true,
    });
    await press(admin, foreign.confirm);
    expect(h.api.callsOf("answerCallbackQuery").at(-1)?.payload.text).toMatch(/Only the person who asked/);

    // The bot's clock a year behind changes nothing: expiry is the database's. Its clock passes
    // the expiry here (the row's lifetime cut to a millisecond).
    clockOffsetMs = -365 * 86_400_000;
    try {
      await h.database.db.pool.query(
        `UPDATE "${h.database.schema}".telegram_pending_actions
            SET expires_at = created_at + interval '1 millisecond' WHERE id = $1`,
        [foreign.confirm.split(":")[1]],
      );
      await press(operator, foreign.confirm);
    } finally {
      clockOffsetMs = 0;
    }
    expect(h.api.callsOf("answerCallbackQuery").at(-1)?.payload.text).toBe(
      "This preview expired; nothing was recorded.",
    );
    expect(edits().at(-1)).toContain("the preview expired");

    expect(await events("beta")).toHaveLength(before);
    expect(await h.ledger.activeVersion("beta")).toBe("1.0.0");
    const states = (await pendingRows()).filter((r) => r.command.pluginId === "beta").map((r) => r.state);
    expect(states.sort()).toEqual(["cancelled", "pending"]);
  });

  it("shows one preview for a redelivered command, and writes once for a redelivered Confirm", async () => {
    await plugin("gamma", ["2.0.0", "2.1.0"], "2.0.0");
    const before = (await events("gamma")).length;

    const first = await ask(operator, "/upgrade gamma 2.1.0 twice?", 50_001);
    const again = await ask(operator, "/upgrade gamma 2.1.0 twice?", 50_001);
    expect(first).toHaveLength(1);
    expect(again).toHaveLength(0);
    expect((await pendingRows()).filter((r) => r.command.pluginId === "gamma")).toHaveLength(1);

    const preview = lastPreview(operator);
    await press(operator, preview.confirm, 50_002);
    await press(operator, preview.confirm, 50_002);
    const written = (await events("gamma")).slice(before);
    expect(written).toHaveLength(1);
    expect(written[0]?.metadata.idempotencyKey).toBe("tg:50002");
    expect(edits().at(-1)).toContain("nothing new was written");

    // A second tap (a new update) finds the preview used.
    await press(operator, preview.confirm, 50_003);
    expect(h.api.callsOf("answerCallbackQuery").at(-1)?.payload.text).toBe("Already confirmed.");
    expect(await events("gamma")).toHaveLength(before + 1);
  });

  it("keeps a preview usable when Confirm meets a failing write, and writes once when pressed again", async () => {
    await plugin("stranded", ["1.0.0", "1.1.0"], "1.0.0");
    const before = (await events("stranded")).length;
    await ask(operator, "/upgrade stranded 1.1.0 retry me");
    const preview = lastPreview(operator);
    const q = `"${h.database.schema}"`;
    await h.database.db.pool.query(`
      CREATE FUNCTION ${q}.refuse_appends() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'appends are broken (a test fault)'; END $$;
      CREATE TRIGGER refuse_appends BEFORE INSERT ON ${q}.events
        FOR EACH STATEMENT EXECUTE FUNCTION ${q}.refuse_appends();`);
    try {
      await press(operator, preview.confirm);
    } finally {
      await h.database.db.pool.query(
        `DROP TRIGGER refuse_appends ON ${q}.events; DROP FUNCTION ${q}.refuse_appends();`,
      );
    }
    expect(h.api.callsOf("answerCallbackQuery").at(-1)?.payload.text).toMatch(
      /^Not recorded: .*Press Confirm again/,
    );
    expect(await events("stranded")).toHaveLength(before);

    const pressId = await press(operator, preview.confirm);
    expect(h.api.callsOf("answerCallbackQuery").at(-1)?.payload.text).toBe("Done.");
    const written = (await events("stranded")).slice(before);
    expect(written).toHaveLength(1);
    expect(written[0]?.metadata.idempotencyKey).toBe(`tg:${pressId}`);
    await press(operator, preview.cancel);
    expect(h.api.callsOf("answerCallbackQuery").at(-1)?.payload.text).toBe("Already confirmed.");
    expect(await events("stranded")).toHaveLength(before + 1);
  });

  it("lets an admin force past a rule with a reason, but not an operator", async () => {
    await plugin("delta", ["1.4.0", "2.0.0"], "1.4.0");
    const [refused] = await ask(operator, "/upgrade delta 2.0.0");
    expect(refused).toContain("refused");
    expect(refused).toContain("MAJOR_MISMATCH");
    expect(refused).not.toContain("An admin may force it");
    expect(h.api.callsOf("sendMessage").at(-1)?.payload.reply_markup).toBeUndefined();

    expect(await ask(operator, "/upgrade delta 2.0.0 --force we must")).toEqual([
      "Sorry, your role (operator) may not run /upgrade --force.",
    ]);
    const [hint] = await ask(admin, "/upgrade delta 2.0.0");
    expect(hint).toContain("An admin may force it: <code>/upgrade delta 2.0.0 --force &lt;reason&gt;</code>");

    await ask(admin, "/upgrade delta 2.0.0 --force the new API is live");
    const preview = lastPreview(admin);
    expect(preview.text).toContain("<b>Forced past:</b> MAJOR_MISMATCH");
    await press(admin, preview.confirm);
    const [forced] = (await events("delta")).slice(-1);
    expect(forced).toMatchObject({
      type: "PluginUpgraded",
      data: { from: "1.4.0", to: "2.0.0", crossesMajor: true },
      metadata: { forced: true, overrides: ["MAJOR_MISMATCH"], reason: "the new API is live" },
    });
  });

  it("answers bad arguments with the usage, never a stack trace", async () => {
    const [missing] = await ask(operator, "/upgrade");
    expect(missing).toBe(
      "Usage: <code>/upgrade &lt;plugin&gt; &lt;version&gt; [--allow-major] [--force] [reason]</code>\nthe plugin is missing",
    );
    expect((await ask(operator, "/upgrade Bad-Id 1.0.0"))[0]).toContain("the plugin must be an id");
    expect((await ask(operator, "/upgrade alpha 1.0"))[0]).toContain(
      "the version must be a version such as 1.2.3",
    );
    expect((await ask(operator, "/upgrade alpha 1.0.0 --yes"))[0]).toContain("--yes is not an option");
    expect((await ask(viewer, "/asof yesterday"))[0]).toContain("is neither a position nor an ISO-8601 time");
    expect((await ask(viewer, "/history"))[0]).toContain(
      "Usage: <code>/history &lt;plugin&gt; [limit]</code>",
    );
    expect(await ask(viewer, "/frobnicate")).toEqual([
      "There is no /frobnicate here; /help lists the commands you may run.",
    ]);
    for (const text of h.api.textsTo(operator.id).concat(h.api.textsTo(viewer.id)))
      expect(text).not.toMatch(/\n\s+at /);
  });

  it("escapes <b> and & from release notes, features and names", async () => {
    await run(
      release("escaping", "1.0.0", {
        author: "Tom & <Jerry>",
        features: ["a<b", "c&d"],
        releaseNotes: '<b>bold</b> & "quoted" <script>',
      }),
    );
    await run({ kind: "register", pluginId: "escaping", version: "1.0.0" });
    const [versions] = await ask(viewer, "/versions escaping");
    expect(versions).toContain("notes: &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; &lt;script&gt;");
    expect(versions).toContain("by Tom &amp; &lt;Jerry&gt;");
    expect(versions).toContain("features: a&lt;b, c&amp;d");
    expect(versions).not.toContain("<b>bold</b>");
    const [status] = await ask(viewer, "/version");
    expect(status).toContain("features: a&lt;b, c&amp;d");
  });

  it("answers /diff with what changes between two versions, escaped", async () => {
    await run(release("diffed", "1.0.0", { features: ["old"] }));
    await run(
      release("diffed", "1.1.0", {
        buildDate: "2025-01-03",
        author: "A & B",
        features: ["new<x>"],
        releaseNotes: "<i>faster</i>",
      }),
    );
    const [answer] = await ask(viewer, "/diff diffed 1.0.0 1.1.0");
    expect(answer).toContain("+ feature new&lt;x&gt;");
    expect(answer).toContain("− feature old");
    expect(answer).toContain("&lt;i&gt;faster&lt;/i&gt;");
    expect(answer).toContain("A &amp; B");
    const [missing] = await ask(viewer, "/diff diffed 1.0.0 9.0.0");
    expect(missing).toContain("9.0.0 of diffed is not released");
    const [usage] = await ask(viewer, "/diff diffed 1.0.0");
    expect(usage).toContain("/diff &lt;plugin&gt; &lt;from&gt; &lt;to&gt;");
  });

  it("splits a history of 300 intervals into messages under 4096 characters", async () => {
    await plugin("busy", ["1.0.0", "1.0.1"], "1.0.0");
    for (let i = 0; i < 300; i++) {
      await run({ kind: "upgrade", pluginId: "busy", version: i % 2 === 0 ? "1.0.1" : "1.0.0" });
    }
    const messages = await ask(viewer, "/history busy");
    expect(messages.length).toBeGreaterThan(1);
    for (const message of messages) {
      expect(message.length).toBeLessThan(4096);
      expect(message.match(/<code>/g)?.length).toBe(message.match(/<\/code>/g)?.length);
      expect(message.match(/<i>/g)?.length ?? 0).toBe(message.match(/<\/i>/g)?.length ?? 0);
    }
    const intervals = messages
      .join("\n")
      .split("\n")
      .filter((line) => line.startsWith("<code>1.0."));
    expect(intervals).toHaveLength(301);
    for (const call of h.api.callsOf("sendMessage").slice(-messages.length)) {
      expect(call.payload.parse_mode).toBe("HTML");
    }
  });

  it("cuts a line longer than a message between entities, never inside one", async () => {
    const features = Array.from({ length: 600 }, (_, i) => `f${i}&<x>`);
    await run(release("wide", "1.0.0", { features }));
    const messages = await ask(viewer, "/versions wide");
    expect(messages.length).toBeGreaterThan(1);
    for (const message of messages) {
      expect(message.length).toBeLessThan(4096);
      // Only our tags and whole entities: no tag or entity was cut in two.
      const text = message.replace(/<\/?(b|i|code)>/g, "").replace(/&(amp|lt|gt|quot);/g, "");
      expect(text).not.toMatch(/[&<>]/);
    }
    const listed = messages.join("").match(/f\d+&amp;&lt;x&gt;/g);
    expect(listed).toHaveLength(600);
  });

  it("keeps running after a failing handler and after a 429", async () => {
    failMatrix = true;
    const [failed] = await ask(viewer, "/matrix");
    expect(failed).toMatch(/^Something went wrong \(update \d+\); it is logged\.$/);
    expect((await ask(viewer, "/matrix"))[0]).toContain("Compatibility");

    h.api.failNext("sendMessage", 1);
    const started = performance.now();
    const [whoami] = await ask(viewer, "/whoami");
    expect(whoami).toContain("Your role here: <b>viewer</b>");
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    const sends = h.api.calls.filter((c) => c.method === "sendMessage");
    expect(sends.at(-2)?.failed?.error_code).toBe(429);
    expect((await ask(viewer, "/verify"))[0]).toContain("The chain verifies");
  });

  it("shows each person only the commands they may run", async () => {
    const menus = h.api.callsOf("setMyCommands");
    const menuOf = (scope: object) =>
      (
        menus.find((c) => JSON.stringify(c.payload.scope) === JSON.stringify(scope))?.payload.commands ?? []
      ).map((c: { command: string }) => c.command);
    expect(menuOf({ type: "default" })).toEqual(["whoami", "help"]);
    const viewers = menuOf({ type: "chat", chat_id: viewer.id });
    const operators = menuOf({ type: "chat", chat_id: operator.id });
    const admins = menuOf({ type: "chat", chat_id: admin.id });
    expect(viewers).toContain("version");
    expect(viewers).not.toContain("upgrade");
    expect(operators).toContain("upgrade");
    expect(operators).not.toContain("deprecate");
    expect(admins).toContain("deprecate");
    expect(viewers.length).toBeLessThan(operators.length);
    expect(operators.length).toBeLessThan(admins.length);
    const [help] = await ask(viewer, "/help");
    expect(help).not.toContain("/upgrade");
    expect(help).toContain("/history");
  });

  it("rolls back as an undo, to a version that ran before, or to what ran at a position", async () => {
    await plugin("rho", ["6.0.0", "6.1.0"], "6.1.0");
    await run({ kind: "upgrade", pluginId: "rho", version: "6.0.0" });

    // Undo the downgrade: back up to 6.1.0, with the reason after the plugin.
    const [undo] = await ask(operator, "/rollback rho latency spike");
    expect(undo).toContain("<code>rho</code>: <code>6.0.0</code> → <code>6.1.0</code>");
    expect(undo).toContain("Reason: latency spike");
    await press(operator, lastPreview(operator).confirm);
    expect(await h.ledger.activeVersion("rho")).toBe("6.1.0");

    // The downgrade's position, in words and as a flag: both go back to what ran there.
    const found = await h.database.db.pool.query(
      `SELECT position FROM "${h.database.schema}".events WHERE stream_id = 'plugin-rho' AND type = 'PluginUpgraded'`,
    );
    const downgrade = Number(found.rows[0]?.position);
    const [byWords] = await ask(operator, `/rollback rho to position ${downgrade} as before`);
    expect(byWords).toContain("<code>6.1.0</code> → <code>6.0.0</code>");
    expect(byWords).toContain("Reason: as before");
    await press(operator, lastPreview(operator).confirm);
    expect(await h.ledger.activeVersion("rho")).toBe("6.0.0");
    const [byFlag] = await ask(operator, `/rollback rho --to-position ${downgrade}`);
    expect(byFlag).toContain("already active at 6.0.0");

    const [badPosition] = await ask(operator, "/rollback rho --to-position soon");
    expect(badPosition).toContain("the position must be a whole number from 1");
    const [neverRan] = await ask(operator, "/rollback rho to 6.2.0");
    expect(neverRan).toContain("not released");
    expect((await events("rho")).map((e) => e.type)).toEqual([
      "VersionReleased",
      "VersionReleased",
      "PluginRegistered",
      "PluginUpgraded",
      "PluginRolledBack",
      "PluginRolledBack",
    ]);
  });

  it("flags a running version that is deprecated in /version", async () => {
    await plugin("sigma", ["1.0.0", "1.1.0"], "1.0.0");
    await plugin("tau", ["2.0.0"], "2.0.0");
    await run({ kind: "deprecate", pluginId: "sigma", version: "1.0.0", reason: "leaks <memory>" });
    const [version] = await ask(viewer, "/version");
    expect(version).toContain("<b>sigma</b> <code>1.0.0</code> ⚠️ <b>deprecated</b> (leaks &lt;memory&gt;)");
    expect(version).toContain("<b>tau</b> <code>2.0.0</code> since");
  });
});
