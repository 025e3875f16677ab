import type { SignedCheckpoint } from "../ledger/index.ts";
import type { Logger } from "../log.ts";
import type { AuditNotifier } from "./audit-notifier.ts";
import { bold, escapeHtml } from "./html.ts";

/**
 * Posts each new signed checkpoint to the audit chats, so that the team holds a copy of the
 * log's signed state outside the database. Whichever process signed it (the bot, `serve`,
 * `npm start`), the bot finds it by looking at the latest stored checkpoint now and then; the
 * outbox key `checkpoint:<size>` makes a restart or a second bot post it once per chat.
 */
export type CheckpointPoster = { check(): Promise<void>; stop(): void };

const DEFAULT_EVERY_MS = 30_000;

export function startCheckpointPoster(
  ledger: { latestCheckpoint(): Promise<SignedCheckpoint | null> },
  notifier: Pick<AuditNotifier, "postToAuditChats">,
  logger: Logger,
  everyMs = DEFAULT_EVERY_MS,
): CheckpointPoster {
  let posted = 0;
  let running: Promise<void> = Promise.resolve();
  async function check(): Promise<void> {
    const latest = await ledger.latestCheckpoint();
    if (!latest || latest.size <= posted) return;
    await notifier.postToAuditChats(checkpointMessage(latest), `checkpoint:${latest.size}`);
    posted = latest.size;
  }
  const timer = setInterval(() => {
    running = running
      .then(check)
      .catch((error: Error) =>
        logger.warn({ err: error.message }, "audit chats: a signed checkpoint was not posted yet; retrying"),
      );
  }, everyMs);
  timer.unref();
  return {
    check: () => {
      running = running.then(check);
      return running;
    },
    stop: () => clearInterval(timer),
  };
}

export function checkpointMessage(checkpoint: SignedCheckpoint): string {
  return [
    bold(`Signed checkpoint: ${checkpoint.size} events`),
    `<pre>${escapeHtml(checkpoint.note)}</pre>`,
    "Keep it: plugin-ledger verify --checkpoint FILE proves today's log still extends it.",
  ].join("\n");
}
