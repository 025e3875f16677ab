import type { Telegram } from "telegraf";
import type { Logger } from "../log.ts";
import { type CommandSpec, commandsFor } from "./command-list.ts";
import type { AccessList } from "./roles.ts";

const asBotCommand = (c: CommandSpec) => ({ command: c.name, description: c.description });

/**
 * The command menu shows each person what they may run: /help and /whoami by default, and for
 * each configured user, in their private chat (whose id is their user id), their role's commands.
 */
export async function publishMenus(telegram: Telegram, access: AccessList, logger: Logger): Promise<void> {
  await telegram.setMyCommands(commandsFor(null).map(asBotCommand), { scope: { type: "default" } });
  for (const { userId, role } of access.members()) {
    try {
      await telegram.setMyCommands(commandsFor(role).map(asBotCommand), {
        scope: { type: "chat", chat_id: userId },
      });
    } catch (error) {
      // Telegram refuses a chat scope until the user has started a chat with the bot; the menu
      // comes at the next start, and the commands work meanwhile.
      logger.warn({ err: error, userId, role }, "could not set this user's command menu");
    }
  }
}
