import type { TopLevelSpec } from "vega-lite";
import { type ChartLayout, type ChartLayoutOptions, chartLayout, LANE_MIDDLE } from "./chart-layout.ts";
import type { TimelineView } from "./pieces.ts";

/**
 * A timeline as a vega-lite spec: one lane per plugin, versions as coloured spans along time.
 * An A/B span is split across its height, the control above and the candidate below, each as
 * tall as its share of units, with "A/B control vs candidate @ weight" written above it.
 * Rollbacks, promotions and aborted tests are marked where they happened. The geometry (lanes,
 * bar heights, which labels fit) is worked out in chart-layout.ts, so the spec needs no
 * expressions beyond the lane names, and the same view always gives the same picture.
 */

export type TimelineChartOptions = ChartLayoutOptions;

export type TimelineChart = { spec: TopLevelSpec; width: number; height: number };

/** One layer of the chart, as vega-lite's types allow it (the package exports only the top level). */
type Layer = NonNullable<Extract<TopLevelSpec, { layer: unknown }>["layer"]>[number];
type LayerOfRows = Layer & { data: { values: object[] } };

export const FONT_FAMILY = "DejaVu Sans";

export function timelineChart(view: TimelineView, options: TimelineChartOptions): TimelineChart {
  const layout = chartLayout(view, options);
  const { width, height } = layout;
  const { x, y } = axes(layout);
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width,
    height,
    autosize: { type: "fit", contains: "padding" },
    padding: 12,
    background: "white",
    title: {
      text: layout.title,
      subtitle: layout.subtitle,
      anchor: "start",
      fontSize: 16,
      subtitleFontSize: 11,
      subtitleColor: "#555",
    },
    config: {
      font: FONT_FAMILY,
      view: { stroke: "#ddd" },
      axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: "normal", gridColor: "#eee" },
      // No label limit: vega cuts labels at 160 px by default, which turned two plugins'
      // versions into the same "price_action_1m 6…"; the columns are sized to the longest.
      legend: {
        labelFontSize: 11,
        titleFontSize: 11,
        orient: "bottom",
        columns: layout.legendColumns,
        labelLimit: 0,
      },
    },
    // A layer without rows is left out: its empty extent would make vega warn.
    layer: [...barLayers(layout, x, y), ...noteLayers(layout, x, y)].filter(
      (layer) => layer.data.values.length > 0,
    ),
    resolve: { scale: { color: "independent", shape: "independent" } },
  };
  return { spec, width, height };
}

type Axes = ReturnType<typeof axes>;

/** The time axis and the lanes' axis, shared by every layer. */
function axes(layout: ChartLayout) {
  const { start, end, plugins } = layout;
  // The layers share one x scale, its ends stated in each (domainMin/domainMax merge cleanly,
  // where a domain array per layer makes vega-lite warn of a conflict).
  const x = {
    field: "start",
    type: "temporal" as const,
    title: "time (UTC)",
    // A utc scale formats its labels in UTC.
    axis: { format: dateFormat(end - start), labelOverlap: true },
    scale: { type: "utc" as const, domainMin: start, domainMax: end },
  };
  const y = {
    field: "y",
    type: "quantitative" as const,
    title: null,
    scale: { domain: [0, plugins.length], reverse: true, nice: false, zero: false },
    axis: {
      values: plugins.map((_, i) => i + LANE_MIDDLE),
      labelExpr: laneNames(plugins),
      grid: false,
      ticks: false,
      domain: false,
      labelFontSize: 12,
      labelFontWeight: "bold" as const,
      labelPadding: 6,
    },
  };
  return { x, y };
}

/** The versions' bars, the A/B spans outlined around them, and the labels inside them. */
function barLayers(layout: ChartLayout, x: Axes["x"], y: Axes["y"]): LayerOfRows[] {
  const { bars, tests, keys, colours } = layout;
  return [
    {
      name: "bars",
      data: { values: bars },
      mark: { type: "rect", stroke: "white", strokeWidth: 1 },
      encoding: {
        x,
        x2: { field: "end" },
        y,
        y2: { field: "y2" },
        color: { field: "key", type: "nominal", title: "version", scale: { domain: keys, range: colours } },
      },
    },
    {
      // An A/B test's whole span, outlined, so its two arms read as one thing.
      name: "tests",
      data: { values: tests },
      mark: { type: "rect", fillOpacity: 0, stroke: "#222", strokeWidth: 1.2, strokeDash: [4, 2] },
      encoding: { x, x2: { field: "end" }, y, y2: { field: "y2" } },
    },
    {
      name: "labels",
      data: { values: bars.filter((b) => b.label !== "") },
      mark: { type: "text", fontSize: 11, fontWeight: "bold" },
      encoding: {
        x: { ...x, field: "mid" },
        y: { ...y, field: "midY" },
        text: { field: "label" },
        color: { field: "ink", type: "nominal", scale: null },
      },
      transform: [
        { calculate: "(datum.start + datum.end) / 2", as: "mid" },
        { calculate: "(datum.y + datum.y2) / 2", as: "midY" },
      ],
    },
  ];
}

/** The A/B captions, the empty lanes' notes and the marks of rollbacks, promotions, aborts. */
function noteLayers(layout: ChartLayout, x: Axes["x"], y: Axes["y"]): LayerOfRows[] {
  const { captions, empty, markers, marked } = layout;
  // Shape and colour of one field share one legend, placed above the plot: the versions'
  // legend may take the whole width below it.
  const byEvent = (range: string[]) => ({
    field: "event",
    type: "nominal" as const,
    title: "marks",
    legend: { orient: "top" as const, direction: "horizontal" as const, columns: marked.length },
    scale: { domain: marked.map((m) => m.event), range },
  });
  return [
    {
      name: "captions",
      data: { values: captions },
      mark: { type: "text", fontSize: 10, color: "#222", baseline: "bottom" },
      encoding: { x: { ...x, field: "x" }, y, text: { field: "text" } },
    },
    {
      name: "empty lanes",
      data: { values: empty },
      mark: { type: "text", fontSize: 11, color: "#777", align: "left", dx: 8, fontStyle: "italic" },
      encoding: { x: { ...x, field: "x" }, y, text: { field: "text" } },
    },
    {
      name: "marks",
      data: { values: markers },
      mark: { type: "point", filled: true, size: 110, opacity: 1, stroke: "white", strokeWidth: 0.5 },
      encoding: {
        x: { ...x, field: "at" },
        y,
        shape: byEvent(marked.map((m) => m.shape)),
        color: byEvent(marked.map((m) => m.color)),
      },
    },
  ];
}

/** Dates with their month, always: a bare "Wed 30" says nothing of which month. */
function dateFormat(spanMs: number): string {
  const day = 86_400_000;
  if (spanMs <= 15 * 60_000) return "%H:%M:%S";
  if (spanMs <= 3 * day) return "%b %d %H:%M";
  if (spanMs <= 400 * day) return "%b %d";
  return "%Y-%m";
}

/** The lane names for the y axis: lane i is centred on i + the bar's middle. */
function laneNames(plugins: readonly string[]): string {
  // Plugin ids are [a-z][a-z0-9_]*, so they need no escaping inside a quoted string.
  return `[${plugins.map((p) => `'${p}'`).join(",")}][floor(datum.value)] || ''`;
}
