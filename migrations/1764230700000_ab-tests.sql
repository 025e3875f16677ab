-- Up Migration

-- A/B tests, a projection of the AbTest* events (projections/ab-tests.ts): one row per test, and
-- its split over time as segments. Like every projection table, a pure function of the events,
-- recreated by `rebuild`; no foreign keys. The timeline reads both tables.

-- One row per test: its arms, its salt (what assignment hashes), when it started and how it ended.
-- actor and reason are those of the start; the end's are on the event at ended_position.
CREATE TABLE ab_tests (
  test_id           text        PRIMARY KEY,
  plugin_id         text        NOT NULL,
  control           text        NOT NULL,
  candidate         text        NOT NULL,
  salt              text        NOT NULL,
  started_position  bigint      NOT NULL,
  started_at        timestamptz NOT NULL,
  ended_position    bigint,
  ended_at          timestamptz,
  outcome           text        CHECK (outcome IN ('promoted', 'aborted')),
  actor             jsonb       NOT NULL,
  reason            text,
  CHECK (control <> candidate),
  CHECK (ended_position > started_position),
  CHECK ((ended_position IS NULL) = (ended_at IS NULL) AND (ended_position IS NULL) = (outcome IS NULL))
);
-- A plugin's tests in order; as-of finds the last one started at or before a position by one
-- backward probe of this key.
CREATE INDEX ab_tests_plugin ON ab_tests (plugin_id, started_position);
-- One test per plugin at a time: the projection ends the old test before it starts the next
-- (a start forced past a running test), and this index refuses a second running one whatever
-- the code does. It also serves status and the command's state load (the running tests).
CREATE UNIQUE INDEX ab_tests_running ON ab_tests (plugin_id) WHERE ended_position IS NULL;

-- The split over time: [from_position, to_position) at one weight. A test's first segment starts
-- with it, each weight change ends one and starts the next, and the test's end ends the last.
-- actor and reason are those of the event that set the weight.
CREATE TABLE ab_test_segments (
  test_id              text        NOT NULL,
  plugin_id            text        NOT NULL,
  from_position        bigint      NOT NULL,
  from_at              timestamptz NOT NULL,
  to_position          bigint,
  to_at                timestamptz,
  candidate_weight_bp  integer     NOT NULL CHECK (candidate_weight_bp BETWEEN 1 AND 9999),
  actor                jsonb       NOT NULL,
  reason               text,
  -- As-of and assignment at a moment find the segment in force by one backward probe of this key.
  PRIMARY KEY (test_id, from_position),
  CHECK (to_position > from_position),
  CHECK ((to_position IS NULL) = (to_at IS NULL))
);
CREATE INDEX ab_test_segments_plugin ON ab_test_segments (plugin_id, from_position);
CREATE UNIQUE INDEX ab_test_segments_open ON ab_test_segments (test_id) WHERE to_position IS NULL;

-- Until this migration no command could write an AbTest* event, so on an existing ledger the
-- empty tables are already up to date: the checkpoint starts at the head. Only if such events
-- were appended some other way does it start at 0, and commands then wait for `rebuild`.
INSERT INTO projection_checkpoints (projection, position)
SELECT 'ab_tests',
       CASE WHEN EXISTS (SELECT 1 FROM events WHERE type LIKE 'AbTest%') THEN 0 ELSE head.position END
  FROM head;

-- Down Migration

DROP TABLE ab_test_segments;
DROP TABLE ab_tests;
DELETE FROM projection_checkpoints WHERE projection = 'ab_tests';
