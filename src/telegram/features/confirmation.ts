import { Composer } from "telegraf";
import type { PendingAction } from "../../pending-actions.ts";
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
 */
export function confirmationFeature(services: BotServices): Composer<BotContext> {
  const { ledger, pending, clock } = services;
  const feature = new Composer<BotContext>();

  feature.action(BUTTON, async (ctx) => {
    const [, choice, id] = ctx.match as unknown as [string, "confirm" | "cancel", string];
    const { requester } = ctx;
    const updateId = ctx.update.update_id;
    const log = ctx.log.child({ pendingActionId: id, choice });

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

    const used = await pending.use(id, {
      state: choice === "confirm" ? "confirmed" : "cancelled",
      userId: requester.id,
      updateId,
      now: clock(),
    });
    if (!used) {
      await explainUnusable(ctx, await pending.find(id));
      return;
    }
    if (choice === "cancel") {
      log.info("cancelled");
      await ctx.answerCbQuery("Cancelled; nothing was recorded.");
      await ctx.editMessageText(cancelledMessage(used.command, requester.name), { parse_mode: "HTML" });
      return;
    }

    const result = await ledger.execute(used.command, {
      ...used.ctx,
      causationId: String(updateId),
      correlationId: `tg-preview:${used.id}`,
      idempotencyKey: `tg:${updateId}`,
    });
    if (result.ok) {
      log.info(
        { positions: result.dryRun ? [] : result.events.map((e) => e.position) },
        "confirmed and recorded",
      );
    } else {
      log.info(
        { violations: result.violations.map((v) => v.code) },
        "confirmed, but the rules refused it now",
      );
    }
    await ctx.answerCbQuery(result.ok ? "Done." : "Not done: the rules refuse it now.");
    await ctx.editMessageText(resultMessage(used.command, result, requester.name), { parse_mode: "HTML" });
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
