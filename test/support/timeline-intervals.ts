import type { TimelineInterval } from "../../src/timeline/pieces.ts";

/** Day `day` of March 2025, midnight UTC. */
const march = (day: number) => new Date(Date.UTC(2025, 2, day));

/** Momentum 1.0.0, registered at position 1 (1 March) and ended at 2 (5 March), but for `overrides`. */
export function interval(overrides: Partial<TimelineInterval> = {}): TimelineInterval {
  return {
    pluginId: "momentum",
    version: "1.0.0",
    candidate: null,
    candidatePercent: null,
    testId: null,
    action: "registered",
    fromPosition: 1,
    fromAt: march(1),
    fromClipped: false,
    toPosition: 2,
    toAt: march(5),
    toClipped: false,
    endedBy: null,
    actor: { kind: "cli", id: "olga" },
    reason: null,
    ...overrides,
  };
}

/**
 * Each stretch in one line, "version candidate percent action from..to endedBy" ("-" for null),
 * with "<" after a start clipped at the window's and ">" after an end clipped at the window's.
 */
export const briefly = (items: readonly TimelineInterval[]): string[] =>
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
