import { Composer } from "telegraf";
import type { PendingAction, PendingActions } from "../../ledger/index.ts";
import { cancelledMessage, expiredMessage, resultMessage } from "../change-messages.ts";
import { type BotContext, type BotServices, refuse } from "../context.ts";
import { mayRun } from "../roles.ts";

// A UUID exactly: anything else (a forged or mangled button) is answered without a database
// round trip, since the id column would refuse it only as an error.
const BUTTON = /^(confirm|cancel):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * The Confirm and Cancel buttons of a preview. A press works once, before the preview expires,
 * only for the person who asked, and only if their role still allows the change; the preview
 * message is then edited into the outcome. The ledger write carries the press's update id as
 * causation and `tg:<update id>` as idempotency key, so a redelivered press writes nothing new.
 * A Confirm uses the preview in the write's own transaction: when the write fails, the press
 * says so and the preview stays open for another press.
 */
export function confirmationFeature(services: BotServices): Composer<BotContext> {
  const { pending } = services;
  const feature = new Composer<BotContext>();

  feature.action(BUTTON, async (ctx) => {
    const [, choice, id] = ctx.match as unknown as [string, "confirm" | "cancel", string];
    const { requester } = ctx;
    const updateId = ctx.update.update_id;

    const action = await pending.find(id);
    if (!action) {
      await ctx.answerCbQuery("This preview is unknown here.");
      return;
    }
    if (action.requesterUserId !== requester.id) {
      await refuse(
        ctx,
        `${choice} of another person's preview`,
        "Only the person who asked can press these buttons.",
      );
      return;
    }
    // The role is checked again: it may have been taken away since the preview.
    if (choice === "confirm" && !mayRun(requester.role, action.command, action.ctx.force === true)) {
      await refuse(ctx, "confirm", `Sorry, your role (${requester.role ?? "none"}) no longer allows this.`);
      return;
    }

    const press = { userId: requester.id, updateId };
    if (choice === "cancel") await cancelPreview(ctx, pending, id, press);
    else await confirmPreview(ctx, pending, id, press);
  });

  // A button of some other shape (an older bot version's): answered, so the spinner stops.
  feature.on("callback_query", async (ctx) => {
    await ctx.answerCbQuery("This button is no longer in use.");
  });

  return feature;
}

/** Why a press did nothing: used before, or expired (then the buttons go). */
async function explainUnusable(ctx: BotContext, action: PendingAction | null): Promise<void> {
  if (action?.state === "confirmed") {
    await ctx.answerCbQuery("Already confirmed.");
  } else if (action?.state === "cancelled") {
    await ctx.answerCbQuery("Already cancelled.");
  } else if (action) {
    ctx.log.info({ pendingActionId: action.id }, "press after expiry");
    await ctx.answerCbQuery("This preview expired; nothing was recorded.");
    await ctx.editMessageText(expiredMessage(action.command), { parse_mode: "HTML" });
  } else {
    await ctx.answerCbQuery("This preview is unknown here.");
  }
}

type Press = { userId: number; updateId: number };

/** Cancel: the preview closed, its message edited to say by whom; nothing is recorded. */
async function cancelPreview(
  ctx: BotContext,
  pending: PendingActions,
  id: string,
  press: Press,
): Promise<void> {
  const cancelled = await pending.cancel(id, press);
  if (!cancelled) {
    await explainUnusable(ctx, await pending.find(id));
    return;
  }
  ctx.log.child({ pendingActionId: id, choice: "cancel" }).info("cancelled");
  await ctx.answerCbQuery("Cancelled; nothing was recorded.");
  await ctx.editMessageText(cancelledMessage(cancelled.command, ctx.requester.name), { parse_mode: "HTML" });
}

/** Confirm: the change written with the press as its cause, and the preview edited into the result. */
async function confirmPreview(
  ctx: BotContext,
  pending: PendingActions,
  id: string,
  press: Press,
): Promise<void> {
  const { requester } = ctx;
  const { updateId } = press;
  const log = ctx.log.child({ pendingActionId: id, choice: "confirm" });
  let confirmed: Awaited<ReturnType<typeof pending.confirm>>;
  try {
    confirmed = await pending.confirm(id, press, {
      causationId: String(updateId),
      correlationId: `tg-preview:${id}`,
      idempotencyKey: `tg:${updateId}`,
    });
  } catch (error) {
    // The preview was used in the write's transaction, so it rolled back with it: still pending.
    log.error({ err: error }, "confirmed, but the ledger could not record it; the preview stays open");
    await ctx.answerCbQuery("Not recorded: the ledger failed (it is logged). Press Confirm again to retry.", {
      show_alert: true,
    });
    return;
  }
  if (!confirmed) {
    await explainUnusable(ctx, await pending.find(id));
    return;
  }
  const { action: used, result } = confirmed;
  if (result.ok) {
    log.info(
      { positions: result.dryRun ? [] : result.events.map((e) => e.position) },
      "confirmed and recorded",
    );
  } else {
    log.info({ violations: result.violations.map((v) => v.code) }, "confirmed, but the rules refused it now");
  }
  await ctx.answerCbQuery(result.ok ? "Done." : "Not done: the rules refuse it now.");
  await ctx.editMessageText(resultMessage(used.command, result, requester.name), { parse_mode: "HTML" });
}
