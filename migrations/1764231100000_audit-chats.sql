-- Up Migration

-- The Telegram chats told of every change (projections/audit-chats.ts): one row per chat the
-- ledger has heard of, from its last AuditChatEnabled or AuditChatDisabled event.
CREATE TABLE audit_chats (
  chat_id         bigint      PRIMARY KEY,
  enabled         boolean     NOT NULL,
  -- What the last change came from: TELEGRAM_AUDIT_CHAT_IDS (config) or an admin's /notify (command).
  source          text        NOT NULL CHECK (source IN ('config', 'command')),
  -- The event of that last change, who made it and why.
  since_position  bigint      NOT NULL,
  since_at        timestamptz NOT NULL,
  actor           jsonb       NOT NULL,
  reason          text
);

-- What the notifier posted to which chat (src/ledger/audit-deliveries.ts): an outbox, one row per
-- message (a change, or a run of releases, cut into parts under Telegram's limit). A row is
-- written 'pending' with its text before anything is sent, becomes 'sending' just before the
-- sendMessage call and 'sent' with the message id after it; a row found 'sending' later was
-- interrupted mid-call and becomes 'uncertain' (never sent again: see README "Audit chats").
CREATE TABLE telegram_deliveries (
  -- The order in which a chat's messages are sent.
  seq             bigint      GENERATED ALWAYS AS IDENTITY,
  chat_id         bigint      NOT NULL,
  -- 'change:<last position>' for the feed's messages, 'note:<key>' for a posted note (a checkpoint).
  key             text        NOT NULL,
  part            integer     NOT NULL CHECK (part >= 1),
  parts           integer     NOT NULL CHECK (part <= parts),
  -- The ledger positions the message tells of (null for a note).
  first_position  bigint,
  last_position   bigint,
  text            text        NOT NULL,
  state           text        NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'sending', 'sent', 'uncertain')),
  message_id      bigint,
  -- Who marked it 'sending': the same sender may mark it again after a lost connection.
  claimed_by      text,
  attempts        integer     NOT NULL DEFAULT 0,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  PRIMARY KEY (chat_id, key, part),
  CHECK ((state = 'sent') = (sent_at IS NOT NULL))
);
-- A chat's messages in order, and how far its changes have been written into the outbox.
CREATE INDEX telegram_deliveries_chat_position ON telegram_deliveries (chat_id, last_position);
-- The rows still to send or to settle, without reading the delivered ones.
CREATE INDEX telegram_deliveries_open ON telegram_deliveries (chat_id) WHERE state IN ('pending', 'sending');

-- Until this migration no command could write an AuditChat* event: on an existing ledger the
-- empty table is up to date, so the checkpoint starts at the head (at 0 only if such events were
-- appended some other way; commands then wait for `rebuild`).
INSERT INTO projection_checkpoints (projection, position)
SELECT 'audit_chats',
       CASE WHEN EXISTS (SELECT 1 FROM events WHERE type LIKE 'AuditChat%') THEN 0 ELSE head.position END
  FROM head;

-- Down Migration

DROP TABLE telegram_deliveries;
DROP TABLE audit_chats;
DELETE FROM projection_checkpoints WHERE projection = 'audit_chats';
