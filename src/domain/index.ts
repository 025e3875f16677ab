export {
  type AbArm,
  type AbSplit,
  armOf,
  assignerOf,
  assignUnit,
  bucketOf,
  murmur3,
  type UnitAssignment,
} from "./ab-assignment.ts";
export {
  BASIS_POINTS,
  formatPercent,
  isCandidateWeight,
  MAX_WEIGHT_BP,
  MIN_WEIGHT_BP,
  parsePercent,
  percentOf,
} from "./ab-weights.ts";
export { auditChatOf, isChatId } from "./audit-chats.ts";
// Every command type and everything of the state is part of the domain's face.
export type * from "./commands.ts";
export { decide } from "./decide.ts";
export { type DiffMarkup, diffChangeLines } from "./diff-lines.ts";
export { eventSummary } from "./event-summary.ts";
export {
  AUDIT_CHATS_STREAM,
  type AuditChatEvent,
  type AuditChatSource,
  EVENT_DATA_SCHEMAS,
  EVENT_SCHEMA_VERSION,
  EVENT_TYPES,
  type EventData,
  type EventType,
  HOST_STREAM,
  isAuditChatEvent,
  isEventType,
  type LedgerEvent,
  type PluginEvent,
  parseEvent,
  pluginIdOf,
  pluginStream,
  streamIdOf,
  type VersionReleasedData,
} from "./events.ts";
export {
  type LedgerPoint,
  POINT_FORMS,
  parseIsoTime,
  parsePoint,
  parsePosition,
} from "./points.ts";
export * from "./state.ts";
export { isStorableText, unstorableTextViolations } from "./storable-text.ts";
export {
  type CompatibilityChange,
  type DiffResult,
  type RequirementChange,
  type VersionDiff,
  type VersionInBetween,
  versionDiff,
  versionMove,
} from "./version-diff.ts";
export {
  COMMIT_HASH_PATTERN,
  compareVersions,
  isCommitHash,
  isPluginId,
  isRange,
  isVersion,
  PLUGIN_ID_PATTERN,
  satisfiesRange,
} from "./versions.ts";
export {
  type Decision,
  type PlannedEvent,
  quote,
  RULE_CODES,
  type RuleCode,
  UNFORCEABLE_CODES,
  type Violation,
  type ViolationCode,
} from "./violations.ts";
