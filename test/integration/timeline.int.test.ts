import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandRequest, ExecuteContext } from "../../src/index.ts";
import type { Ledger } from "../../src/ledger/ledger.ts";
import { timelineChart } from "../../src/timeline/chart.ts";
import { parseTimelineCsv, timelineCsv } from "../../src/timeline/csv.ts";
import { renderPng } from "../../src/timeline/render.ts";
import { backends } from "../support/databases.ts";
import {
  type LedgerFixture,
  openFixture,
  operator,
  register,
  release,
  upgrade,
} from "../support/ledger-fixtures.ts";
import { pngHeader } from "../support/png.ts";

/** Day `day` of March 2025 at `hour` UTC: every command below runs at a moment of its own. */
const at = (day: number, hour = 9) => new Date(Date.UTC(2025, 2, day, hour));
const maria = { kind: "telegram", id: "482913375", name: "Maria" } as const;

/** The same SQL on a PostgreSQL server and on the embedded PGlite. */
describe.each(backends)("timeline ($name)", ({ open }) => {
  let f: LedgerFixture;
  let now = at(1, 6);
  /** The position each step wrote its (last) event at. */
  const p: Record<string, number> = {};

  async function step(
    name: string,
    day: number,
    command: CommandRequest,
    context: Partial<ExecuteContext> = {},
  ) {
    now = at(day);
    const written = await f.ok(command, context);
    p[name] = written.events.at(-1)?.position ?? 0;
  }

  beforeAll(async () => {
    f = await openFixture(open, () => now);
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
        candidatePercent: null,
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
    let clock = at(1, 6);
    const q: Record<string, number> = {};
    async function act(
      name: string,
      day: number,
      command: CommandRequest,
      context: Partial<ExecuteContext> = {},
    ) {
      clock = at(day);
      const written = await g.ok(command, context);
      q[name] = written.events.at(-1)?.position ?? 0;
    }

    beforeAll(async () => {
      g = await openFixture(open, () => clock);
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
      clock = at(8);
    });
    afterAll(async () => {
      await g?.close();
    });

    const brief = (items: Awaited<ReturnType<Ledger["timeline"]>>["items"]) =>
      items.map((i) =>
        [
          i.version,
          i.candidate ?? "-",
          i.candidatePercent ?? "-",
          i.action,
          `${i.fromPosition}${i.fromClipped ? "<" : ""}..${i.toPosition}${i.toClipped ? ">" : ""}`,
          i.endedBy ?? "-",
        ].join(" "),
      );

    it("splits the control's interval where the tests ran, with their weights, promotion and abort", async () => {
      const { items } = await g.ledger.timeline(["pricing"]);
      expect(brief(items)).toEqual([
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
      expect(brief(middle.items)).toEqual([
        `2.0.0 2.1.0 50 ab_weight_changed ${q.weight}<..${q.promote} promoted`,
        `2.1.0 - - promoted ${q.promote}..${q.start2} ab_started`,
        `2.1.0 2.2.0 25 ab_started ${q.start2}..${q.start2}> -`,
      ]);
      const late = await g.ledger.timeline(["pricing"], { from: at(7) });
      expect(brief(late.items)).toEqual([`2.1.0 - - ab_aborted ${q.abort}<..${q.abort}> -`]);
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
