-- Up Migration

-- The ledger: one row per event, in commit order. `position` is assigned under the head lock
-- (see head below), so it is gapless and equal to commit order; no sequence is used because a
-- sequence leaves gaps on rollback and hands out numbers in call order, not commit order.
CREATE TABLE events (
  position        bigint      PRIMARY KEY CHECK (position > 0),
  stream_id       text        NOT NULL,
  stream_version  integer     NOT NULL CHECK (stream_version > 0),
  event_id        uuid        NOT NULL UNIQUE,
  type            text        NOT NULL,
  schema_version  integer     NOT NULL,
  data            jsonb       NOT NULL,
  metadata        jsonb       NOT NULL,
  recorded_at     timestamptz NOT NULL,
  prev_hash       bytea       NOT NULL CHECK (octet_length(prev_hash) = 32),
  hash            bytea       NOT NULL CHECK (octet_length(hash) = 32),
  -- Optimistic concurrency backstop: the append checks the expected version under the head lock,
  -- and this index refuses a duplicate stream version whatever the code above it does.
  CONSTRAINT events_stream_version UNIQUE (stream_id, stream_version)
);

-- As-of-time reads find the last position at or before a moment; recorded_at never decreases
-- with position (the append takes max(now, previous recorded_at)).
CREATE INDEX events_recorded_at ON events (recorded_at, position);

-- The single head row: the last position and hash. Every append locks it (SELECT ... FOR UPDATE),
-- which serialises appends: commit order = position order, and no two appends chain to the same
-- previous hash.
CREATE TABLE head (
  singleton    boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
  position     bigint      NOT NULL,
  hash         bytea       NOT NULL,
  recorded_at  timestamptz
);
INSERT INTO head (singleton, position, hash) VALUES (true, 0, decode(repeat('00', 32), 'hex'));

-- Idempotency keys: a request seen before returns the events it wrote (positions first..last);
-- the same key with a different request is a conflict, never silently ignored.
CREATE TABLE idempotency_keys (
  key             text        PRIMARY KEY,
  request_hash    bytea       NOT NULL,
  first_position  bigint      NOT NULL,
  last_position   bigint      NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- Where each projection has got to. Inline projections move theirs in the append transaction.
CREATE TABLE projection_checkpoints (
  projection  text        PRIMARY KEY,
  position    bigint      NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- History is append-only. These guards stop an application bug or a hurried operator; a superuser
-- can still disable them, which is what the hash chain and `verify` are for.
CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger events are append-only: % on %.% is refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation',
          HINT = 'Record a new event instead (for example a rollback or a deprecation).';
END
$$;

CREATE TRIGGER events_refuse_update_delete
  BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_refuse_truncate
  BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- Down Migration

DROP TABLE projection_checkpoints;
DROP TABLE idempotency_keys;
DROP TABLE head;
DROP TABLE events;
DROP FUNCTION events_refuse_change();
