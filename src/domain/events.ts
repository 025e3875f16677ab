import { z } from "zod";
import { isCommitHash, isPluginId, isRange, isVersion, PLUGIN_ID_PATTERN } from "./versions.ts";

/** Written to every event row; bump it (and add an upcaster) when a data shape changes. */
export const EVENT_SCHEMA_VERSION = 1;

export const HOST_STREAM = "host";

/** Which Telegram chats are told of every change: a stream of its own, like the host's. */
export const AUDIT_CHATS_STREAM = "audit-chats";

export function pluginStream(pluginId: string): string {
  return `plugin-${pluginId}`;
}

const PluginId = z.string().refine(isPluginId, `must match ${PLUGIN_ID_PATTERN.source}`);
const Version = z.string().refine(isVersion, "must be a strict semver version such as 1.2.3");
const Range = z.string().refine(isRange, "must be a semver range such as ^1.2.0");
const CommitHash = z.string().refine(isCommitHash, "must be 7 to 40 lowercase hex characters");
const IsoDate = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);
const BasisPoints = z.int().min(1).max(9999);
const Text = z.string().min(1);

export function isIsoDate(value: unknown): value is string {
  return IsoDate.safeParse(value).success;
}

export const VersionReleasedData = z
  .object({
    pluginId: PluginId,
    version: Version,
    buildDate: IsoDate,
    commitHash: CommitHash.nullable(),
    author: Text,
    requires: z.object({ api: Range.nullable(), dbSchema: Range.nullable() }),
    compatibleWith: z.record(PluginId, Range),
    features: z.array(Text),
    releaseNotes: z.string(),
  })
  .refine((d) => !Object.hasOwn(d.compatibleWith, d.pluginId), {
    message: "a plugin cannot declare compatibility with itself",
    path: ["compatibleWith"],
  });

export const VersionDeprecatedData = z.object({ pluginId: PluginId, version: Version, reason: z.string() });
export const PluginRegisteredData = z.object({ pluginId: PluginId, version: Version });
export const PluginUpgradedData = z.object({
  pluginId: PluginId,
  from: Version,
  to: Version,
  direction: z.enum(["up", "down"]),
  crossesMajor: z.boolean(),
});
export const PluginRolledBackData = z.object({ pluginId: PluginId, from: Version, to: Version });
export const PluginDeactivatedData = z.object({ pluginId: PluginId, version: Version });
export const HostVersionsDeclaredData = z.object({ apiVersion: Version, dbSchemaVersion: Version });

const AbTestArms = z.object({ pluginId: PluginId, testId: Text, control: Version, candidate: Version });
const distinctArms = { message: "control and candidate must differ", path: ["candidate"] };

export const AbTestStartedData = AbTestArms.extend({ candidateWeightBp: BasisPoints, salt: Text }).refine(
  (d) => d.control !== d.candidate,
  distinctArms,
);
export const AbTestWeightChangedData = z.object({
  pluginId: PluginId,
  testId: Text,
  fromBp: BasisPoints,
  toBp: BasisPoints,
});
export const AbTestPromotedData = AbTestArms.refine((d) => d.control !== d.candidate, distinctArms);
export const AbTestAbortedData = AbTestArms.refine((d) => d.control !== d.candidate, distinctArms);

/**
 * A Telegram chat id: negative for groups and channels (-100... for supergroups), positive for a
 * person; Telegram keeps them within 52 bits, so a JSON number holds them exactly.
 */
const ChatId = z
  .int()
  .min(-(2 ** 52))
  .max(2 ** 52)
  .refine((id) => id !== 0, "must not be 0");
/** `config`: TELEGRAM_AUDIT_CHAT_IDS, as the bot found it; `command`: an admin's /notify on|off. */
const AuditChatSource = z.enum(["config", "command"]);

export const AuditChatEnabledData = z.object({ chatId: ChatId, source: AuditChatSource });
export const AuditChatDisabledData = z.object({ chatId: ChatId, source: AuditChatSource });

export const EVENT_DATA_SCHEMAS = {
  VersionReleased: VersionReleasedData,
  VersionDeprecated: VersionDeprecatedData,
  PluginRegistered: PluginRegisteredData,
  PluginUpgraded: PluginUpgradedData,
  PluginRolledBack: PluginRolledBackData,
  PluginDeactivated: PluginDeactivatedData,
  HostVersionsDeclared: HostVersionsDeclaredData,
  AbTestStarted: AbTestStartedData,
  AbTestWeightChanged: AbTestWeightChangedData,
  AbTestPromoted: AbTestPromotedData,
  AbTestAborted: AbTestAbortedData,
  AuditChatEnabled: AuditChatEnabledData,
  AuditChatDisabled: AuditChatDisabledData,
} as const;

export type EventType = keyof typeof EVENT_DATA_SCHEMAS;
export type EventData<T extends EventType> = z.output<(typeof EVENT_DATA_SCHEMAS)[T]>;
export type LedgerEvent = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];

/**
 * An event's data is `EventData<"PluginUpgraded">`; a release's also has a name, since the release
 * input, the state and the catalog projection build on it.
 */
export type VersionReleasedData = EventData<"VersionReleased">;
export type AuditChatSource = z.output<typeof AuditChatSource>;

/** The events of a plugin's own stream: everything but the host's and the audit chats'. */
export type PluginEvent = Exclude<
  LedgerEvent,
  { type: "HostVersionsDeclared" | "AuditChatEnabled" | "AuditChatDisabled" }
>;
export type AuditChatEvent = Extract<LedgerEvent, { type: "AuditChatEnabled" | "AuditChatDisabled" }>;

export function isAuditChatEvent(event: LedgerEvent): event is AuditChatEvent {
  return event.type === "AuditChatEnabled" || event.type === "AuditChatDisabled";
}

/** The plugin an event is about, or null for the host's and the audit chats' events. */
export function pluginIdOf(event: LedgerEvent): string | null {
  return event.type === "HostVersionsDeclared" || isAuditChatEvent(event) ? null : event.data.pluginId;
}

export const EVENT_TYPES = Object.keys(EVENT_DATA_SCHEMAS) as EventType[];

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_DATA_SCHEMAS, type);
}

/**
 * Validates a stored or about-to-be-stored event. It throws, because on read an invalid row
 * means a corrupt ledger or a missing upcaster, never a user mistake.
 */
export function parseEvent(type: string, data: unknown): LedgerEvent {
  if (!isEventType(type)) throw new Error(`Unknown event type ${JSON.stringify(type)}.`);
  const result = EVENT_DATA_SCHEMAS[type].safeParse(data);
  if (!result.success) {
    throw new Error(`Invalid ${type} event data: ${z.prettifyError(result.error)}`, { cause: result.error });
  }
  return { type, data: result.data } as LedgerEvent;
}

export function streamIdOf(event: LedgerEvent): string {
  if (event.type === "HostVersionsDeclared") return HOST_STREAM;
  if (isAuditChatEvent(event)) return AUDIT_CHATS_STREAM;
  return pluginStream(event.data.pluginId);
}
