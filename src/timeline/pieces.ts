import { percentOf } from "../domain/index.ts";

/**
 * How a timeline is put together from the interval tables, without SQL: a plugin's version
 * intervals, cut where A/B test segments run on them, then clipped to the window. Pure, so the
 * cutting and the clipping are tested without a database.
 */

/** What began a stretch of a timeline. */
export type TimelineAction =
  | "registered"
  | "upgraded"
  | "downgraded"
  | "rolled_back"
  | "promoted"
  | "ab_started"
  | "ab_weight_changed"
  | "ab_aborted";

/** What ended one: the next stretch's action, or the plugin stopped running. */
export type TimelineEnd = TimelineAction | "deactivated";

/** Who did something, as an event's metadata names them. */
export type Actor = { kind: "telegram" | "cli" | "http" | "system"; id: string; name?: string };

/** A point of the ledger: after the event at `position`, at the moment `at`. */
export type LedgerPoint = { position: number; at: Date };

/**
 * One stretch of a plugin's timeline: one version, or during an A/B test a control, a candidate
 * and the candidate's weight, unchanged from `from` to `to`.
 */
export type TimelineInterval = {
  pluginId: string;
  /** What the plugin runs; during an A/B test, the control. */
  version: string;
  /** During an A/B test: the candidate, its share of units in percent, and the test; else null. */
  candidate: string | null;
  candidatePercent: number | null;
  testId: string | null;
  action: TimelineAction;
  fromPosition: number;
  fromAt: Date;
  /** It began before the window: `from` is the window's start. */
  fromClipped: boolean;
  toPosition: number;
  toAt: Date;
  /** It goes on past the window's end (or still runs there): `to` is the window's end. */
  toClipped: boolean;
  /** What ended it inside the window; null when toClipped. */
  endedBy: TimelineEnd | null;
  /** Who began it, and why. */
  actor: Actor;
  reason: string | null;
};

/** A version_history row: [from, to), to null while it runs. */
export type VersionRow = {
  pluginId: string;
  version: string;
  action: Exclude<TimelineAction, `ab_${string}`>;
  actor: Actor;
  reason: string | null;
  from: LedgerPoint;
  to: LedgerPoint | null;
  closedBy: TimelineEnd | null;
};

/** An ab_test_segments row with its test: one weight, [from, to), to null while it runs. */
export type SegmentRow = {
  pluginId: string;
  testId: string;
  control: string;
  candidate: string;
  candidateWeightBp: number;
  /** The segment that starts the test begins at the test's start. */
  startedPosition: number;
  actor: Actor;
  reason: string | null;
  from: LedgerPoint;
  to: LedgerPoint | null;
  /** How the test ended, if it has, with the actor and reason of its ending event. */
  ended: { position: number; outcome: "promoted" | "aborted"; actor: Actor; reason: string | null } | null;
};

/** The window: from null reaches back to each plugin's first interval. */
export type TimelineWindow = { from: LedgerPoint | null; to: LedgerPoint };

/** The window as resolved (`from` null: unbounded) and the plugins' stretches in it. */
export type TimelineView = { from: LedgerPoint | null; to: LedgerPoint; items: TimelineInterval[] };

type Piece = Omit<
  TimelineInterval,
  "fromPosition" | "fromAt" | "fromClipped" | "toPosition" | "toAt" | "toClipped"
> & {
  from: LedgerPoint;
  to: LedgerPoint | null;
};

/**
 * The plugins' stretches in the window, in the order the plugins are given and then in position
 * order. `versions` and `segments` are those of all the plugins, each plugin's in order.
 */
export function timelinesOf(
  plugins: readonly string[],
  versions: readonly VersionRow[],
  segments: readonly SegmentRow[],
  window: TimelineWindow,
): TimelineInterval[] {
  return plugins.flatMap((pluginId) =>
    timelineOf(
      versions.filter((v) => v.pluginId === pluginId),
      segments.filter((s) => s.pluginId === pluginId),
      window,
    ),
  );
}

/**
 * A plugin's stretches in the window, in position order. `versions` are its intervals that
 * overlap the window, in order; `segments` those of its segments that may bear on them (at
 * least every segment overlapping the window and the last one starting at or before the
 * window's start), in order: a segment outside every interval is ignored, and pieces before
 * the last segment starting at or before the window's start fall outside the window anyway.
 * Both lists are walked once together, so a long history costs what its length does.
 */
export function timelineOf(
  versions: readonly VersionRow[],
  segments: readonly SegmentRow[],
  window: TimelineWindow,
): TimelineInterval[] {
  const items: TimelineInterval[] = [];
  let next = 0;
  for (const interval of versions) {
    const inside: SegmentRow[] = [];
    while (next < segments.length && (segments[next] as SegmentRow).from.position < interval.from.position)
      next++;
    while (next < segments.length) {
      const segment = segments[next] as SegmentRow;
      if (interval.to !== null && segment.from.position >= interval.to.position) break;
      if (segment.pluginId === interval.pluginId) inside.push(segment);
      next++;
    }
    for (const piece of piecesOf(interval, inside))
      if (overlaps(piece, window)) items.push(clip(piece, window));
  }
  return items;
}

/** One version interval cut by the A/B segments that run on it (sorted by position). */
function piecesOf(interval: VersionRow, segments: readonly SegmentRow[]): Piece[] {
  const pieces: Piece[] = [];
  const plain = (
    from: LedgerPoint,
    to: LedgerPoint | null,
    begun: Pick<Piece, "action" | "actor" | "reason">,
  ) =>
    pieces.push({
      pluginId: interval.pluginId,
      version: interval.version,
      candidate: null,
      candidatePercent: null,
      testId: null,
      ...begun,
      from,
      to,
      endedBy: null,
    });
  let cursor: LedgerPoint | null = interval.from;
  let begun: Pick<Piece, "action" | "actor" | "reason"> = interval;
  for (const segment of segments) {
    if (cursor === null) break;
    if (segment.from.position > cursor.position) plain(cursor, segment.from, begun);
    pieces.push({
      pluginId: interval.pluginId,
      version: segment.control,
      candidate: segment.candidate,
      candidatePercent: percentOf(segment.candidateWeightBp),
      testId: segment.testId,
      action: segment.from.position === segment.startedPosition ? "ab_started" : "ab_weight_changed",
      actor: segment.actor,
      reason: segment.reason,
      from: segment.from,
      to: segment.to ?? interval.to,
      endedBy: null,
    });
    cursor = segment.to;
    // After an abort the control runs on alone, begun by the abort; after a promotion this
    // interval has ended, so nothing follows.
    if (segment.ended?.outcome === "aborted" && segment.to?.position === segment.ended.position) {
      begun = { action: "ab_aborted", actor: segment.ended.actor, reason: segment.ended.reason };
    }
  }
  const end = interval.to;
  if (cursor !== null && (end === null || cursor.position < end.position)) plain(cursor, end, begun);
  pieces.forEach((piece, i) => {
    piece.endedBy = pieces[i + 1]?.action ?? interval.closedBy;
  });
  return pieces;
}

function overlaps(piece: Piece, { from, to }: TimelineWindow): boolean {
  return (
    piece.from.position <= to.position &&
    (from === null || piece.to === null || piece.to.position > from.position)
  );
}

function clip(piece: Piece, window: TimelineWindow): TimelineInterval {
  const fromClipped =
    window.from !== null &&
    (piece.from.position < window.from.position ||
      (piece.from.position === window.from.position && piece.from.at.getTime() < window.from.at.getTime()));
  const toClipped = piece.to === null || piece.to.position > window.to.position;
  const from = fromClipped && window.from !== null ? window.from : piece.from;
  const to = toClipped || piece.to === null ? window.to : piece.to;
  // Fields in the order of the JSON and CSV columns.
  return {
    pluginId: piece.pluginId,
    version: piece.version,
    candidate: piece.candidate,
    candidatePercent: piece.candidatePercent,
    testId: piece.testId,
    action: piece.action,
    fromPosition: from.position,
    fromAt: from.at,
    fromClipped,
    toPosition: to.position,
    toAt: to.at,
    toClipped,
    endedBy: toClipped ? null : piece.endedBy,
    actor: piece.actor,
    reason: piece.reason,
  };
}
