import type { LedgerEvent } from "../src/domain/index.ts";
import type { StoredEvent } from "../src/store/index.ts";
import { actorOf, type LedgerProjection, ledgerEvents, planned, reasonOf } from "./ledger-projection.ts";

type Outcome = "promoted" | "aborted";
/** Where an event sits: its position, time, and who did it why (actor as JSON text). */
type Mark = { position: number; at: Date; actor: string; reason: string | null };
type Test = {
  testId: string;
  pluginId: string;
  control: string;
  candidate: string;
  salt: string;
  started: Mark;
  ended: { mark: Mark; outcome: Outcome } | null;
};
type Segment = { testId: string; pluginId: string; weightBp: number; from: Mark; to: Mark | null };
/** The end of a test, or of a segment, that was open before the batch. */
type Closing = { testId: string; mark: Mark; outcome?: Outcome };

/**
 * ab_tests (one row per test) and ab_test_segments (its weight over time, [from, to)). A batch
 * with A/B events is one statement: end the tests and close the segments that were open before
 * it, then insert the batch's own tests and segments, already ended or closed when a later
 * event of the batch did it.
 *
 * Like transitions.ts it relies on what the rules guarantee (decide.ts): a weight change, a
 * promotion or an abort names the plugin's running test, and a test starts only when none runs
 * (a forced start aborts the running one first, in the same batch, before it).
 */
export const abTests: LedgerProjection = planned({
  name: "ab_tests",
  tables: ["ab_tests", "ab_test_segments"],
  plan(events, tables) {
    const changes = changesOf(events);
    if (changes === null) return [];
    const { tests, segments, endedTests, closedSegments } = changes;
    const testsTable = tables.q("ab_tests");
    const segmentsTable = tables.q("ab_test_segments");
    return [
      {
        // The inserts read `ended` and `closed` before they insert anything, which makes those
        // UPDATEs run to the end first: the unique indexes on running tests and open segments
        // must find the old ones ended. An UPDATE sees only rows from before the statement, so it
        // never touches the batch's own rows; they arrive ended or closed already.
        text: `WITH ended AS (
               UPDATE ${testsTable} AS t
                  SET ended_position = e.position, ended_at = e.at, outcome = e.outcome
                 FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[])
                      AS e(test_id, position, at, outcome)
                WHERE t.test_id = e.test_id AND t.ended_position IS NULL
               RETURNING 1
             ), closed AS (
               UPDATE ${segmentsTable} AS s
                  SET to_position = c.position, to_at = c.at
                 FROM unnest($5::text[], $6::bigint[], $7::timestamptz[]) AS c(test_id, position, at)
                WHERE s.test_id = c.test_id AND s.to_position IS NULL
               RETURNING 1
             ), started AS (
               INSERT INTO ${testsTable}
                 (test_id, plugin_id, control, candidate, salt, started_position, started_at,
                  ended_position, ended_at, outcome, actor, reason)
               SELECT * FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
                                    $13::bigint[], $14::timestamptz[], $15::bigint[], $16::timestamptz[],
                                    $17::text[], $18::jsonb[], $19::text[])
                WHERE (SELECT count(*) FROM ended) >= 0
             )
             INSERT INTO ${segmentsTable}
               (test_id, plugin_id, from_position, from_at, to_position, to_at, candidate_weight_bp,
                actor, reason)
             SELECT * FROM unnest($20::text[], $21::text[], $22::bigint[], $23::timestamptz[],
                                  $24::bigint[], $25::timestamptz[], $26::int[], $27::jsonb[], $28::text[])
              WHERE (SELECT count(*) FROM closed) >= 0`,
        values: [
          endedTests.map((e) => e.testId),
          endedTests.map((e) => e.mark.position),
          endedTests.map((e) => e.mark.at.toISOString()),
          endedTests.map((e) => e.outcome),
          closedSegments.map((c) => c.testId),
          closedSegments.map((c) => c.mark.position),
          closedSegments.map((c) => c.mark.at.toISOString()),
          tests.map((t) => t.testId),
          tests.map((t) => t.pluginId),
          tests.map((t) => t.control),
          tests.map((t) => t.candidate),
          tests.map((t) => t.salt),
          tests.map((t) => t.started.position),
          tests.map((t) => t.started.at.toISOString()),
          tests.map((t) => t.ended?.mark.position ?? null),
          tests.map((t) => t.ended?.mark.at.toISOString() ?? null),
          tests.map((t) => t.ended?.outcome ?? null),
          tests.map((t) => t.started.actor),
          tests.map((t) => t.started.reason),
          segments.map((s) => s.testId),
          segments.map((s) => s.pluginId),
          segments.map((s) => s.from.position),
          segments.map((s) => s.from.at.toISOString()),
          segments.map((s) => s.to?.position ?? null),
          segments.map((s) => s.to?.at.toISOString() ?? null),
          segments.map((s) => s.weightBp),
          segments.map((s) => s.from.actor),
          segments.map((s) => s.from.reason),
        ],
      },
    ];
  },
});

/** The batch's tests and segments, and the ends of those open before it; null if it has no A/B event. */
function changesOf(events: readonly StoredEvent[]) {
  const parsed = ledgerEvents(events);
  const tests: Test[] = [];
  const segments: Segment[] = [];
  const endedTests: Required<Closing>[] = [];
  const closedSegments: Closing[] = [];
  const testOf = new Map<string, Test>();
  const openSegmentOf = new Map<string, Segment>();
  let seen = false;

  /** Ends the test's open segment: the batch's own, or the one open before the batch. */
  const closeSegment = (testId: string, mark: Mark) => {
    const open = openSegmentOf.get(testId);
    if (open === undefined) closedSegments.push({ testId, mark });
    else open.to = mark;
    openSegmentOf.delete(testId);
  };
  const openSegment = (testId: string, pluginId: string, weightBp: number, from: Mark) => {
    const segment: Segment = { testId, pluginId, weightBp, from, to: null };
    segments.push(segment);
    openSegmentOf.set(testId, segment);
  };

  events.forEach((row, i) => {
    const event = parsed[i] as LedgerEvent;
    if (!event.type.startsWith("AbTest")) return;
    seen = true;
    const mark: Mark = {
      position: row.position,
      at: row.recordedAt,
      actor: actorOf(row),
      reason: reasonOf(row),
    };
    switch (event.type) {
      case "AbTestStarted": {
        const { testId, pluginId, control, candidate, salt, candidateWeightBp } = event.data;
        const test: Test = { testId, pluginId, control, candidate, salt, started: mark, ended: null };
        tests.push(test);
        testOf.set(testId, test);
        openSegment(testId, pluginId, candidateWeightBp, mark);
        break;
      }
      case "AbTestWeightChanged":
        closeSegment(event.data.testId, mark);
        openSegment(event.data.testId, event.data.pluginId, event.data.toBp, mark);
        break;
      case "AbTestPromoted":
      case "AbTestAborted": {
        const { testId } = event.data;
        const outcome: Outcome = event.type === "AbTestPromoted" ? "promoted" : "aborted";
        const test = testOf.get(testId);
        if (test === undefined) endedTests.push({ testId, mark, outcome });
        else test.ended = { mark, outcome };
        closeSegment(testId, mark);
        break;
      }
    }
  });
  return seen ? { tests, segments, endedTests, closedSegments } : null;
}
