import type { AbTest, VersionState } from "./state.ts";
import { isPluginId, isVersion, PLUGIN_ID_PATTERN } from "./versions.ts";
import { quote, type Violation, violation } from "./violations.ts";

// Every sentence a rule can answer with, in one place so that their wording stays consistent.
// Each names the plugin, version or range at stake; user-supplied text goes through `quote`.

export function checkPluginId(pluginId: unknown): Violation[] {
  if (isPluginId(pluginId)) return [];
  return [invalid(`Plugin id ${quote(pluginId)} is invalid: it must match ${PLUGIN_ID_PATTERN.source}.`)];
}

export function checkVersion(version: unknown, what: string): Violation[] {
  if (isVersion(version)) return [];
  return [invalid(`The ${what} ${quote(version)} is not strict semver such as 1.2.3 or 2.0.0-rc.1.`)];
}

export const invalid = (message: string) => violation("INVALID_INPUT", message);

export const unknownCommand = (kind: unknown) => invalid(`Unknown command ${quote(kind)}.`);

export const emptyImport = () => invalid("The import holds no releases: it must be a non-empty list.");

export const importRepeats = (subject: string, earlier: number) =>
  invalid(`${subject} repeats the version of import entry ${earlier}.`);

export const rollbackGoesUp = (pluginId: string, from: string, to: string) =>
  invalid(
    `Rollback of plugin ${pluginId} from ${from} to ${to} goes up, but a rollback goes lower; use upgrade.`,
  );

export const notReleased = (pluginId: string, version: string) =>
  violation("NOT_FOUND", `Version ${version} of plugin ${pluginId} is not released.`);

export const notActive = (pluginId: string, toDo: string) =>
  violation("NOT_FOUND", `Plugin ${pluginId} is not active, so there is nothing to ${toDo}.`);

export const noRollbackTarget = (message: string) => violation("NOT_FOUND", message);

export function alreadyReleased(
  pluginId: string,
  version: string,
  taken: string,
  subject: string,
): Violation {
  const as = taken === version ? "" : ` as ${taken}, which has the same precedence`;
  return violation(
    "ALREADY",
    `${subject}: version ${version} of plugin ${pluginId} is already released${as}.`,
  );
}

export const alreadyDeprecated = (pluginId: string, version: string) =>
  violation("ALREADY", `Version ${version} of plugin ${pluginId} is already deprecated.`);

export const alreadyActive = (pluginId: string, version: string, hint = "") =>
  violation("ALREADY", `Plugin ${pluginId} is already active at ${version}${hint}.`);

export const alreadyDeclared = (apiVersion: string, dbSchemaVersion: string) =>
  violation("ALREADY", `The host already declares API ${apiVersion} and DB schema ${dbSchemaVersion}.`);

export const majorMismatch = (pluginId: string, verb: string, from: string, to: string) =>
  violation(
    "MAJOR_MISMATCH",
    `The ${verb} of plugin ${pluginId} from ${from} to ${to} crosses a MAJOR version; allow it with allowMajor.`,
  );

export function deprecatedTarget(pluginId: string, release: VersionState): Violation {
  const why = release.deprecationReason ? `: ${quote(release.deprecationReason)}` : "";
  return violation("DEPRECATED", `Version ${release.version} of plugin ${pluginId} is deprecated${why}.`);
}

export const abTestRunning = (pluginId: string, test: AbTest) =>
  violation(
    "AB_TEST_RUNNING",
    `Plugin ${pluginId} runs A/B test ${quote(test.testId)} (${test.control} against ${test.candidate}); promote or abort it first.`,
  );
