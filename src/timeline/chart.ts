import type { TopLevelSpec } from "vega-lite";
import type { TimelineView } from "../ledger/queries/timeline.ts";
import type { TimelineInterval } from "./pieces.ts";

/**
 * A timeline as a vega-lite spec: one lane per plugin, versions as coloured spans along time.
 * An A/B span is split across its height, the control above and the candidate below, each as
 * tall as its share of units, with "A/B control vs candidate @ weight" written above it.
 * Rollbacks, promotions and aborted tests are marked where they happened. The geometry (lanes,
 * bar heights, which labels fit) is worked out here, so the spec needs no expressions beyond
 * the lane names, and the same view always gives the same picture.
 */

export type TimelineChartOptions = {
  /** The plugins, one lane each, top to bottom; a plugin without an interval keeps an empty lane. */
  plugins: readonly string[];
  /** Total width of the picture in pixels, axes and legends included. */
  width?: number;
  title?: string;
  /**
   * The window's start was not asked for by a person (Telegram's default of the last 30 days):
   * draw from where the data starts, as when no window is given, not from the window's start.
   */
  fitToData?: boolean;
};

export type TimelineChart = { spec: TopLevelSpec; width: number; height: number };

/** One layer of the chart, as vega-lite's types allow it (the package exports only the top level). */
type Layer = NonNullable<Extract<TopLevelSpec, { layer: unknown }>["layer"]>[number];

export const FONT_FAMILY = "DejaVu Sans";

const LANE_PX = 64;
/** Within a lane (1 unit tall): the label zone above the bar, then the bar. */
const BAR_TOP = 0.32;
const BAR_BOTTOM = 0.92;
const LABEL_Y = 0.27;
const HEADER_PX = 70;
const AXIS_PX = 50;
const LEGEND_COLUMNS = 8;
const LEGEND_ROW_PX = 18;
/** DejaVu Sans averages about 0.6 em a character (bold 0.65): enough to decide what fits. */
const BAR_CHAR_PX = 7.2;
const CAPTION_CHAR_PX = 6.1;
/**
 * Vega's tableau10, then the rest of tableau20, assigned here rather than by a scheme so that
 * each bar's label can take the colour (white or near-black) that reads on it, and so that a
 * plugin's version keeps its colour from one chart to the next (see `coloursOf`).
 */
const PALETTE = [
  "#4c78a8",
  "#f58518",
  "#e45756",
  "#72b7b2",
  "#54a24b",
  "#eeca3b",
  "#b279a2",
  "#ff9da6",
  "#9d755d",
  "#bab0ac",
  "#9ecae9",
  "#ffbf79",
  "#88d27a",
  "#f2cf5b",
  "#83bcb6",
  "#ff9d98",
  "#d67195",
  "#fcbfd2",
  "#d6a5c9",
  "#d8b5a5",
];

type Bar = {
  lane: number;
  y: number;
  y2: number;
  start: number;
  end: number;
  /** What its colour stands for: the version, with its plugin when there are several lanes. */
  key: string;
  /** Shown inside the bar when it fits, in `ink`. */
  label: string;
  ink: string;
};
type Span = { y: number; y2: number; start: number; end: number };
type Caption = { y: number; x: number; text: string };
type Marker = { lane: number; y: number; at: number; event: string };

const MARKERS = [
  { event: "rollback", shape: "triangle-down", color: "#c62828" },
  { event: "A/B promoted", shape: "diamond", color: "#2e7d32" },
  { event: "A/B aborted", shape: "cross", color: "#37474f" },
  { event: "deactivated", shape: "square", color: "#111111" },
] as const;

export function timelineChart(view: TimelineView, options: TimelineChartOptions): TimelineChart {
  const plugins = [...new Set(options.plugins)];
  const lane = new Map(plugins.map((p, i) => [p, i]));
  const { start, end } = timeWindow(view, options.fitToData === true);
  const width = options.width ?? 1200;
  const nameChars = plugins.reduce((n, p) => Math.max(n, p.length), 6);
  const plotPx = width - 40 - nameChars * BAR_CHAR_PX;
  const px = (ms: number) => (ms / (end - start)) * plotPx;

  const bars: Bar[] = [];
  const tests: Span[] = [];
  const captions: Caption[] = [];
  const markers: Marker[] = [];
  const bar = (
    i: number,
    top: number,
    bottom: number,
    from: number,
    to: number,
    version: string,
    label: string,
  ) => {
    // The same version string of two plugins is two releases: two colours, two legend entries.
    const key = `${plugins[i]} ${version}`;
    bars.push({ lane: i, y: i + top, y2: i + bottom, start: from, end: to, key, label, ink: "" });
  };
  for (const item of view.items) {
    const i = lane.get(item.pluginId);
    if (i === undefined) continue;
    const from = item.fromAt.getTime();
    const to = item.toAt.getTime();
    const room = px(to - from);
    if (item.candidate === null || item.candidatePercent === null) {
      const fits = (item.version.length + 1) * BAR_CHAR_PX <= room;
      bar(i, BAR_TOP, BAR_BOTTOM, from, to, item.version, fits ? item.version : "");
    } else {
      // The control above, the candidate below, each as tall as its share.
      const split = BAR_TOP + (BAR_BOTTOM - BAR_TOP) * (1 - item.candidatePercent / 100);
      bar(i, BAR_TOP, split, from, to, item.version, "");
      bar(i, split, BAR_BOTTOM, from, to, item.candidate, "");
      tests.push({ y: i + BAR_TOP, y2: i + BAR_BOTTOM, start: from, end: to });
      const weight = `${item.candidatePercent}%`;
      const text = [
        `A/B ${item.version} vs ${item.candidate} @ ${weight}`,
        `${item.candidate} @ ${weight}`,
        weight,
      ].find((t) => (t.length + 1) * CAPTION_CHAR_PX <= room);
      if (text !== undefined) captions.push({ y: i + LABEL_Y, x: from + (to - from) / 2, text });
    }
    const marker = markerOf(item);
    if (marker !== undefined) markers.push({ lane: i, y: i + BAR_TOP, at: from, event: marker });
    if (item.endedBy === "deactivated")
      markers.push({ lane: i, y: i + BAR_TOP, at: to, event: "deactivated" });
  }
  const empty = plugins
    .filter((p) => !view.items.some((item) => item.pluginId === p))
    .map((p) => ({
      y: (lane.get(p) ?? 0) + (BAR_TOP + BAR_BOTTOM) / 2,
      x: start,
      text: "no interval in this window",
    }));

  const keys = [...new Set(bars.map((b) => b.key))];
  // The legend of marks lists those the chart shows.
  const marked = MARKERS.filter((m) => markers.some((k) => k.event === m.event));
  const colour = coloursOf(keys);
  for (const b of bars) b.ink = inkOn(colour.get(b.key) ?? "#ffffff");
  // As many legend columns as the longest label leaves room for.
  const keyChars = keys.reduce((n, k) => Math.max(n, k.length), 5);
  const legendColumns = Math.max(1, Math.min(LEGEND_COLUMNS, Math.floor((width - 40) / (keyChars * 7 + 40))));
  const legendRows = Math.ceil(keys.length / legendColumns) + 1 + (markers.length > 0 ? 2 : 0);
  const titleLines = Math.ceil((subtitle(view, start, end).length * CAPTION_CHAR_PX) / (width - 24));
  const height =
    HEADER_PX + (titleLines - 1) * 14 + plugins.length * LANE_PX + AXIS_PX + 30 + legendRows * LEGEND_ROW_PX;
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
      values: plugins.map((_, i) => i + (BAR_TOP + BAR_BOTTOM) / 2),
      labelExpr: laneNames(plugins),
      grid: false,
      ticks: false,
      domain: false,
      labelFontSize: 12,
      labelFontWeight: "bold" as const,
      labelPadding: 6,
    },
  };

  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width,
    height,
    autosize: { type: "fit", contains: "padding" },
    padding: 12,
    background: "white",
    // Both broken into lines that fit the width, so a narrow chart keeps all of its subtitle.
    title: {
      text: fitLines(options.title ?? `Plugin versions: ${plugins.join(", ")}`, (width - 24) / 9.5),
      subtitle: fitLines(subtitle(view, start, end), (width - 24) / CAPTION_CHAR_PX),
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
        columns: legendColumns,
        labelLimit: 0,
      },
    },
    // A layer without rows is left out: its empty extent would make vega warn.
    layer: (
      [
        {
          name: "bars",
          data: { values: bars },
          mark: { type: "rect", stroke: "white", strokeWidth: 1 },
          encoding: {
            x,
            x2: { field: "end" },
            y,
            y2: { field: "y2" },
            color: {
              field: "key",
              type: "nominal",
              title: "version",
              scale: { domain: keys, range: keys.map((k) => colour.get(k) ?? "#ffffff") },
            },
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
            // Shape and colour of one field share one legend.
            shape: {
              field: "event",
              type: "nominal",
              title: "marks",
              // Above the plot: the versions' legend may take the whole width below it.
              legend: { orient: "top", direction: "horizontal", columns: marked.length },
              scale: { domain: marked.map((m) => m.event), range: marked.map((m) => m.shape) },
            },
            color: {
              field: "event",
              type: "nominal",
              title: "marks",
              // Above the plot: the versions' legend may take the whole width below it.
              legend: { orient: "top", direction: "horizontal", columns: marked.length },
              scale: { domain: marked.map((m) => m.event), range: marked.map((m) => m.color) },
            },
          },
        },
      ] satisfies (Layer & { data: { values: object[] } })[]
    ).filter((layer) => layer.data.values.length > 0),
    resolve: { scale: { color: "independent", shape: "independent" } },
  };
  return { spec, width, height };
}

/** Near-black on light colours, white on dark ones (relative luminance, sRGB). */
function inkOn(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((at) => {
    const c = Number.parseInt(hex.slice(at, at + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.3 ? "#1a1a1a" : "#ffffff";
}

function markerOf(item: TimelineInterval): (typeof MARKERS)[number]["event"] | undefined {
  if (item.fromClipped) return undefined;
  if (item.action === "rolled_back") return "rollback";
  if (item.action === "promoted") return "A/B promoted";
  if (item.action === "ab_aborted") return "A/B aborted";
  return undefined;
}

/** Dates with their month, always: a bare "Wed 30" says nothing of which month. */
function dateFormat(spanMs: number): string {
  const day = 86_400_000;
  if (spanMs <= 15 * 60_000) return "%H:%M:%S";
  if (spanMs <= 3 * day) return "%b %d %H:%M";
  if (spanMs <= 400 * day) return "%b %d";
  return "%Y-%m";
}

/**
 * The time axis. A window given (`--from`) is drawn as it is; without one (or with one nobody
 * asked for, `fitToData`), the data's extent
 * from its first interval, with a margin of 2% before it so the first change is not on the
 * axis. The end is the window's end (now, or `--to`): a running version is drawn up to it and
 * the axis never runs into the future. A short history stays short (four minutes fill the
 * width); a window of no length gets a minute before its end.
 */
export function timeWindow(view: TimelineView, fitToData = false): { start: number; end: number } {
  const end = view.to.at.getTime();
  const given = fitToData ? null : view.from;
  const from = (given?.at ?? earliest(view.items) ?? view.from?.at ?? view.to.at).getTime();
  const span = end - from;
  if (span <= 0) return { start: end - 60_000, end };
  if (given) return { start: from, end };
  // Never before the window itself: a stretch clipped at its start begins at the window.
  return { start: Math.max(from - span * 0.02, view.from?.at.getTime() ?? -Infinity), end };
}

/**
 * A colour per plugin version, the same in every chart: a hash of "plugin version" picks a
 * place in the palette. Two versions of one chart that hash alike would be told apart by
 * nothing, so the later (in the order given) takes the next free colour: only such a clash
 * makes a colour depend on what else the chart shows.
 */
export function coloursOf(keys: readonly string[]): Map<string, string> {
  const taken = new Set<number>();
  const colours = new Map<string, string>();
  for (const key of keys) {
    let at = fnv1a(key) % PALETTE.length;
    for (let tries = 0; taken.has(at) && tries < PALETTE.length; tries++) at = (at + 1) % PALETTE.length;
    taken.add(at);
    colours.set(key, PALETTE[at] as string);
  }
  return colours;
}

/** FNV-1a, 32 bits: small, fixed, and spreads short names such as versions well. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Text broken between words into lines of about `chars` characters (vega draws an array as lines). */
function fitLines(text: string, chars: number): string | string[] {
  const limit = Math.max(20, Math.floor(chars));
  if (text.length <= limit) return text;
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > limit) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

function earliest(items: readonly TimelineInterval[]): Date | undefined {
  return items.reduce<Date | undefined>(
    (min, i) => (min === undefined || i.fromAt < min ? i.fromAt : min),
    undefined,
  );
}

/** The lane names for the y axis: lane i is centred on i + the bar's middle. */
function laneNames(plugins: readonly string[]): string {
  // Plugin ids are [a-z][a-z0-9_]*, so they need no escaping inside a quoted string.
  return `[${plugins.map((p) => `'${p}'`).join(",")}][floor(datum.value)] || ''`;
}

function subtitle(view: TimelineView, start: number, end: number): string {
  // To the second when the window is short, where minutes would say "14:02 to 14:06".
  const chars = end - start < 3_600_000 ? 19 : 16;
  const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, chars).replace("T", " ")}Z`;
  const positions = view.from
    ? `positions #${view.from.position} to #${view.to.position}`
    : `positions up to #${view.to.position}`;
  return `${iso(start)} to ${iso(end)} · ${positions} · A/B spans: control above, candidate below, heights by weight`;
}
