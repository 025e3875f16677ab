import type { Measurement, Target } from "./scenario.ts";

export type Row = Measurement & {
  /** value / baseline; null without a baseline. */
  ratio: number | null;
  /** The targets in words, as printed; null without targets. */
  target: string | null;
  /** Whether every target holds; null without targets. */
  met: boolean | null;
};

export type ScenarioReport = {
  name: string;
  summary: string;
  seconds: number;
  rows: Row[];
  /** Why the scenario stopped, when it failed. */
  error?: string;
};

export function evaluate(measurement: Measurement): Row {
  const { value, baseline } = measurement;
  const ratio = baseline ? value / baseline : null;
  const targets = measurement.targets ?? [];
  if (targets.length === 0) return { ...measurement, ratio, target: null, met: null };
  return {
    ...measurement,
    ratio,
    target: targets.map((t) => describeTarget(t, measurement.unit)).join(", "),
    met: targets.every((t) => holds(t, value, ratio)),
  };
}

function holds(target: Target, value: number, ratio: number | null): boolean {
  if ("ratioAtLeast" in target) return ratio !== null && ratio >= target.ratioAtLeast;
  if ("above" in target) return value > target.above;
  return value < target.below;
}

function describeTarget(target: Target, unit: string): string {
  if ("ratioAtLeast" in target) return `>= ${Math.round(target.ratioAtLeast * 100)}% of baseline`;
  if ("above" in target) return `> ${formatNumber(target.above, unit)}`;
  return `< ${formatNumber(target.below, unit)}`;
}

function formatNumber(value: number, unit: string): string {
  const digits = unit === "ms" || unit === "µs" ? 2 : unit === "MB" ? 1 : 0;
  const text = value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return `${text} ${unit}`;
}

/** A percentage; below 1% with two significant digits, so that 0.06% (a query against a replay) is not "0%". */
function formatRatio(ratio: number): string {
  const percent = ratio * 100;
  return percent > 0 && percent < 1 ? `${percent.toPrecision(2)}%` : `${percent.toFixed(0)}%`;
}

/** The human table: one row per measurement, numbers right-aligned. */
export function formatTable(reports: ScenarioReport[]): string {
  const header = ["scenario", "metric", "value", "baseline", "ratio", "target", "met"];
  const lines: string[][] = [];
  for (const report of reports) {
    for (const row of report.rows) {
      lines.push([
        report.name,
        row.metric,
        formatNumber(row.value, row.unit),
        row.baseline === undefined ? "-" : formatNumber(row.baseline, row.unit),
        row.ratio === null ? "-" : formatRatio(row.ratio),
        row.target ?? "-",
        row.met === null ? "-" : row.met ? "yes" : "NO",
      ]);
    }
    if (report.error) lines.push([report.name, `failed: ${report.error}`, "", "", "", "", "NO"]);
  }
  const rightAligned = new Set([2, 3, 4]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [format(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(format)].join("\n");
}
