import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { timelineChart } from "../../src/timeline/chart.ts";
import { coloursOf } from "../../src/timeline/chart-colours.ts";
import { timeWindow } from "../../src/timeline/chart-layout.ts";
import type { TimelineView } from "../../src/timeline/pieces.ts";
import { chartFonts } from "../../src/timeline/render.ts";
import { interval } from "../support/timeline-intervals.ts";

const day = (d: number) => new Date(Date.UTC(2025, 2, d));

/** The rows of the spec's layer named `name` (none when the layer was left out). */
type LooseLayer = { name?: string; data?: { values?: Record<string, number & string>[] } };
const layersOf = (spec: object) => (spec as { layer: LooseLayer[] }).layer;
const rows = (spec: object, name: string) => layersOf(spec).find((l) => l.name === name)?.data?.values ?? [];

describe("timeline chart spec", () => {
  const view: TimelineView = {
    from: null,
    to: { position: 9, at: day(21) },
    items: [
      interval({ endedBy: "ab_started" }),
      interval({
        candidate: "1.1.0",
        candidatePercent: 25,
        testId: "t1",
        action: "ab_started",
        fromAt: day(5),
        toAt: day(11),
        endedBy: "ab_aborted",
      }),
      interval({ action: "ab_aborted", fromAt: day(11), toAt: day(13), endedBy: "deactivated" }),
      interval({
        pluginId: "risk_guard",
        action: "rolled_back",
        fromAt: day(3),
        toAt: day(21),
        toClipped: true,
      }),
    ],
  };
  const { spec, width, height } = timelineChart(view, {
    plugins: ["momentum", "risk_guard", "idle"],
    width: 1000,
  });

  it("has the stated size and one lane per plugin, named on the y axis", () => {
    expect(spec).toMatchObject({ width, height });
    expect(width).toBe(1000);
    const y = (
      layersOf(spec)[0] as { encoding: { y: { scale: { domain: number[] }; axis: { labelExpr: string } } } }
    ).encoding.y;
    expect(y.scale.domain).toEqual([0, 3]);
    expect(y.axis.labelExpr).toContain("'momentum','risk_guard','idle'");
  });

  it("splits an A/B span by weight: the candidate's bar is a quarter of the height", () => {
    const bars = rows(spec, "bars").filter((b) => b.start === day(5).getTime());
    expect(bars.map((b) => b.key)).toEqual(["momentum 1.0.0", "momentum 1.1.0"]);
    const [control = 0, candidate = 0] = bars.map((b) => Number(b.y2) - Number(b.y));
    expect(candidate / (control + candidate)).toBeCloseTo(0.25, 10);
    expect(rows(spec, "tests")).toHaveLength(1);
    expect(rows(spec, "captions").map((c) => c.text)).toEqual(["A/B 1.0.0 vs 1.1.0 @ 25%"]);
  });

  it("marks the rollback, the abort and the deactivation where they happened", () => {
    expect(rows(spec, "marks").map((m) => [m.event, m.at])).toEqual([
      ["A/B aborted", day(11).getTime()],
      ["deactivated", day(13).getTime()],
      ["rollback", day(3).getTime()],
    ]);
  });

  it("leaves out a layer with no rows", () => {
    const plain = timelineChart({ ...view, items: view.items.slice(0, 1) }, { plugins: ["momentum"] });
    expect(layersOf(plain.spec).map((l) => l.name)).toEqual(["bars", "labels"]);
  });

  it("keeps a lane for a plugin with nothing in the window", () => {
    expect(rows(spec, "empty lanes")).toEqual([
      expect.objectContaining({ text: "no interval in this window" }),
    ]);
  });

  it("falls back to the DejaVu Sans shipped in dejavu-fonts-ttf when the system has none", () => {
    const shipped = chartFonts("/nonexistent/fonts");
    expect(shipped.source).toBe("package");
    expect(shipped.files.every(existsSync)).toBe(true);
    expect(shipped.files.map((f) => f.split("/").at(-1))).toEqual(["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"]);
  });

  describe("fits its data", () => {
    const minute = (m: number) => new Date(Date.UTC(2026, 10, 30, 14, m));
    const short: TimelineView = {
      from: null,
      to: { position: 12, at: minute(4) },
      items: [
        interval({ pluginId: "price_action_1m", version: "6.0.0", fromAt: minute(0), toAt: minute(2) }),
        interval({
          pluginId: "price_action_1m",
          version: "6.1.0",
          fromAt: minute(2),
          toAt: minute(4),
          toClipped: true,
        }),
        interval({
          pluginId: "combined_v3",
          version: "3.2.1",
          fromAt: minute(1),
          toAt: minute(4),
          toClipped: true,
        }),
      ],
    };

    it("spans four minutes of history with a small margin before, never past the window's end", () => {
      const { start, end } = timeWindow(short);
      expect(end).toBe(minute(4).getTime());
      expect(start).toBeLessThan(minute(0).getTime());
      expect(minute(0).getTime() - start).toBeLessThanOrEqual(0.05 * (end - start));
      const { spec } = timelineChart(short, { plugins: ["price_action_1m", "combined_v3"] });
      const subtitle = [(spec as { title: { subtitle: string | string[] } }).title.subtitle].flat().join(" ");
      expect(subtitle).toContain("to 2026-11-30 14:04:00Z");
    });

    it("keeps a window that was given, and gives a window of no length a minute", () => {
      const given = { ...short, from: { position: 3, at: minute(1) } };
      expect(timeWindow(given)).toEqual({ start: minute(1).getTime(), end: minute(4).getTime() });
      // Telegram's default of 30 days was nobody's choice: the data's extent, within the window.
      const month = { ...short, from: { position: 0, at: new Date(minute(0).getTime() - 30 * 86_400_000) } };
      expect(timeWindow(month, true).start).toBe(timeWindow(short).start);
      const point = { from: { position: 3, at: minute(4) }, to: { position: 3, at: minute(4) }, items: [] };
      expect(timeWindow(point)).toEqual({ start: minute(3).getTime(), end: minute(4).getTime() });
    });

    it("names plugin and version in full in the legend, in colours that do not depend on the chart", () => {
      const { spec } = timelineChart(short, { plugins: ["price_action_1m", "combined_v3"] });
      const bars = layersOf(spec).find((l) => l.name === "bars") as unknown as {
        encoding: { color: { scale: { domain: string[]; range: string[] } } };
      };
      const { domain, range } = bars.encoding.color.scale;
      expect(domain).toEqual(["price_action_1m 6.0.0", "price_action_1m 6.1.0", "combined_v3 3.2.1"]);
      expect(new Set(range).size).toBe(3);
      const alone = timelineChart(
        { ...short, items: short.items.slice(2) },
        { plugins: ["combined_v3"] },
      ).spec;
      const aloneBars = layersOf(alone).find((l) => l.name === "bars") as unknown as typeof bars;
      expect(aloneBars.encoding.color.scale.range[0]).toBe(range[2]);
      expect((spec as { config: { legend: { labelLimit: number } } }).config.legend.labelLimit).toBe(0);
      expect(coloursOf(["a 1.0.0", "b 1.0.0"]).get("b 1.0.0")).toBe(coloursOf(["b 1.0.0"]).get("b 1.0.0"));
    });

    it("breaks the subtitle into lines at --width 700 rather than clip it", () => {
      const { spec } = timelineChart(short, { plugins: ["price_action_1m", "combined_v3"], width: 700 });
      const subtitle = (spec as { title: { subtitle: string | string[] } }).title.subtitle;
      expect(Array.isArray(subtitle)).toBe(true);
      for (const line of [subtitle].flat()) expect(line.length * 6.1).toBeLessThanOrEqual(700 - 24);
      expect([subtitle].flat().join(" ")).toContain("heights by weight");
    });
  });
});
