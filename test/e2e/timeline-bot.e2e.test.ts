import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BotHarness, releasedAndRegistered, startBotHarness } from "../support/bot-harness.ts";
import type { FakeUser } from "../support/fake-bot-api.ts";
import { pngHeader } from "../support/png.ts";
import { parseTimelineCsv } from "../support/timeline-csv.ts";

/** /timeline through the real bot on a fake Bot API server: a chart as a photo, the CSV as a document. */
const viewer: FakeUser = { id: 2004, first_name: "Vera" };

describe("Telegram /timeline", () => {
  let h: BotHarness;

  beforeAll(async () => {
    h = await startBotHarness({
      roles: { viewers: [viewer] },
      seed: [
        ...releasedAndRegistered("momentum", ["1.0.0", "1.1.0"], "1.0.0"),
        { kind: "upgrade", pluginId: "momentum", version: "1.1.0" },
        { kind: "rollback", pluginId: "momentum" },
      ],
    });
  });

  afterAll(async () => {
    await h?.close();
  });

  it("sends a viewer the chart as a photo and the intervals as a CSV document", async () => {
    await h.api.deliver(h.api.message(viewer, "/timeline momentum 7"));
    const [photo] = h.api.callsOf("sendPhoto");
    const [document] = h.api.callsOf("sendDocument");
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
    const before = h.api.textsTo(viewer.id).length;
    await h.api.deliver(h.api.message(viewer, "/timeline never_ran"));
    await h.api.deliver(h.api.message(viewer, "/timeline momentum 0"));
    expect(h.api.textsTo(viewer.id).slice(before)).toEqual([
      "<b>never_ran</b> ran no version in the last 30 days.",
      "Usage: <code>/timeline &lt;plugin&gt; [more plugins] [days]</code>\nthe days must be at least 1",
    ]);
    expect(h.api.callsOf("sendPhoto")).toHaveLength(1);
  });
});
