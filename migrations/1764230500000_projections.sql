-- Up Migration

-- The read side. Every row below is a pure function of the events: the inline projections in
-- projections/ write them in the append's own transaction, and `rebuild` recreates them from
-- scratch. None of them is a source of truth, so there are no foreign keys: a rebuild may fill
-- the tables in any order. (ab_tests comes with the A/B issue.)

-- The release catalog: one row per released version, its deprecation folded in.
CREATE TABLE plugin_versions (
  plugin_id            text        NOT NULL,
  version              text        NOT NULL,
  -- Precedence parts, so SQL can order a catalog and find "the same version with another build"
  -- (a release is ALREADY then). Prerelease identifiers compare by semver rules (numeric
  -- identifiers numerically), which the application applies after SQL's coarse order.
  major                bigint      NOT NULL,
  minor                bigint      NOT NULL,
  patch                bigint      NOT NULL,
  prerelease           text,
  -- Release metadata as the VersionReleased event carries it; build_date keeps the released
  -- text (a date, or a date-time with its own offset), not a reinterpretation of it.
  build_date           text        NOT NULL,
  commit_hash          text,
  author               text        NOT NULL,
  requires_api         text,
  requires_db_schema   text,
  compatible_with      jsonb       NOT NULL,
  features             jsonb       NOT NULL,
  release_notes        text        NOT NULL,
  released_position    bigint      NOT NULL,
  released_at          timestamptz NOT NULL,
  deprecated           boolean     NOT NULL DEFAULT false,
  deprecation_reason   text,
  deprecated_position  bigint,
  deprecated_at        timestamptz,
  PRIMARY KEY (plugin_id, version),
  CHECK (deprecated = (deprecated_position IS NOT NULL))
);
CREATE INDEX plugin_versions_precedence ON plugin_versions (plugin_id, major, minor, patch);

-- What runs now: the open interval of version_history, kept apart for the hot read.
CREATE TABLE active_plugins (
  plugin_id       text        PRIMARY KEY,
  version         text        NOT NULL,
  since_position  bigint      NOT NULL,
  since_at        timestamptz NOT NULL
);

-- Which version ran when: one interval per activation, [from_position, to_position).
-- to_position NULL is the running interval; closed_by names the event that ended it.
CREATE TABLE version_history (
  plugin_id      text        NOT NULL,
  version        text        NOT NULL,
  from_position  bigint      NOT NULL,
  from_at        timestamptz NOT NULL,
  action         text        NOT NULL
    CHECK (action IN ('registered', 'upgraded', 'downgraded', 'rolled_back', 'promoted')),
  actor          jsonb       NOT NULL,
  reason         text,
  to_position    bigint,
  to_at          timestamptz,
  -- Who ended an interval, and why, is the next interval's actor and reason, or for a
  -- deactivation the event at to_position.
  closed_by      text
    CHECK (closed_by IN ('upgraded', 'downgraded', 'rolled_back', 'promoted', 'deactivated')),
  -- Newest-first history and as-of (the last interval starting at or before a position) scan
  -- this key backwards.
  PRIMARY KEY (plugin_id, from_position),
  CHECK (to_position > from_position),
  CHECK ((to_position IS NULL) = (to_at IS NULL) AND (to_position IS NULL) = (closed_by IS NULL))
);
-- A plugin runs at most one version: the projection closes the open interval before it opens
-- the next, and this index refuses a second open one whatever the code does.
CREATE UNIQUE INDEX version_history_open ON version_history (plugin_id) WHERE to_position IS NULL;
-- No index on from_at: a moment is first turned into a position on events (recorded_at,
-- position), and positions are what these keys order. An index per interval row also costs
-- a rebuild a sixth of its time.

-- The host's declared versions now (a single row once declared) ...
CREATE TABLE host (
  singleton          boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
  api_version        text        NOT NULL,
  db_schema_version  text        NOT NULL,
  since_position     bigint      NOT NULL,
  since_at           timestamptz NOT NULL
);

-- ... and over time, so that as-of answers the host too.
CREATE TABLE host_history (
  from_position      bigint      PRIMARY KEY,
  from_at            timestamptz NOT NULL,
  api_version        text        NOT NULL,
  db_schema_version  text        NOT NULL,
  actor              jsonb       NOT NULL,
  reason             text,
  to_position        bigint,
  to_at              timestamptz,
  CHECK (to_position > from_position),
  CHECK ((to_position IS NULL) = (to_at IS NULL))
);
CREATE UNIQUE INDEX host_history_open ON host_history ((true)) WHERE to_position IS NULL;

-- The projections start at position 0. On a ledger that already holds events, commands then
-- refuse to decide on the empty tables until `rebuild` has filled them.
INSERT INTO projection_checkpoints (projection, position) VALUES ('catalog', 0), ('activations', 0), ('host', 0);

-- Down Migration

DROP TABLE host_history;
DROP TABLE host;
DROP TABLE version_history;
DROP TABLE active_plugins;
DROP TABLE plugin_versions;
DELETE FROM projection_checkpoints
  WHERE projection IN ('catalog', 'activations', 'host');
