-- Up Migration

-- A change asked for in Telegram, previewed with Confirm/Cancel buttons and waiting for a press.
-- Nothing here is history: the ledger's events are. A row only makes a button single-use,
-- expiring and personal, and lets a redelivered update be recognised.
CREATE TABLE telegram_pending_actions (
  id                 uuid        PRIMARY KEY,
  -- The update that asked (the /upgrade message). Unique: a redelivered command finds its row and
  -- does not show a second preview. Update ids are per bot, so one ledger serves one bot.
  update_id          bigint      NOT NULL UNIQUE,
  chat_id            bigint      NOT NULL,
  -- The preview message, known once it is sent; the result is edited into it.
  message_id         bigint,
  requester_user_id  bigint      NOT NULL,
  -- The ledger command and the execute context (actor, reason, force, allowMajor), as previewed.
  command            jsonb       NOT NULL,
  ctx                jsonb       NOT NULL,
  -- pending: buttons shown; confirmed/cancelled: a press used it; rejected: the preview already
  -- showed that the rules refuse it, so it never had buttons.
  state              text        NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'confirmed', 'cancelled', 'rejected')),
  created_at         timestamptz NOT NULL,
  expires_at         timestamptz NOT NULL CHECK (expires_at > created_at),
  used_at            timestamptz,
  -- The press that used it. A redelivered Confirm may finish the job again: the ledger answers it from
  -- the idempotency key tg:<used_update_id> instead of writing twice.
  used_update_id     bigint,
  CHECK ((state IN ('confirmed', 'cancelled')) = (used_at IS NOT NULL)),
  CHECK ((used_at IS NULL) = (used_update_id IS NULL))
);

-- Finding the previews still open (and pruning old ones) without reading the whole table.
CREATE INDEX telegram_pending_actions_open ON telegram_pending_actions (expires_at) WHERE state = 'pending';

-- Down Migration

DROP TABLE telegram_pending_actions;
