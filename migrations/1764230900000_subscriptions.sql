-- Up Migration

-- The change feed's durable subscribers (src/ledger/feed/subscriber.ts): one row per name, its
-- checkpoint and what its last runs did. A subscriber handles every event after `position`; the
-- checkpoint moves only after its handler succeeded with events up to the new position.
CREATE TABLE subscriptions (
  name                  text        PRIMARY KEY,
  position              bigint      NOT NULL CHECK (position >= 0),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  -- When a handler last ran (succeeded or failed), the last failure, and how many in a row.
  last_run_at           timestamptz,
  last_error            text,
  last_error_at         timestamptz,
  consecutive_failures  integer     NOT NULL DEFAULT 0,
  -- The lease, where the advisory lock cannot exclude (PGlite's one shared session): the process
  -- that runs the subscriber, until when. On a PostgreSQL server both stay null.
  lease_owner           text,
  lease_expires_at      timestamptz,
  CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL))
);

-- Down Migration

DROP TABLE subscriptions;
