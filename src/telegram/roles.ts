import type { TelegramConfig } from "../config.ts";
import type { CommandRequest } from "../domain/index.ts";

/** From the numeric Telegram user ids in configuration; someone in two lists has the higher role. */
export type Role = "viewer" | "operator" | "admin";

/**
 * What a role may do (DESIGN.md "Telegram"): viewers read; operators also change which version
 * runs; admins also release and deprecate versions, force past rules, declare the host, and turn
 * a chat's change notifications on or off.
 */
export type Permission = "read" | "change" | "deprecate" | "force" | "host" | "release" | "notify";

const GRANTS: Record<Role, ReadonlySet<Permission>> = {
  viewer: new Set(["read"]),
  operator: new Set(["read", "change"]),
  admin: new Set(["read", "change", "deprecate", "force", "host", "release", "notify"]),
};

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export type AccessList = {
  roleOf(userId: number): Role | null;
  /** Every configured user with their role, for the per-user command menus. */
  members(): Array<{ userId: number; role: Role }>;
};

export function accessList(config: Pick<TelegramConfig, "admins" | "operators" | "viewers">): AccessList {
  const roles = new Map<number, Role>();
  const grant = (ids: number[], role: Role) => {
    for (const id of ids) {
      const held = roles.get(id);
      if (!held || RANK[held] < RANK[role]) roles.set(id, role);
    }
  };
  grant(config.viewers, "viewer");
  grant(config.operators, "operator");
  grant(config.admins, "admin");
  return {
    roleOf: (userId) => roles.get(userId) ?? null,
    members: () => [...roles].map(([userId, role]) => ({ userId, role })),
  };
}

/** `null` is a command anyone may run (/help, /whoami). */
export function allows(role: Role | null, permission: Permission | null): boolean {
  if (permission === null) return true;
  return role !== null && GRANTS[role].has(permission);
}

/** What running this command needs: its own permission, and `force` when forced. */
export function permissionsFor(command: CommandRequest, force: boolean): Permission[] {
  const own: Permission = (() => {
    switch (command.kind) {
      case "register":
      case "upgrade":
      case "rollback":
      case "deactivate":
      case "abTestStart":
      case "abTestWeight":
      case "abTestPromote":
      case "abTestAbort":
        return "change";
      case "deprecate":
        return "deprecate";
      case "hostSet":
        return "host";
      case "release":
      case "import":
        return "release";
      case "auditChatEnable":
      case "auditChatDisable":
      case "auditChatsConfigure":
        return "notify";
    }
  })();
  return force ? [own, "force"] : [own];
}

export function mayRun(role: Role | null, command: CommandRequest, force: boolean): boolean {
  return permissionsFor(command, force).every((p) => allows(role, p));
}
