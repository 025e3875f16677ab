import type { StoredEvent } from "../src/store/index.ts";
import type { Tables } from "../src/store/tables.ts";
import { CATALOG_ROW_JSON, type CatalogRow, versionStateOf } from "./catalog.ts";
import {
  actorOf,
  endOpenRows,
  isOneOf,
  type LedgerProjection,
  ledgerEvents,
  type PluginOf,
  planned,
  reasonOf,
} from "./ledger-projection.ts";

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

/** A running A/B test, its weight now, and its candidate's release (running versions count for the matrix). */
export type RunningTestRow = {
  plugin_id: string;
  test_id: string;
  control: string;
  candidate: string;
  salt: string;
  weight_bp: number;
  release: CatalogRow | null;
};

/** Every running test, with its open segment's weight, as a JSON array of RunningTestRow. */
export const runningTestsJson = (tables: Tables) =>
  `(SELECT coalesce(json_agg(json_build_object('plugin_id', t.plugin_id, 'test_id', t.test_id,
            'control', t.control, 'candidate', t.candidate, 'salt', t.salt,
            'weight_bp', s.candidate_weight_bp,
            'release', CASE WHEN v.version IS NOT NULL THEN ${CATALOG_ROW_JSON} END)), '[]')
     FROM ${tables.q("ab_tests")} t
     JOIN ${tables.q("ab_test_segments")} s ON s.test_id = t.test_id AND s.to_position IS NULL
     LEFT JOIN ${tables.q("plugin_versions")} v ON v.plugin_id = t.plugin_id AND v.version = t.candidate
    WHERE t.ended_position IS NULL)`;

/** Each plugin's running test, and its candidate's release. */
export function loadRunningTests(rows: readonly RunningTestRow[], plugin: PluginOf): void {
  for (const test of rows) {
    const testing = plugin(test.plugin_id);
    const { test_id: testId, control, candidate, salt, weight_bp: candidateWeightBp } = test;
    testing.abTest = { testId, control, candidate, candidateWeightBp, salt };
    if (test.release) testing.versions[candidate] = versionStateOf(test.release);
  }
}

/** The columns of an end's parameters: the test, and where its end sits. */
const MARK_KEY: [string, string] = ["test_id", "text"];
const MARK: [string, string][] = [
  ["position", "bigint"],
  ["at", "timestamptz"],
];

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
/** The events this projection folds, live and in a rebuild. */
const AB_TEST_EVENTS = ["AbTestStarted", "AbTestWeightChanged", "AbTestPromoted", "AbTestAborted"] as const;

export const abTests: LedgerProjection = planned({
  name: "ab_tests",
  tables: ["ab_tests", "ab_test_segments"],
  rebuild: { eventTypes: AB_TEST_EVENTS },
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
               ${endOpenRows({
                 table: testsTable,
                 open: "ended_position",
                 first: 1,
                 columns: [MARK_KEY, ...MARK, ["outcome", "text"]],
                 set: "ended_position = c.position, ended_at = c.at, outcome = c.outcome",
               })}
             ), closed AS (
               ${endOpenRows({
                 table: segmentsTable,
                 open: "to_position",
                 first: 5,
                 columns: [MARK_KEY, ...MARK],
                 set: "to_position = c.position, to_at = c.at",
               })}
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
    const event = parsed[i];
    if (!isOneOf(AB_TEST_EVENTS, event)) return;
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
