import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderPng } from "../../src/chart/render.ts";
import { timelineChart } from "../../src/chart/timeline-chart.ts";
import type { Command, ExecuteContext } from "../../src/index.ts";
import { parseTimelineCsv, timelineCsv } from "../../src/timeline-csv.ts";
import { pngHeader } from "../support/png.ts";
import { type LedgerFixture, openFixture, operator, register, release, upgrade } from "./ledger-fixtures.ts";

/** Day `day` of March 2025 at `hour` UTC: every command below runs at a moment of its own. */
const at = (day: number, hour = 9) => new Date(Date.UTC(2025, 2, day, hour));
const maria = { kind: "telegram", id: "482913375", name: "Maria" } as const;

describe("timeline on PostgreSQL", () => {
  let f: LedgerFixture;
  let now = at(1, 6);
  /** The position each step wrote its (last) event at. */
  const p: Record<string, number> = {};

  async function step(name: string, day: number, command: Command, context: Partial<ExecuteContext> = {}) {
    now = at(day);
    const written = await f.ok(command, context);
    p[name] = written.events.at(-1)?.position ?? 0;
  }

  beforeAll(async () => {
    f = await openFixture(undefined, () => now);
    for (const v of ["1.0.0", "1.1.0", "1.2.0"]) await f.ok(release("momentum", v));
    for (const v of ["1.0.0", "1.1.0"]) await f.ok(release("risk_guard", v));
    await step("register", 1, register("momentum", "1.0.0"), { reason: "first run" });
    await step("guard", 2, register("risk_guard", "1.0.0"));
    await step("up1", 3, upgrade("momentum", "1.1.0"), { actor: maria, reason: "faster fills" });
    await step("up2", 5, upgrade("momentum", "1.2.0"), { actor: maria, reason: "new venue" });
    await step("rollback", 6, { kind: "rollback", pluginId: "momentum" }, { reason: "latency spike" });
    await step("guard2", 7, upgrade("risk_guard", "1.1.0"));
    await step("stop", 9, { kind: "deactivate", pluginId: "risk_guard" }, { reason: "desk closed" });
    now = at(10);
  });

  afterAll(async () => {
    await f?.close();
  });

  it("gives every interval of each plugin, in the order asked, up to now", async () => {
    const view = await f.ledger.timeline(["momentum", "risk_guard"]);
    expect(view.from).toBeNull();
    expect(view.to).toEqual({ position: p.stop, at: at(10) });
    expect(view.items).toEqual([
      {
        pluginId: "momentum",
        version: "1.0.0",
        candidate: null,
        candidateWeightPercent: null,
        testId: null,
        action: "registered",
        fromPosition: p.register,
        fromAt: at(1),
        fromClipped: false,
        toPosition: p.up1,
        toAt: at(3),
        toClipped: false,
        endedBy: "upgraded",
        actor: operator,
        reason: "first run",
      },
      expect.objectContaining({
        version: "1.1.0",
        action: "upgraded",
        fromPosition: p.up1,
        toPosition: p.up2,
        endedBy: "upgraded",
        actor: maria,
        reason: "faster fills",
      }),
      expect.objectContaining({
        version: "1.2.0",
        fromPosition: p.up2,
        toPosition: p.rollback,
        endedBy: "rolled_back",
        reason: "new venue",
      }),
      expect.objectContaining({
        version: "1.1.0",
        action: "rolled_back",
        fromPosition: p.rollback,
        fromAt: at(6),
        toPosition: p.stop,
        toAt: at(10),
        toClipped: true,
        endedBy: null,
        actor: operator,
        reason: "latency spike",
      }),
      expect.objectContaining({
        pluginId: "risk_guard",
        version: "1.0.0",
        action: "registered",
        toPosition: p.guard2,
        endedBy: "upgraded",
        reason: null,
      }),
      expect.objectContaining({
        pluginId: "risk_guard",
        version: "1.1.0",
        fromPosition: p.guard2,
        toPosition: p.stop,
        toAt: at(9),
        toClipped: false,
        endedBy: "deactivated",
      }),
    ]);
    const reversed = await f.ledger.timeline(["risk_guard", "momentum", "risk_guard"]);
    expect(reversed.items.map((i) => i.pluginId)).toEqual([
      ...Array(2).fill("risk_guard"),
      ...Array(4).fill("momentum"),
    ]);
  });

  it("clips at a window given by a moment and a position", async () => {
    const view = await f.ledger.timeline(["momentum", "risk_guard"], {
      from: at(4, 0),
      to: p.rollback,
    });
    expect(view.from).toEqual({ position: p.up1, at: at(4, 0) });
    expect(view.to).toEqual({ position: p.rollback, at: at(6) });
    const brief = view.items.map((i) => [
      i.pluginId,
      i.version,
      i.fromPosition,
      i.fromAt.toISOString(),
      i.fromClipped,
      i.toPosition,
      i.toAt.toISOString(),
      i.toClipped,
      i.endedBy,
    ]);
    expect(brief).toEqual([
      [
        "momentum",
        "1.1.0",
        p.up1,
        at(4, 0).toISOString(),
        true,
        p.up2,
        at(5).toISOString(),
        false,
        "upgraded",
      ],
      [
        "momentum",
        "1.2.0",
        p.up2,
        at(5).toISOString(),
        false,
        p.rollback,
        at(6).toISOString(),
        false,
        "rolled_back",
      ],
      // The rollback is the window's last event: its interval is there, of no length.
      [
        "momentum",
        "1.1.0",
        p.rollback,
        at(6).toISOString(),
        false,
        p.rollback,
        at(6).toISOString(),
        true,
        null,
      ],
      [
        "risk_guard",
        "1.0.0",
        p.up1,
        at(4, 0).toISOString(),
        true,
        p.rollback,
        at(6).toISOString(),
        true,
        null,
      ],
    ]);
  });

  it("at any single point, says what a full replay says ran there", async () => {
    const head = p.stop as number;
    for (let position = 1; position <= head; position++) {
      const point = await f.ledger.timeline(["momentum", "risk_guard"], { from: position, to: position });
      const replayed = await f.ledger.replay({ to: position });
      expect(
        point.items.map((i) => [i.pluginId, i.version]),
        `position ${position}`,
      ).toEqual(replayed.plugins.map((s) => [s.pluginId, s.version]));
    }
  });

  it("has nothing for a plugin that never ran, and refuses a bad plugin id or a window turned around", async () => {
    expect((await f.ledger.timeline(["never_ran"])).items).toEqual([]);
    await expect(f.ledger.timeline(["Not-An-Id"])).rejects.toThrow(RangeError);
    await expect(f.ledger.timeline([])).rejects.toThrow(RangeError);
    await expect(f.ledger.timeline(["momentum"], { from: at(6), to: at(5) })).rejects.toThrow(
      /after it ends/,
    );
  });

  it("writes CSV that parses back into the same intervals as the JSON", async () => {
    const view = await f.ledger.timeline(["momentum", "risk_guard"], { from: at(2, 12) });
    const json = JSON.parse(JSON.stringify({ items: view.items }));
    const fromCsv = JSON.parse(JSON.stringify({ items: parseTimelineCsv(timelineCsv(view.items)) }));
    expect(fromCsv).toEqual(json);
    expect(json.items).toHaveLength(6);
  });

  it("draws a PNG of the stated size whose SVG names every plugin and version in the window", async () => {
    const plugins = ["momentum", "risk_guard", "never_ran"];
    const view = await f.ledger.timeline(plugins, { from: at(2, 12) });
    const chart = timelineChart(view, { plugins, width: 900 });
    const { png, svg, width, height } = await renderPng(chart.spec);
    expect(pngHeader(png)).toMatchObject({ width: 900, height: chart.height });
    expect([width, height]).toEqual([900, chart.height]);
    for (const name of [...plugins, ...new Set(view.items.map((i) => i.version))]) {
      expect(svg).toContain(`>${name}<`);
    }
    // The rollback is marked, and the deactivated plugin's lane ends where it stopped.
    expect(svg).toContain(">rollback<");
  });
});
