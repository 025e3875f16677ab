/**
 * What a user asks for. Fields are typed as the transports deliver them, but `decide` checks
 * every value itself (an import file is untyped JSON), so a wrong value is an INVALID_INPUT
 * violation, never an exception.
 */
export interface CommandOptions {
  /** Turn rule violations into recorded overrides (never INVALID_INPUT, NOT_FOUND, ALREADY). */
  force?: boolean;
  /** Handled by the ledger, which decides but does not write; `decide` ignores it. */
  dryRun?: boolean;
}

/** The metadata of one release; `decide` has no clock, so the caller supplies `buildDate`. */
export interface ReleaseInput {
  pluginId: string;
  version: string;
  /** ISO 8601 date or date-time with offset. */
  buildDate: string;
  author: string;
  commitHash?: string | null;
  /** Semver ranges the host must satisfy; null or absent means no requirement. */
  requires?: { api?: string | null; dbSchema?: string | null };
  /** Other plugin id -> the range of its versions this release works with. */
  compatibleWith?: Record<string, string>;
  features?: string[];
  releaseNotes?: string;
}

export type ReleaseCommand = CommandOptions & ReleaseInput & { kind: "release" };

/** Many releases at once, all or nothing. */
export interface ImportCommand extends CommandOptions {
  kind: "import";
  releases: ReleaseInput[];
}

export interface DeprecateCommand extends CommandOptions {
  kind: "deprecate";
  pluginId: string;
  version: string;
  reason?: string;
}

/** First activation of a plugin that is not active. */
export interface RegisterCommand extends CommandOptions {
  kind: "register";
  pluginId: string;
  version: string;
}

/** Any other released version, up or down; across a MAJOR only with `allowMajor`. */
export interface UpgradeCommand extends CommandOptions {
  kind: "upgrade";
  pluginId: string;
  version: string;
  allowMajor?: boolean;
}

/**
 * An undo: back to a version that ran before, higher or lower. Without `version` or
 * `toPosition` the target is chosen by the rules of `rollback-target.ts`; a named `version`
 * must be in the plugin's history; `toPosition` names the version that ran at that position.
 */
export interface RollbackCommand extends CommandOptions {
  kind: "rollback";
  pluginId: string;
  version?: string;
  /** A position of the ledger (as `asof` takes it): back to the version that ran there. */
  toPosition?: number;
  /**
   * The version that ran at `toPosition` (null: none did), which the domain cannot look up
   * without I/O: the ledger reads it under the head lock and fills it in, as it draws an A/B
   * test's id and salt; whatever a caller put here is replaced.
   */
  ranAtPosition?: string | null;
  /** Accepted for compatibility and not needed: every target ran before or keeps the MAJOR. */
  allowMajor?: boolean;
}

export interface DeactivateCommand extends CommandOptions {
  kind: "deactivate";
  pluginId: string;
}

export interface HostSetCommand extends CommandOptions {
  kind: "hostSet";
  apiVersion: string;
  dbSchemaVersion: string;
}

/**
 * Starts an A/B test of `candidate` against the active version, the control. The domain has no
 * randomness, so `testId` and `salt` come in on the command: the ledger generates them.
 */
export interface AbTestStartCommand extends CommandOptions {
  kind: "abTestStart";
  pluginId: string;
  candidate: string;
  /** The candidate's share of units in basis points: 1..9999 (0.01% to 99.99%). */
  candidateWeightBp: number;
  testId: string;
  /** Hashed with every unit key (`ab-assignment.ts`), so a new test re-randomises the units. */
  salt: string;
  allowMajor?: boolean;
}

/** A new split for the running test; units in the candidate arm stay there when it grows. */
export interface AbTestWeightCommand extends CommandOptions {
  kind: "abTestWeight";
  pluginId: string;
  candidateWeightBp: number;
}

/** The candidate becomes the active version, and the test ends. */
export interface AbTestPromoteCommand extends CommandOptions {
  kind: "abTestPromote";
  pluginId: string;
}

/** The test ends; the control stays the active version. */
export interface AbTestAbortCommand extends CommandOptions {
  kind: "abTestAbort";
  pluginId: string;
}

/** An admin's `/notify on` in a chat: every change is posted there from now on. */
export interface AuditChatEnableCommand extends CommandOptions {
  kind: "auditChatEnable";
  chatId: number;
}

/** An admin's `/notify off`: the chat is told nothing more, whatever the configuration says. */
export interface AuditChatDisableCommand extends CommandOptions {
  kind: "auditChatDisable";
  chatId: number;
}

/**
 * The chats TELEGRAM_AUDIT_CHAT_IDS lists, as the bot finds them at start: a listed chat never
 * seen (or turned off only by an earlier configuration) is enabled; a chat the configuration
 * enabled and no longer lists is disabled. A chat an admin turned off stays off.
 */
export interface AuditChatsConfigureCommand extends CommandOptions {
  kind: "auditChatsConfigure";
  chatIds: number[];
}

export type Command =
  | ReleaseCommand
  | ImportCommand
  | DeprecateCommand
  | RegisterCommand
  | UpgradeCommand
  | RollbackCommand
  | DeactivateCommand
  | HostSetCommand
  | AbTestStartCommand
  | AbTestWeightCommand
  | AbTestPromoteCommand
  | AbTestAbortCommand
  | AuditChatEnableCommand
  | AuditChatDisableCommand
  | AuditChatsConfigureCommand;

/**
 * A command as a transport asks for it. An A/B test's id and salt are not the asker's to
 * choose: the ledger generates them before it decides; nor is the version a rollback's
 * position names: the ledger reads it.
 */
export type CommandRequest =
  | Exclude<Command, AbTestStartCommand | RollbackCommand>
  | Omit<AbTestStartCommand, "testId" | "salt">
  | Omit<RollbackCommand, "ranAtPosition">;

export type CommandKind = Command["kind"];
