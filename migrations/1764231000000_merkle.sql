-- Up Migration

-- The RFC 6962 Merkle tree over the events (leaf i = the hash of the event at position i + 1),
-- kept as its completed perfect subtrees: node (level, index) covers leaves
-- [index * 2^level, (index + 1) * 2^level). Only levels 4 and up are stored (one row per 16
-- events, about n/8 rows in all); a subtree below that is hashed from at most 15 event hashes,
-- read by position. A completed subtree never changes, so rows are only ever inserted, by the
-- inline projection in each append (projections/merkle.ts); `rebuild` recreates them from the
-- events, which stay the source of truth.
CREATE TABLE merkle_nodes (
  level  smallint NOT NULL CHECK (level BETWEEN 4 AND 62),
  index  bigint   NOT NULL CHECK (index >= 0),
  hash   bytea    NOT NULL CHECK (octet_length(hash) = 32),
  PRIMARY KEY (level, index)
);

-- Signed checkpoints (C2SP tlog-checkpoint in a C2SP signed note): what auditors hold the log to.
-- One per tree size, never two different ones: the primary key refuses a second, and signing a
-- size again returns the stored note.
CREATE TABLE signed_checkpoints (
  tree_size  bigint      PRIMARY KEY CHECK (tree_size >= 0),
  root_hash  bytea       NOT NULL CHECK (octet_length(root_hash) = 32),
  origin     text        NOT NULL,
  key_name   text        NOT NULL,
  key_id     bytea       NOT NULL CHECK (octet_length(key_id) = 4),
  note       text        NOT NULL,
  signed_at  timestamptz NOT NULL DEFAULT now()
);

-- Handed out, a checkpoint is a promise; like the events, it is never edited or removed.
CREATE FUNCTION signed_checkpoints_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'signed checkpoints are append-only: % on %.% is refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER signed_checkpoints_refuse_update_delete
  BEFORE UPDATE OR DELETE ON signed_checkpoints
  FOR EACH ROW EXECUTE FUNCTION signed_checkpoints_refuse_change();

CREATE TRIGGER signed_checkpoints_refuse_truncate
  BEFORE TRUNCATE ON signed_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION signed_checkpoints_refuse_change();

-- On a ledger with history, the tree is built here from the events, level by level (RFC 6962:
-- leaf SHA-256(0x00 || hash), node SHA-256(0x01 || left || right); a level's last node without a
-- right sibling waits, as in projections/merkle.ts), so commands go on at once. The levels below 4
-- only pass through a temporary table. A million events take seconds, once.
CREATE TEMPORARY TABLE merkle_fill (
  level  integer NOT NULL,
  index  bigint  NOT NULL,
  hash   bytea   NOT NULL,
  PRIMARY KEY (level, index)
) ON COMMIT DROP;

INSERT INTO merkle_fill (level, index, hash)
SELECT 0, position - 1, sha256('\x00'::bytea || hash) FROM events;

DO $$
DECLARE
  next_level integer := 1;
BEGIN
  LOOP
    INSERT INTO merkle_fill (level, index, hash)
    SELECT next_level, l.index / 2, sha256('\x01'::bytea || l.hash || r.hash)
      FROM merkle_fill l
      JOIN merkle_fill r ON r.level = l.level AND r.index = l.index + 1
     WHERE l.level = next_level - 1 AND l.index % 2 = 0;
    EXIT WHEN NOT FOUND;
    next_level := next_level + 1;
  END LOOP;
END
$$;

INSERT INTO merkle_nodes (level, index, hash) SELECT level, index, hash FROM merkle_fill WHERE level >= 4;

INSERT INTO projection_checkpoints (projection, position) SELECT 'merkle', position FROM head
ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position;

-- Down Migration

DROP TABLE signed_checkpoints;
DROP FUNCTION signed_checkpoints_refuse_change();
DROP TABLE merkle_nodes;
DELETE FROM projection_checkpoints WHERE projection = 'merkle';
