import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BotHarness,
  type Preview,
  releasedAndRegistered,
  startBotHarness,
} from "../support/bot-harness.ts";
import type { FakeUser } from "../support/fake-bot-api.ts";

/**
 * /abtest through the real telegraf bot, on a ledger in real PostgreSQL, against a fake Bot API on
 * loopback: the same preview and Confirm flow as every other change.
 */
const operator: FakeUser = { id: 2002, first_name: "Otto", username: "otto" };
const viewer: FakeUser = { id: 2004, first_name: "Vera" };

describe("Telegram /abtest", () => {
  let h: BotHarness;

  const events = () => h.events("plugin-alpha");
  const ask = (user: FakeUser, text: string) => h.ask(user, text);
  /** Presses Confirm on the last preview the bot sent `user`, and returns the edited message. */
  async function confirm(user: FakeUser): Promise<string> {
    const { edit } = await h.press(user, (h.lastPreview(user) as Preview).confirm);
    return String(edit);
  }

  beforeAll(async () => {
    h = await startBotHarness({
      roles: { operators: [operator], viewers: [viewer] },
      seed: releasedAndRegistered("alpha", ["3.3.0", "3.4.0"], "3.3.0"),
    });
  });

  afterAll(async () => {
    await h?.close();
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
    expect(await h.ledger.activeVersion("alpha")).toBe("3.4.0");
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
