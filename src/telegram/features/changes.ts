import { randomUUID } from "node:crypto";
import { Composer, Markup } from "telegraf";
import { z } from "zod";
import { type CommandRequest, isVersion, UNFORCEABLE_CODES, versionMove } from "../../domain/index.ts";
import type { PreviewedContext } from "../../ledger/index.ts";
import {
  type Flag,
  percentArg,
  pluginIdArg,
  positionArg,
  reasonArg,
  rest,
  versionArg,
  type Words,
} from "../arguments.ts";
import { previewMessage } from "../change-messages.ts";
import { commandSpec } from "../command-list.ts";
import { actorOf, type BotContext, type BotServices, readArguments, refuse } from "../context.ts";
import { allows, mayRun, type Permission } from "../roles.ts";
import { requires } from "./access.ts";

/** What a change command asks the ledger for, and why. */
type Asked = { command: CommandRequest; reason: string | undefined };

type ChangeSpec = {
  name: string;
  flags: readonly Flag[];
  schema: z.ZodType<Asked>;
  fromWords(words: Words): unknown;
};

const ALL_FLAGS: readonly Flag[] = ["force", "allow-major"];
const FORCE_ONLY: readonly Flag[] = ["force"];
// --allow-major is still taken, so that an old habit is not refused: a rollback needs none.
const ROLLBACK_FLAGS: readonly Flag[] = ["force", "allow-major", "to-position"];

/**
 * Where `/rollback <plugin> …` goes: `--to-position N`, or in words `[to] position N`, or
 * `[to] <version>`; anything else starts the reason (`/rollback momentum latency spike`).
 */
function rollbackTarget({ words, flags }: Words): { version?: string; position?: string; next: number } {
  if (flags.has("to-position")) return { position: words[1], next: 2 };
  const at = words[1] === "to" ? 2 : 1;
  if (words[at] === "position") return { position: words[at + 1], next: at + 2 };
  const word = words[at];
  if (word !== undefined && isVersion(word)) return { version: word, next: at + 1 };
  return { next: 1 };
}

/** `/abtest <plugin> start|weight|promote|abort ...`; `status` is a read (features/status.ts). */
const abTestArgs = z
  .discriminatedUnion(
    "sub",
    [
      z.object({
        sub: z.literal("start"),
        plugin: pluginIdArg,
        candidate: versionArg("the candidate version"),
        pct: percentArg,
        reason: reasonArg,
      }),
      z.object({ sub: z.literal("weight"), plugin: pluginIdArg, pct: percentArg, reason: reasonArg }),
      z.object({ sub: z.literal("promote"), plugin: pluginIdArg, reason: reasonArg }),
      z.object({ sub: z.literal("abort"), plugin: pluginIdArg, reason: reasonArg }),
    ],
    { error: "after the plugin say start, weight, promote, abort or status" },
  )
  .transform((a): Asked => {
    switch (a.sub) {
      case "start":
        return {
          command: {
            kind: "abTestStart",
            pluginId: a.plugin,
            candidate: a.candidate,
            candidateWeightBp: a.pct,
          },
          reason: a.reason,
        };
      case "weight":
        return {
          command: { kind: "abTestWeight", pluginId: a.plugin, candidateWeightBp: a.pct },
          reason: a.reason,
        };
      case "promote":
        return { command: { kind: "abTestPromote", pluginId: a.plugin }, reason: a.reason };
      case "abort":
        return { command: { kind: "abTestAbort", pluginId: a.plugin }, reason: a.reason };
    }
  });

/** `<plugin> <version> [reason]`: the words of /upgrade, /register and /deprecate. */
const pluginVersion = z.object({ plugin: pluginIdArg, version: versionArg(), reason: reasonArg });
const pluginVersionWords = ({ words }: Words) => ({
  plugin: words[0],
  version: words[1],
  reason: rest(words, 2),
});

/** /upgrade and /register: a plugin moved to a version, the command named as the ledger's. */
function versionChange(name: "upgrade" | "register", flags: readonly Flag[]): ChangeSpec {
  return {
    name,
    flags,
    schema: pluginVersion.transform((a) => ({
      command: { kind: name, pluginId: a.plugin, version: a.version },
      reason: a.reason,
    })),
    fromWords: pluginVersionWords,
  };
}

/** The change commands: their words, parsed with zod into a ledger command and a reason. */
const CHANGES: readonly ChangeSpec[] = [
  versionChange("upgrade", ALL_FLAGS),
  {
    name: "rollback",
    flags: ROLLBACK_FLAGS,
    schema: z
      .object({
        plugin: pluginIdArg,
        version: versionArg().optional(),
        position: positionArg.optional(),
        reason: reasonArg,
      })
      .transform((a) => ({
        command: { kind: "rollback", pluginId: a.plugin, version: a.version, toPosition: a.position },
        reason: a.reason,
      })),
    fromWords: (words) => {
      const { version, position, next } = rollbackTarget(words);
      // A missing position after --to-position must be reported, not read as "no position".
      const asked = words.flags.has("to-position") || position !== undefined;
      return {
        plugin: words.words[0],
        version,
        position: asked ? (position ?? null) : undefined,
        reason: rest(words.words, next),
      };
    },
  },
  versionChange("register", FORCE_ONLY),
  {
    name: "deactivate",
    flags: FORCE_ONLY,
    schema: z
      .object({ plugin: pluginIdArg, reason: reasonArg })
      .transform((a) => ({ command: { kind: "deactivate", pluginId: a.plugin }, reason: a.reason })),
    fromWords: ({ words }) => ({ plugin: words[0], reason: rest(words, 1) }),
  },
  {
    name: "deprecate",
    flags: FORCE_ONLY,
    schema: pluginVersion.transform((a) => ({
      command: { kind: "deprecate", pluginId: a.plugin, version: a.version, reason: a.reason ?? "" },
      reason: a.reason,
    })),
    fromWords: pluginVersionWords,
  },
  {
    name: "sethost",
    flags: FORCE_ONLY,
    schema: z
      .object({
        api: versionArg("the ServiceAPI version"),
        db: versionArg("the DB schema version"),
        reason: reasonArg,
      })
      .transform((a) => ({
        command: { kind: "hostSet", apiVersion: a.api, dbSchemaVersion: a.db },
        reason: a.reason,
      })),
    fromWords: ({ words }) => ({ api: words[0], db: words[1], reason: rest(words, 2) }),
  },
  {
    name: "abtest",
    flags: ALL_FLAGS,
    schema: abTestArgs,
    fromWords: ({ words }) => {
      const [plugin, sub] = words;
      if (sub === "start") return { plugin, sub, candidate: words[2], pct: words[3], reason: rest(words, 4) };
      if (sub === "weight") return { plugin, sub, pct: words[2], reason: rest(words, 3) };
      return { plugin, sub, reason: rest(words, 2) };
    },
  },
];

/**
 * Every change command answers with a preview: the ledger's dry run (what changes, what would
 * be recorded, or the violations) and, when the rules allow it, Confirm/Cancel buttons. The
 * preview is recorded as a pending action under the command's update id, so a redelivered
 * command shows no second preview. Nothing is written to the ledger here.
 */
export function changesFeature(services: BotServices): Composer<BotContext> {
  const feature = new Composer<BotContext>();
  for (const spec of CHANGES) {
    feature.command(spec.name, requires(permissionOf(spec.name)), async (ctx) => {
      const read = await readArguments(
        ctx,
        { name: spec.name, payload: ctx.payload, flags: spec.flags },
        spec.schema,
        spec.fromWords,
      );
      if (!read) return;
      const force = read.flags.has("force");
      if (!mayRun(ctx.requester.role, read.args.command, force)) {
        const what = force ? `/${spec.name} --force` : `/${spec.name}`;
        await refuse(ctx, what, `Sorry, your role (${ctx.requester.role}) may not run ${what}.`);
        return;
      }
      await showPreview(ctx, services, read.args, {
        force,
        allowMajor: read.flags.has("allow-major"),
        text: ctx.message.text,
      });
    });
  }
  return feature;
}

async function showPreview(
  ctx: BotContext,
  { ledger, pending, confirmTtlMs }: BotServices,
  asked: Asked,
  options: { force: boolean; allowMajor: boolean; text: string },
): Promise<void> {
  const { requester } = ctx;
  const previewed: PreviewedContext = {
    actor: actorOf(requester),
    reason: asked.reason,
    force: options.force,
    allowMajor: options.allowMajor,
  };
  const dryRun = await ledger.execute(asked.command, { ...previewed, dryRun: true });
  const running = "pluginId" in asked.command ? await ledger.activeVersion(asked.command.pluginId) : null;

  const id = randomUUID();
  const recorded = await pending.create({
    id,
    updateId: ctx.update.update_id,
    chatId: ctx.chat?.id ?? requester.id,
    requesterUserId: requester.id,
    command: asked.command,
    ctx: previewed,
    state: dryRun.ok ? "pending" : "rejected",
    ttlMs: confirmTtlMs,
  });
  if (!recorded) {
    ctx.log.info("this command was delivered before; its preview stands");
    return;
  }
  const forceable = !dryRun.ok && dryRun.violations.every((v) => !UNFORCEABLE_CODES.has(v.code));
  // What the operator is about to run: the same diff the audit chats will be shown.
  const move = dryRun.ok && dryRun.dryRun ? versionMove(dryRun.events) : null;
  const diffed = move ? await ledger.diff(move.pluginId, move.from, move.to) : null;
  const text = previewMessage({
    command: asked.command,
    running,
    reason: asked.reason,
    dryRun,
    ttlMinutes: Math.max(1, Math.round(confirmTtlMs / 60_000)),
    diff: diffed?.ok ? diffed.diff : null,
    forceHint:
      forceable && !options.force && allows(requester.role, "force")
        ? `${options.text.trim()} --force ${asked.reason ? "" : "<reason>"}`.trim()
        : null,
  });
  if (!dryRun.ok) {
    ctx.log.info({ violations: dryRun.violations.map((v) => v.code) }, "preview refused by the rules");
    await ctx.reply(text, { parse_mode: "HTML" });
    return;
  }
  const buttons = Markup.inlineKeyboard([
    Markup.button.callback("✅ Confirm", `confirm:${id}`),
    Markup.button.callback("✖ Cancel", `cancel:${id}`),
  ]);
  const message = await ctx.reply(text, { parse_mode: "HTML", ...buttons });
  await pending.attachMessage(id, message.message_id);
  ctx.log.info({ pendingActionId: id }, "preview shown");
}

function permissionOf(name: string): Permission {
  const permission = commandSpec(name)?.permission;
  if (!permission) throw new Error(`/${name} is not a change command of the command list`);
  return permission;
}
