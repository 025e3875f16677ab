import type { Composer } from "telegraf";
import type { z } from "zod";
import type { Words } from "../arguments.ts";
import { type BotContext, readArguments } from "../context.ts";
import type { Permission } from "../roles.ts";
import { requires } from "./access.ts";

/** How a command's words become its arguments: a zod schema, and the words mapped onto it. */
export type ArgumentsSpec<S extends z.ZodType> = { schema: S; fromWords: (words: Words) => unknown };

/**
 * `/name` for whoever has `permission`: its words parsed into arguments (bad ones answered with
 * the usage, and nothing more), then `handle` with them.
 */
export function commandWithArguments<S extends z.ZodType>(
  feature: Composer<BotContext>,
  name: string,
  permission: Permission,
  spec: ArgumentsSpec<S>,
  handle: (ctx: BotContext, args: z.output<S>) => Promise<void>,
): void {
  feature.command(name, requires(permission), async (ctx) => {
    const read = await readArguments(ctx, { name, payload: ctx.payload }, spec.schema, spec.fromWords);
    if (read) await handle(ctx, read.args);
  });
}
