import type { ReleaseInput } from "./commands.ts";
import { isIsoDate, type VersionReleasedData } from "./events.ts";
import { isCommitHash, isPluginId, isRange, isVersion, PLUGIN_ID_PATTERN } from "./versions.ts";
import { quote, type Violation, violation } from "./violations.ts";

const RELEASE_KEYS = new Set<string>([
  "pluginId",
  "version",
  "buildDate",
  "author",
  "commitHash",
  "requires",
  "compatibleWith",
  "features",
  "releaseNotes",
]);
const REQUIRES_KEYS = new Set<string>(["api", "dbSchema"]);

type Fields = Partial<Record<string, unknown>>;

function isRecord(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** "foo@1.2.3", or as much of it as is valid, to name a release in a message. */
export function releaseLabel(input: unknown): string {
  if (!isRecord(input) || !isPluginId(input.pluginId)) return "";
  return isVersion(input.version) ? `${input.pluginId}@${input.version}` : input.pluginId;
}

/**
 * Every INVALID_INPUT of one release; `subject` turns its label into the start of a message
 * ("Release foo@1.2.3", "Import entry 3 (foo@1.2.3)"). Unknown keys are errors too: in an
 * import file a misspelt "requires" would otherwise drop a requirement without a word.
 * `extraKeys` are the command's own fields.
 */
export function releaseViolations(
  input: unknown,
  subject: (label: string) => string,
  extraKeys: readonly string[] = [],
): Violation[] {
  const named = subject(releaseLabel(input));
  const problems = isRecord(input)
    ? releaseProblems(input, extraKeys)
    : ["is not an object of release fields"];
  return problems.map((problem) => violation("INVALID_INPUT", `${named} ${problem}.`));
}

function releaseProblems(input: Fields, extraKeys: readonly string[]): string[] {
  const { pluginId, version, buildDate, author, commitHash, releaseNotes } = input;
  const problems = Object.keys(input)
    .filter((key) => !RELEASE_KEYS.has(key) && !extraKeys.includes(key))
    .map((key) => `has an unknown field ${quote(key)}`);
  if (!isPluginId(pluginId)) {
    problems.push(`has an invalid plugin id ${quote(pluginId)}: it must match ${PLUGIN_ID_PATTERN.source}`);
  }
  if (!isVersion(version)) {
    problems.push(
      `has an invalid version ${quote(version)}: it must be strict semver such as 1.2.3 or 2.0.0-rc.1`,
    );
  }
  if (!isIsoDate(buildDate)) {
    problems.push(`has an invalid build date ${quote(buildDate)}: it must be an ISO 8601 date or date-time`);
  }
  if (typeof author !== "string" || author.trim() === "") problems.push("has no author");
  if (commitHash != null && !isCommitHash(commitHash)) {
    problems.push(
      `has an invalid commit hash ${quote(commitHash)}: it must be 7 to 40 lowercase hex characters`,
    );
  }
  if (releaseNotes !== undefined && typeof releaseNotes !== "string")
    problems.push("has release notes that are not text");
  return [
    ...problems,
    ...requiresProblems(input.requires),
    ...compatibleWithProblems(input.compatibleWith, pluginId),
    ...featureProblems(input.features),
  ];
}

function requiresProblems(requires: unknown): string[] {
  if (requires === undefined || requires === null) return [];
  if (!isRecord(requires)) return ["has a requires field that is not an object of api and dbSchema ranges"];
  return Object.entries(requires).flatMap(([key, range]) => {
    if (!REQUIRES_KEYS.has(key))
      return [`has an unknown requirement ${quote(key)}: only api and dbSchema exist`];
    return range != null && !isRange(range) ? [`has an invalid requires.${key} range ${quote(range)}`] : [];
  });
}

function compatibleWithProblems(compatibleWith: unknown, pluginId: unknown): string[] {
  if (compatibleWith === undefined) return [];
  if (!isRecord(compatibleWith)) return ["has a compatibleWith field that is not an object of plugin ranges"];
  return Object.entries(compatibleWith).flatMap(([other, range]) => {
    const problems: string[] = [];
    if (!isPluginId(other)) problems.push(`names an invalid plugin id ${quote(other)} in compatibleWith`);
    else if (other === pluginId) problems.push("declares compatibility with itself");
    if (!isRange(range))
      problems.push(`has an invalid compatibleWith range ${quote(range)} for ${quote(other)}`);
    return problems;
  });
}

function featureProblems(features: unknown): string[] {
  if (features === undefined) return [];
  if (!Array.isArray(features)) return ["has a features field that is not a list"];
  return features
    .filter((feature) => typeof feature !== "string" || feature.trim() === "")
    .map((feature) => `has an empty or non-text feature ${quote(feature)}`);
}

/** The event data of a release that passed `releaseViolations`, with its defaults filled in. */
export function toReleasedData(input: ReleaseInput): VersionReleasedData {
  return {
    pluginId: input.pluginId,
    version: input.version,
    buildDate: input.buildDate,
    commitHash: input.commitHash ?? null,
    author: input.author,
    requires: { api: input.requires?.api ?? null, dbSchema: input.requires?.dbSchema ?? null },
    compatibleWith: { ...input.compatibleWith },
    features: [...(input.features ?? [])],
    releaseNotes: input.releaseNotes ?? "",
  };
}
