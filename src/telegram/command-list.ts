import { allows, type Permission, type Role } from "./roles.ts";

/** One bot command: what /help prints, what the menu shows, and who may run it. */
export type CommandSpec = {
  name: string;
  usage: string;
  description: string;
  /** null: anyone may run it, even someone with no role. */
  permission: Permission | null;
};

/** Every command, in the order /help and the menus list them. */
export const COMMANDS: readonly CommandSpec[] = [
  { name: "version", usage: "/version", description: "what runs now, plugin by plugin", permission: "read" },
  {
    name: "versions",
    usage: "/versions <plugin>",
    description: "the released versions of a plugin",
    permission: "read",
  },
  {
    name: "history",
    usage: "/history <plugin> [limit]",
    description: "which version ran when, newest first",
    permission: "read",
  },
  {
    name: "timeline",
    usage: "/timeline <plugin> [more plugins] [days]",
    description: "a chart and a CSV of which versions ran, the last 30 days by default",
    permission: "read",
  },
  {
    name: "diff",
    usage: "/diff <plugin> <from> <to>",
    description: "what changes between two versions: features, requirements, matrix, notes",
    permission: "read",
  },
  {
    name: "matrix",
    usage: "/matrix",
    description: "declared compatibility, and whether it holds",
    permission: "read",
  },
  {
    name: "audit",
    usage: "/audit [plugin] [limit]",
    description: "who changed what, when and why",
    permission: "read",
  },
  {
    name: "asof",
    usage: "/asof <ISO time | position>",
    description: "what ran at a moment or a position",
    permission: "read",
  },
  {
    name: "verify",
    usage: "/verify",
    description: "check the hash chain of the history",
    permission: "read",
  },
  {
    name: "upgrade",
    usage: "/upgrade <plugin> <version> [--allow-major] [--force] [reason]",
    description: "switch a plugin to another released version",
    permission: "change",
  },
  {
    name: "rollback",
    usage: "/rollback <plugin> [version | position N | --to-position N] [--force] [reason]",
    description: "undo: go back to the version that ran before (or a named one, or one at a position)",
    permission: "change",
  },
  {
    name: "register",
    usage: "/register <plugin> <version> [--force] [reason]",
    description: "start running a plugin that does not run",
    permission: "change",
  },
  {
    name: "deactivate",
    usage: "/deactivate <plugin> [--force] [reason]",
    description: "stop running a plugin",
    permission: "change",
  },
  {
    name: "deprecate",
    usage: "/deprecate <plugin> <version> [--force] [reason]",
    description: "mark a version deprecated",
    permission: "deprecate",
  },
  {
    name: "sethost",
    usage: "/sethost <api version> <db schema version> [--force] [reason]",
    description: "declare the trading bot's ServiceAPI and DB schema versions",
    permission: "host",
  },
  {
    name: "abtest",
    usage:
      "/abtest <plugin> start <candidate> <pct> | weight <pct> | promote | abort | status [--allow-major] [--force] [reason]",
    description: "run an A/B test: start it, change its split, promote or abort it, or see it",
    permission: "change",
  },
  {
    name: "notify",
    usage: "/notify [on | off] [reason]",
    description: "whether this chat is told of every change; an admin turns it on or off",
    permission: "read",
  },
  { name: "whoami", usage: "/whoami", description: "your Telegram id and your role here", permission: null },
  { name: "help", usage: "/help", description: "the commands you may run", permission: null },
];

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export function commandsFor(role: Role | null): CommandSpec[] {
  return COMMANDS.filter((c) => allows(role, c.permission));
}
