import { coloursOf, inkOn } from "./chart-colours.ts";
import type { TimelineInterval, TimelineView } from "./pieces.ts";

/**
 * The geometry of a timeline chart, worked out without vega: one lane per plugin, the bars in
 * it (an A/B span split across its height, the control above and the candidate below, each as
 * tall as its share of units), which labels and captions fit, the marks, the colours, and the
 * picture's size. The spec (chart.ts) only draws what this decides, so the same view always
 * gives the same picture.
 */

export type ChartLayoutOptions = {
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

/** Within a lane (1 unit tall): the label zone above the bar, then the bar. */
const LANE = { barTop: 0.32, barBottom: 0.92, labelY: 0.27 };
/** In pixels: a lane, the title, the time axis, a legend's row; and at most 8 legend columns. */
const PX = { lane: 64, header: 70, axis: 50, legendRow: 18, legendColumnsMax: 8 };
/** DejaVu Sans averages about 0.6 em a character (bold 0.65): enough to decide what fits. */
const CHAR_PX = { bar: 7.2, caption: 6.1 };
/** Where the lane names sit on the y axis: lane i is centred on i + the bar's middle. */
export const LANE_MIDDLE = (LANE.barTop + LANE.barBottom) / 2;

/** What is marked where it happened, each with its shape and colour in the legend of marks. */
const MARKERS = [
  { event: "rollback", shape: "triangle-down", color: "#c62828" },
  { event: "A/B promoted", shape: "diamond", color: "#2e7d32" },
  { event: "A/B aborted", shape: "cross", color: "#37474f" },
  { event: "deactivated", shape: "square", color: "#111111" },
] as const;

type MarkerKind = (typeof MARKERS)[number];

export type Bar = {
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
export type Span = { y: number; y2: number; start: number; end: number };
export type Caption = { y: number; x: number; text: string };
export type Marker = { lane: number; y: number; at: number; event: string };

/** What lies in the lanes: bars, A/B spans outlined, their captions, marks, and empty lanes' notes. */
export type LaneContents = {
  bars: Bar[];
  tests: Span[];
  captions: Caption[];
  markers: Marker[];
  empty: Caption[];
};

export type ChartLayout = LaneContents & {
  plugins: string[];
  /** The time axis, in ms since the epoch. */
  start: number;
  end: number;
  width: number;
  height: number;
  /** The versions' colours: `keys[i]` is drawn in `colours[i]`. */
  keys: string[];
  colours: string[];
  /** The kinds of marks the chart shows, for their legend. */
  marked: MarkerKind[];
  legendColumns: number;
  /** Both broken into lines that fit the width, so a narrow chart keeps all of its subtitle. */
  title: string | string[];
  subtitle: string | string[];
};

export function chartLayout(view: TimelineView, options: ChartLayoutOptions): ChartLayout {
  const plugins = [...new Set(options.plugins)];
  const { start, end } = timeWindow(view, options.fitToData === true);
  const width = options.width ?? 1200;
  const nameChars = plugins.reduce((n, p) => Math.max(n, p.length), 6);
  const plotPx = width - 40 - nameChars * CHAR_PX.bar;
  const contents = laneContents(view, plugins, start, (ms) => (ms / (end - start)) * plotPx);
  const keys = [...new Set(contents.bars.map((b) => b.key))];
  const colour = coloursOf(keys);
  for (const b of contents.bars) b.ink = inkOn(colour.get(b.key) ?? "#ffffff");
  // As many legend columns as the longest label leaves room for.
  const keyChars = keys.reduce((n, k) => Math.max(n, k.length), 5);
  const legendColumns = Math.max(
    1,
    Math.min(PX.legendColumnsMax, Math.floor((width - 40) / (keyChars * 7 + 40))),
  );
  const legendRows = Math.ceil(keys.length / legendColumns) + 1 + (contents.markers.length > 0 ? 2 : 0);
  const subtitleText = subtitle(view, start, end);
  const titleLines = Math.ceil((subtitleText.length * CHAR_PX.caption) / (width - 24));
  const height =
    PX.header + (titleLines - 1) * 14 + plugins.length * PX.lane + PX.axis + 30 + legendRows * PX.legendRow;
  return {
    ...contents,
    plugins,
    start,
    end,
    width,
    height,
    keys,
    colours: keys.map((k) => colour.get(k) ?? "#ffffff"),
    // The legend of marks lists those the chart shows.
    marked: MARKERS.filter((m) => contents.markers.some((k) => k.event === m.event)),
    legendColumns,
    title: fitLines(options.title ?? `Plugin versions: ${plugins.join(", ")}`, (width - 24) / 9.5),
    subtitle: fitLines(subtitleText, (width - 24) / CHAR_PX.caption),
  };
}

/** The lanes' contents; `px` is a span of time's width on the plot. */
function laneContents(
  view: TimelineView,
  plugins: readonly string[],
  start: number,
  px: (ms: number) => number,
): LaneContents {
  const lane = new Map(plugins.map((p, i) => [p, i]));
  const contents: LaneContents = { bars: [], tests: [], captions: [], markers: [], empty: [] };
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
    contents.bars.push({ lane: i, y: i + top, y2: i + bottom, start: from, end: to, key, label, ink: "" });
  };
  for (const item of view.items) {
    const i = lane.get(item.pluginId);
    if (i === undefined) continue;
    const from = item.fromAt.getTime();
    const to = item.toAt.getTime();
    const room = px(to - from);
    if (item.candidate === null || item.candidatePercent === null) {
      const fits = (item.version.length + 1) * CHAR_PX.bar <= room;
      bar(i, LANE.barTop, LANE.barBottom, from, to, item.version, fits ? item.version : "");
    } else {
      // The control above, the candidate below, each as tall as its share.
      const split = LANE.barTop + (LANE.barBottom - LANE.barTop) * (1 - item.candidatePercent / 100);
      bar(i, LANE.barTop, split, from, to, item.version, "");
      bar(i, split, LANE.barBottom, from, to, item.candidate, "");
      contents.tests.push({ y: i + LANE.barTop, y2: i + LANE.barBottom, start: from, end: to });
      const text = abCaption(item.version, item.candidate, item.candidatePercent, room);
      if (text !== undefined) contents.captions.push({ y: i + LANE.labelY, x: from + (to - from) / 2, text });
    }
    const marker = markerOf(item);
    if (marker !== undefined) contents.markers.push({ lane: i, y: i + LANE.barTop, at: from, event: marker });
    if (item.endedBy === "deactivated")
      contents.markers.push({ lane: i, y: i + LANE.barTop, at: to, event: "deactivated" });
  }
  contents.empty = plugins
    .filter((p) => !view.items.some((item) => item.pluginId === p))
    .map((p) => ({ y: (lane.get(p) ?? 0) + LANE_MIDDLE, x: start, text: "no interval in this window" }));
  return contents;
}

/** The longest caption of an A/B span that fits in `room` pixels, if any does. */
function abCaption(control: string, candidate: string, percent: number, room: number): string | undefined {
  const weight = `${percent}%`;
  return [`A/B ${control} vs ${candidate} @ ${weight}`, `${candidate} @ ${weight}`, weight].find(
    (t) => (t.length + 1) * CHAR_PX.caption <= room,
  );
}

function markerOf(item: TimelineInterval): MarkerKind["event"] | undefined {
  if (item.fromClipped) return undefined;
  if (item.action === "rolled_back") return "rollback";
  if (item.action === "promoted") return "A/B promoted";
  if (item.action === "ab_aborted") return "A/B aborted";
  return undefined;
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

function subtitle(view: TimelineView, start: number, end: number): string {
  // To the second when the window is short, where minutes would say "14:02 to 14:06".
  const chars = end - start < 3_600_000 ? 19 : 16;
  const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, chars).replace("T", " ")}Z`;
  const positions = view.from
    ? `positions #${view.from.position} to #${view.to.position}`
    : `positions up to #${view.to.position}`;
  return `${iso(start)} to ${iso(end)} · ${positions} · A/B spans: control above, candidate below, heights by weight`;
}
