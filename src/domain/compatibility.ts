import type { HostVersions, LedgerState, ReleaseInfo } from "./state.ts";
import { versionOf } from "./state.ts";
import { satisfiesRange } from "./versions.ts";
import { type Violation, violation } from "./violations.ts";

/** A version that runs in the trading bot: a plugin's active one, or its A/B candidate. */
interface RunningVersion {
  pluginId: string;
  version: string;
  role: "active" | "candidate";
  release: ReleaseInfo | undefined;
}

/** Reads only `active`, `abTest` and those versions' releases: what a partial load provides. */
function runningVersions(state: LedgerState, exceptPluginId?: string): RunningVersion[] {
  const running: RunningVersion[] = [];
  for (const [pluginId, plugin] of Object.entries(state.plugins)) {
    if (pluginId === exceptPluginId) continue;
    if (plugin.active !== null) {
      running.push({
        pluginId,
        version: plugin.active,
        role: "active",
        release: versionOf(plugin, plugin.active),
      });
    }
    const candidate = plugin.abTest?.candidate;
    if (candidate !== undefined && candidate !== plugin.active) {
      running.push({
        pluginId,
        version: candidate,
        role: "candidate",
        release: versionOf(plugin, candidate),
      });
    }
  }
  return running;
}

function describe(running: RunningVersion): string {
  const who = running.role === "active" ? "Active plugin" : "A/B candidate of plugin";
  return `${who} ${running.pluginId} ${running.version}`;
}

function rangeFor(compatibleWith: Record<string, string>, pluginId: string): string | undefined {
  return Object.hasOwn(compatibleWith, pluginId) ? compatibleWith[pluginId] : undefined;
}

interface RequirementGap {
  code: "API_UNSATISFIED" | "DB_SCHEMA_UNSATISFIED";
  what: string;
  range: string;
  /** null when the host has not declared its versions yet. */
  hostVersion: string | null;
}

function requirementGaps(release: ReleaseInfo, host: HostVersions | null): RequirementGap[] {
  const checks = [
    { code: "API_UNSATISFIED", what: "API", range: release.requires.api, hostVersion: host?.apiVersion },
    {
      code: "DB_SCHEMA_UNSATISFIED",
      what: "DB schema",
      range: release.requires.dbSchema,
      hostVersion: host?.dbSchemaVersion,
    },
  ] as const;
  const gaps: RequirementGap[] = [];
  for (const { code, what, range, hostVersion } of checks) {
    if (range === null) continue;
    if (hostVersion === undefined) gaps.push({ code, what, range, hostVersion: null });
    else if (!satisfiesRange(hostVersion, range)) gaps.push({ code, what, range, hostVersion });
  }
  return gaps;
}

/** API_UNSATISFIED / DB_SCHEMA_UNSATISFIED of a release against the declared host. */
export function requirementViolations(
  pluginId: string,
  release: ReleaseInfo,
  host: HostVersions | null,
): Violation[] {
  return requirementGaps(release, host).map(({ code, what, range, hostVersion }) => {
    const found =
      hostVersion === null
        ? "the host versions are not declared"
        : `the host declares ${what} ${hostVersion}`;
    return violation(
      code,
      `Plugin ${pluginId} ${release.version} requires host ${what} in range ${range}, but ${found}.`,
    );
  });
}

/**
 * MATRIX_CONFLICT in both directions between a release and every other running version. A
 * plugin that a `compatibleWith` map does not name is unconstrained.
 */
export function matrixViolations(pluginId: string, release: ReleaseInfo, state: LedgerState): Violation[] {
  const violations: Violation[] = [];
  for (const other of runningVersions(state, pluginId)) {
    const wanted = rangeFor(release.compatibleWith, other.pluginId);
    if (wanted !== undefined && !satisfiesRange(other.version, wanted)) {
      const running = other.role === "active" ? "is active" : "runs as an A/B candidate";
      violations.push(
        violation(
          "MATRIX_CONFLICT",
          `Plugin ${pluginId} ${release.version} requires ${other.pluginId} in range ${wanted}, but ${other.pluginId} ${other.version} ${running}.`,
        ),
      );
    }
    const theirs = other.release === undefined ? undefined : rangeFor(other.release.compatibleWith, pluginId);
    if (theirs !== undefined && !satisfiesRange(release.version, theirs)) {
      violations.push(
        violation(
          "MATRIX_CONFLICT",
          `${describe(other)} requires ${pluginId} in range ${theirs}, which ${pluginId} ${release.version} does not satisfy.`,
        ),
      );
    }
  }
  return violations;
}

/** Everything that makes a release unfit to run now: host requirements and the matrix. */
export function compatibilityViolations(
  pluginId: string,
  release: ReleaseInfo,
  state: LedgerState,
): Violation[] {
  return [
    ...requirementViolations(pluginId, release, state.host),
    ...matrixViolations(pluginId, release, state),
  ];
}

/** The running versions whose host requirements a new host declaration would break. */
export function hostChangeViolations(next: HostVersions, state: LedgerState): Violation[] {
  const violations: Violation[] = [];
  for (const running of runningVersions(state)) {
    if (running.release === undefined) continue;
    for (const { code, what, range, hostVersion } of requirementGaps(running.release, next)) {
      violations.push(
        violation(
          code,
          `${describe(running)} requires host ${what} in range ${range}, which ${what} ${hostVersion} does not satisfy.`,
        ),
      );
    }
  }
  return violations;
}
