import { describe, expect, it } from "vitest";
import {
  type LedgerPoint,
  type SegmentRow,
  type TimelineWindow,
  timelineOf,
  type VersionRow,
} from "../../src/timeline/pieces.ts";
import { briefly } from "../support/timeline-intervals.ts";

/** Position n was recorded at day n of March 2025, noon. */
const point = (position: number): LedgerPoint => ({
  position,
  at: new Date(Date.UTC(2025, 2, position, 12)),
});
const ops = { kind: "telegram" as const, id: "1", name: "Ops" };
const lead = { kind: "cli" as const, id: "lead" };
const now: TimelineWindow = { from: null, to: point(30) };

function version(
  v: string,
  from: number,
  to: number | null,
  action: VersionRow["action"],
  closedBy: VersionRow["closedBy"] = null,
): VersionRow {
  return {
    pluginId: "momentum",
    version: v,
    action,
    actor: ops,
    reason: `${action} ${v}`,
    from: point(from),
    to: to === null ? null : point(to),
    closedBy,
  };
}

function segment(
  from: number,
  to: number | null,
  weightBp: number,
  ended: SegmentRow["ended"] = null,
  startedPosition = 10,
): SegmentRow {
  return {
    pluginId: "momentum",
    testId: "t1",
    control: "1.1.0",
    candidate: "1.2.0",
    candidateWeightBp: weightBp,
    startedPosition,
    actor: lead,
    reason: `weight ${weightBp}`,
    from: point(from),
    to: to === null ? null : point(to),
    ended,
  };
}

describe("timeline pieces", () => {
  const plain = [
    version("1.0.0", 2, 5, "registered", "upgraded"),
    version("1.1.0", 5, 8, "upgraded", "rolled_back"),
    version("1.0.0", 8, null, "rolled_back"),
  ];

  it("gives each version interval as it is, the running one ending at the window's end", () => {
    expect(briefly(timelineOf(plain, [], now))).toEqual([
      "1.0.0 - - registered 2..5 upgraded",
      "1.1.0 - - upgraded 5..8 rolled_back",
      "1.0.0 - - rolled_back 8..30> -",
    ]);
    const [first] = timelineOf(plain, [], now);
    expect(first).toMatchObject({
      actor: ops,
      reason: "registered 1.0.0",
      fromAt: point(2).at,
      toAt: point(5).at,
    });
  });

  it("clips at a window given by positions, and leaves out what lies outside it", () => {
    const window = { from: point(6), to: point(9) };
    expect(briefly(timelineOf(plain.slice(1), [], window))).toEqual([
      "1.1.0 - - upgraded 6<..8 rolled_back",
      "1.0.0 - - rolled_back 8..9> -",
    ]);
    // An interval that ends where the window starts ran before it.
    expect(briefly(timelineOf(plain, [], { from: point(5), to: point(5) }))).toEqual([
      "1.1.0 - - upgraded 5..5> -",
    ]);
  });

  it("clips at a moment between two events: the start is the moment, not the event before it", () => {
    const moment = new Date(point(6).at.getTime() + 3_600_000);
    const [item] = timelineOf(plain.slice(1, 2), [], { from: { position: 6, at: moment }, to: point(30) });
    expect(item).toMatchObject({ fromPosition: 6, fromAt: moment, fromClipped: true, toPosition: 8 });
  });

  it("cuts an interval where an A/B test runs: start, weight change, promotion", () => {
    const versions = [
      version("1.1.0", 5, 14, "upgraded", "promoted"),
      version("1.2.0", 14, null, "promoted"),
    ];
    const promoted = { position: 14, outcome: "promoted" as const, actor: lead, reason: "wins" };
    const segments = [segment(10, 12, 1000, promoted), segment(12, 14, 5000, promoted)];
    const items = timelineOf(versions, segments, now);
    expect(briefly(items)).toEqual([
      "1.1.0 - - upgraded 5..10 ab_started",
      "1.1.0 1.2.0 10 ab_started 10..12 ab_weight_changed",
      "1.1.0 1.2.0 50 ab_weight_changed 12..14 promoted",
      "1.2.0 - - promoted 14..30> -",
    ]);
    expect(items[1]).toMatchObject({ testId: "t1", actor: lead, reason: "weight 1000" });
  });

  it("after an abort, the control runs on, begun by the abort's actor and reason", () => {
    const aborted = { position: 12, outcome: "aborted" as const, actor: ops, reason: "candidate lost money" };
    const items = timelineOf(
      [version("1.1.0", 5, 20, "upgraded", "upgraded")],
      [segment(10, 12, 2500, aborted)],
      now,
    );
    expect(briefly(items)).toEqual([
      "1.1.0 - - upgraded 5..10 ab_started",
      "1.1.0 1.2.0 25 ab_started 10..12 ab_aborted",
      "1.1.0 - - ab_aborted 12..20 upgraded",
    ]);
    expect(items[2]).toMatchObject({ actor: ops, reason: "candidate lost money" });
  });

  it("a window starting after an abort still says the stretch began with the abort", () => {
    const aborted = { position: 12, outcome: "aborted" as const, actor: ops, reason: "stop" };
    const items = timelineOf([version("1.1.0", 5, null, "upgraded")], [segment(10, 12, 2500, aborted)], {
      from: point(15),
      to: point(30),
    });
    expect(briefly(items)).toEqual(["1.1.0 - - ab_aborted 15<..30> -"]);
  });

  it("a test still running is the last stretch, clipped at the window's end", () => {
    const items = timelineOf(
      [version("1.1.0", 5, null, "upgraded")],
      [segment(10, 11, 1000), segment(11, null, 2000)],
      { from: point(10), to: point(20) },
    );
    expect(briefly(items)).toEqual([
      "1.1.0 1.2.0 10 ab_started 10..11 ab_weight_changed",
      "1.1.0 1.2.0 20 ab_weight_changed 11..20> -",
    ]);
  });

  it("ignores a segment that belongs to an earlier interval", () => {
    const items = timelineOf([version("1.1.0", 15, null, "upgraded")], [segment(10, 12, 2500)], now);
    expect(briefly(items)).toEqual(["1.1.0 - - upgraded 15..30> -"]);
  });
});
