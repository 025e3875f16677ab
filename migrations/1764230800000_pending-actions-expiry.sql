-- Up Migration

-- Pruning deletes previews of every state whose buttons died days ago (see src/pending-actions.ts):
-- an index over all rows' expiry lets each new preview delete a few of them without a scan. The
-- partial index on pending rows stays for finding the open ones.
CREATE INDEX telegram_pending_actions_expiry ON telegram_pending_actions (expires_at);

-- Down Migration

DROP INDEX telegram_pending_actions_expiry;
