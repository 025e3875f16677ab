import { percentile } from "./closed-loop.ts";
import type { Measurement, Target } from "./scenario.ts";

export type Percentiles = { p50: number; p99: number };
type Quantile = keyof Percentiles;

/** The median and the 99th percentile of ascending `sorted`. */
export function percentilesOf(sorted: number[]): Percentiles {
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

export type LatencyRowOptions = {
  /** The baseline's percentiles, or one figure that stands for both (a single timed run). */
  baseline?: Percentiles | number;
  targets?: Partial<Record<Quantile, Target[]>>;
  /** Kept with the p50 row. */
  details?: Record<string, unknown>;
};

/**
 * A latency as a scenario reports it: a p50 row and a p99 row in ms, each against its baseline.
 * `metric` names the rows, by the quantile or one name each.
 */
export function latencyRows(
  metric: ((quantile: Quantile) => string) | Record<Quantile, string>,
  value: Percentiles,
  { baseline, targets, details }: LatencyRowOptions = {},
): Measurement[] {
  return (["p50", "p99"] as const).map((q) => {
    const base = typeof baseline === "number" ? baseline : baseline?.[q];
    return {
      metric: typeof metric === "function" ? metric(q) : metric[q],
      unit: "ms",
      value: value[q],
      ...(base === undefined ? {} : { baseline: base }),
      ...(targets?.[q] ? { targets: targets[q] } : {}),
      ...(q === "p50" && details ? { details } : {}),
    };
  });
}
