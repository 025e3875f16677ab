import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandRequest, ExecuteContext } from "../../src/index.ts";
import { timelineChart } from "../../src/timeline/chart.ts";
import { timelineCsv } from "../../src/timeline/csv.ts";
import { renderPng } from "../../src/timeline/render.ts";
import { backends, type TestDatabase } from "../support/databases.ts";
import {
  type LedgerFixture,
  openFixture,
  operator,
  register,
  release,
  upgrade,
} from "../support/ledger-fixtures.ts";
import { pngHeader } from "../support/png.ts";
import { parseTimelineCsv } from "../support/timeline-csv.ts";
import { briefly, interval } from "../support/timeline-intervals.ts";

/** Day `day` of March 2025 at `hour` UTC: every command below runs at a moment of its own. */
const at = (day: number, hour = 9) => new Date(Date.UTC(2025, 2, day, hour));
const maria = { kind: "telegram", id: "482913375", name: "Maria" } as const;

/**
 * A ledger whose clock the history sets: each step runs at 09:00 on a day of its own and keeps
 * the position of its (last) event in `positions` under its name; before the first step (the
 * releases) the clock stands at 06:00 on 1 March.
 */
async function datedLedger(open: () => Promise<TestDatabase>, positions: Record<string, number>) {
  let now = at(1, 6);
  const fixture = await openFixture(open, () => now);
  return {
    fixture,
    async step(name: string, day: number, command: CommandRequest, context: Partial<ExecuteContext> = {}) {
      now = at(day);
      const written = await fixture.ok(command, context);
      positions[name] = written.events.at(-1)?.position ?? 0;
    },
    /** The clock moves on to `day` with no step: where the tests' "now" stands. */
    advance(day: number) {
      now = at(day);
    },
  };
}

/** The same SQL on a PostgreSQL server and on the embedded PGlite. */
describe.each(backends)("timeline ($name)", ({ open }) => {
  let f: LedgerFixture;
  /** The position each step wrote its (last) event at. */
  const p: Record<string, number> = {};

  beforeAll(async () => {
    const { fixture, step, advance } = await datedLedger(open, p);
    f = fixture;
    for (const v of ["1.0.0", "1.1.0", "1.2.0"]) await f.ok(release("momentum", v));
    for (const v of ["1.0.0", "1.1.0"]) await f.ok(release("risk_guard", v));
    await step("register", 1, register("momentum", "1.0.0"), { reason: "first run" });
    await step("guard", 2, register("risk_guard", "1.0.0"));
    await step("up1", 3, upgrade("momentum", "1.1.0"), { actor: maria, reason: "faster fills" });
    await step("up2", 5, upgrade("momentum", "1.2.0"), { actor: maria, reason: "new venue" });
    await step("rollback", 6, { kind: "rollback", pluginId: "momentum" }, { reason: "latency spike" });
    await step("guard2", 7, upgrade("risk_guard", "1.1.0"));
    await step("stop", 9, { kind: "deactivate", pluginId: "risk_guard" }, { reason: "desk closed" });
    advance(10);
  });

  afterAll(async () => {
    await f?.close();
  });

  it("gives every interval of each plugin, in the order asked, up to now", async () => {
    const view = await f.ledger.timeline(["momentum", "risk_guard"]);
    expect(view.from).toBeNull();
    expect(view.to).toEqual({ position: p.stop, at: at(10) });
    expect(view.items).toEqual([
      // momentum 1.0.0, registered, no A/B test, neither end clipped: the rest in full.
      interval({
        fromPosition: p.register,
        fromAt: at(1),
        toPosition: p.up1,
        toAt: at(3),
        endedBy: "upgraded",
        actor: operator,
        reason: "first run",
      }),
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
    expect(briefly(view.items)).toEqual([
      `1.1.0 - - upgraded ${p.up1}<..${p.up2} upgraded`,
      `1.2.0 - - upgraded ${p.up2}..${p.rollback} rolled_back`,
      // The rollback is the window's last event: its interval is there, of no length.
      `1.1.0 - - rolled_back ${p.rollback}..${p.rollback}> -`,
      `1.0.0 - - registered ${p.up1}<..${p.rollback}> -`,
    ]);
    expect(view.items.map((i) => [i.pluginId, i.fromAt, i.toAt])).toEqual([
      ["momentum", at(4, 0), at(5)],
      ["momentum", at(5), at(6)],
      ["momentum", at(6), at(6)],
      ["risk_guard", at(4, 0), at(6)],
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
    const { png, svg, width, height, warnings } = await renderPng(chart.spec);
    expect(warnings).toEqual([]);
    expect(pngHeader(png)).toMatchObject({ width: 900, height: chart.height });
    expect([width, height]).toEqual([900, chart.height]);
    for (const name of [...plugins, ...new Set(view.items.map((i) => i.version))]) {
      expect(svg).toContain(`>${name}<`);
    }
    // The rollback is marked, and the deactivated plugin's lane ends where it stopped.
    expect(svg).toContain(">rollback<");
  });

  describe("with A/B tests", () => {
    let g: LedgerFixture;
    const q: Record<string, number> = {};

    beforeAll(async () => {
      const { fixture, step: act, advance } = await datedLedger(open, q);
      g = fixture;
      for (const v of ["2.0.0", "2.1.0", "2.2.0"]) await g.ok(release("pricing", v));
      await act("register", 1, register("pricing", "2.0.0"));
      await act(
        "start",
        2,
        { kind: "abTestStart", pluginId: "pricing", candidate: "2.1.0", candidateWeightBp: 1000 },
        {
          actor: maria,
          reason: "try 2.1",
        },
      );
      await act(
        "weight",
        3,
        { kind: "abTestWeight", pluginId: "pricing", candidateWeightBp: 5000 },
        { reason: "looks good" },
      );
      await act("promote", 4, { kind: "abTestPromote", pluginId: "pricing" }, { reason: "wins" });
      await act("start2", 5, {
        kind: "abTestStart",
        pluginId: "pricing",
        candidate: "2.2.0",
        candidateWeightBp: 2500,
      });
      await act(
        "abort",
        6,
        { kind: "abTestAbort", pluginId: "pricing" },
        { actor: maria, reason: "loses money" },
      );
      advance(8);
    });
    afterAll(async () => {
      await g?.close();
    });

    it("splits the control's interval where the tests ran, with their weights, promotion and abort", async () => {
      const { items } = await g.ledger.timeline(["pricing"]);
      expect(briefly(items)).toEqual([
        `2.0.0 - - registered ${q.register}..${q.start} ab_started`,
        `2.0.0 2.1.0 10 ab_started ${q.start}..${q.weight} ab_weight_changed`,
        `2.0.0 2.1.0 50 ab_weight_changed ${q.weight}..${q.promote} promoted`,
        `2.1.0 - - promoted ${q.promote}..${q.start2} ab_started`,
        `2.1.0 2.2.0 25 ab_started ${q.start2}..${q.abort} ab_aborted`,
        `2.1.0 - - ab_aborted ${q.abort}..${q.abort}> -`,
      ]);
      expect(items[1]).toMatchObject({ actor: maria, reason: "try 2.1", fromAt: at(2), toAt: at(3) });
      expect(items[2]).toMatchObject({ actor: operator, reason: "looks good", testId: items[1]?.testId });
      expect(items[3]).toMatchObject({ reason: "wins" });
      expect(items[4]?.testId).not.toBe(items[1]?.testId);
      expect(items[5]).toMatchObject({ actor: maria, reason: "loses money", toAt: at(8) });
    });

    it("clips A/B stretches, and knows a stretch after a window's start began with an abort", async () => {
      const middle = await g.ledger.timeline(["pricing"], { from: at(3, 12), to: at(5, 12) });
      expect(briefly(middle.items)).toEqual([
        `2.0.0 2.1.0 50 ab_weight_changed ${q.weight}<..${q.promote} promoted`,
        `2.1.0 - - promoted ${q.promote}..${q.start2} ab_started`,
        `2.1.0 2.2.0 25 ab_started ${q.start2}..${q.start2}> -`,
      ]);
      const late = await g.ledger.timeline(["pricing"], { from: at(7) });
      expect(briefly(late.items)).toEqual([`2.1.0 - - ab_aborted ${q.abort}<..${q.abort}> -`]);
    });

    it("at any single point, says what a full replay says ran there, test and weight included", async () => {
      for (let position = 1; position <= (q.abort as number); position++) {
        const point = await g.ledger.timeline(["pricing"], { from: position, to: position });
        const replayed = await g.ledger.replay({ to: position });
        expect(
          point.items.map((i) => [i.version, i.candidate, i.candidatePercent]),
          `position ${position}`,
        ).toEqual(
          replayed.plugins.map((s) => [
            s.version,
            s.abTest?.candidate ?? null,
            s.abTest?.candidatePercent ?? null,
          ]),
        );
      }
    });

    it("draws both arms of a test and labels its split", async () => {
      const view = await g.ledger.timeline(["pricing"]);
      const { svg, warnings } = await renderPng(timelineChart(view, { plugins: ["pricing"] }).spec);
      expect(warnings).toEqual([]);
      // The legend names plugin and version in full, even with a single plugin.
      for (const name of [
        "pricing",
        "pricing 2.0.0",
        "pricing 2.1.0",
        "pricing 2.2.0",
        "A/B promoted",
        "A/B aborted",
      ]) {
        expect(svg).toContain(`>${name}<`);
      }
      expect(svg).toMatch(/>A\/B 2\.0\.0 vs 2\.1\.0 @ 10%</);
    });
  });
});
