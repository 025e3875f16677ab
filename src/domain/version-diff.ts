import type { LedgerEvent } from "./events.ts";
import type { HostVersions, VersionState } from "./state.ts";
import { compareVersions, isPluginId, isVersion, satisfiesRange } from "./versions.ts";
import { type Violation, violation } from "./violations.ts";

/**
 * What changes when a plugin goes from one released version to another: what an operator reads
 * before confirming an upgrade, a rollback or an A/B test, and what the audit chats are told.
 * Pure: the catalog of the plugin and the declared host come in as arguments.
 */
export type RequirementChange = {
  what: "api" | "dbSchema";
  from: string | null;
  to: string | null;
  /** The declared host's version, null when the host is not declared. */
  hostVersion: string | null;
  /** Whether the host satisfies the `to` range: null when there is no range or no host. */
  satisfiedByHost: boolean | null;
};

export type CompatibilityChange = { pluginId: string; from: string | null; to: string | null };

export type Changed<T> = { from: T; to: T };

export type VersionInBetween = {
  version: string;
  buildDate: string;
  commitHash: string | null;
  author: string;
  releaseNotes: string;
  deprecated: boolean;
};

export type VersionDiff = {
  pluginId: string;
  from: string;
  to: string;
  /** `up`: to is higher; `down`: lower (a downgrade undoes what lies between); `same`. */
  direction: "up" | "down" | "same";
  features: { added: string[]; removed: string[] };
  /** Every requirement whose range differs, with whether the declared host meets the new one. */
  requirements: RequirementChange[];
  compatibility: {
    added: CompatibilityChange[];
    removed: CompatibilityChange[];
    changed: CompatibilityChange[];
  };
  deprecated: Changed<boolean>;
  /** The target's deprecation reason, when it is deprecated. */
  deprecationReason: string | null;
  buildDate: Changed<string>;
  commitHash: Changed<string | null>;
  author: Changed<string>;
  /**
   * The versions whose changes the move brings in (up: above `from` up to `to`, ascending) or takes
   * out (down: above `to` up to `from`, descending), each with its release notes; `to` or `from`
   * included, since its notes are part of what changes.
   */
  between: VersionInBetween[];
};

export type DiffResult = { ok: true; diff: VersionDiff } | { ok: false; violations: Violation[] };

export function versionDiff(
  pluginId: string,
  from: string,
  to: string,
  versions: readonly VersionState[],
  host: HostVersions | null,
): DiffResult {
  const invalid: Violation[] = [];
  if (!isPluginId(pluginId)) invalid.push(violation("INVALID_INPUT", `"${pluginId}" is not a plugin id.`));
  for (const v of [from, to]) {
    if (!isVersion(v)) invalid.push(violation("INVALID_INPUT", `"${v}" is not a MAJOR.MINOR.PATCH version.`));
  }
  if (invalid.length > 0) return { ok: false, violations: invalid };
  const byVersion = new Map(versions.map((v) => [v.version, v]));
  const a = byVersion.get(from);
  const b = byVersion.get(to);
  if (!a || !b) {
    const missing = [...new Set([from, to])].filter((v) => !byVersion.has(v));
    return {
      ok: false,
      violations: missing.map((v) => violation("NOT_FOUND", `Version ${v} of ${pluginId} is not released.`)),
    };
  }
  const order = compareVersions(from, to);
  return {
    ok: true,
    diff: {
      pluginId,
      from,
      to,
      direction: order < 0 ? "up" : order > 0 ? "down" : "same",
      features: {
        added: b.features.filter((f) => !a.features.includes(f)),
        removed: a.features.filter((f) => !b.features.includes(f)),
      },
      requirements: requirementChanges(a, b, host),
      compatibility: compatibilityChanges(a.compatibleWith, b.compatibleWith),
      deprecated: { from: a.deprecated, to: b.deprecated },
      deprecationReason: b.deprecated ? (b.deprecationReason ?? "") : null,
      buildDate: { from: a.buildDate, to: b.buildDate },
      commitHash: { from: a.commitHash, to: b.commitHash },
      author: { from: a.author, to: b.author },
      between: versionsBetween(versions, from, to, order),
    },
  };
}

function requirementChanges(
  a: VersionState,
  b: VersionState,
  host: HostVersions | null,
): RequirementChange[] {
  const changes: RequirementChange[] = [];
  for (const what of ["api", "dbSchema"] as const) {
    const before = a.requires[what];
    const after = b.requires[what];
    if (before === after) continue;
    const hostVersion = host ? (what === "api" ? host.apiVersion : host.dbSchemaVersion) : null;
    const satisfiedByHost =
      after === null || hostVersion === null ? null : satisfiesRange(hostVersion, after);
    changes.push({ what, from: before, to: after, hostVersion, satisfiedByHost });
  }
  return changes;
}

function compatibilityChanges(
  before: Record<string, string>,
  after: Record<string, string>,
): VersionDiff["compatibility"] {
  const added: CompatibilityChange[] = [];
  const removed: CompatibilityChange[] = [];
  const changed: CompatibilityChange[] = [];
  const ids = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const pluginId of ids) {
    const from = Object.hasOwn(before, pluginId) ? (before[pluginId] ?? null) : null;
    const to = Object.hasOwn(after, pluginId) ? (after[pluginId] ?? null) : null;
    if (from === to) continue;
    const entry = { pluginId, from, to };
    if (from === null) added.push(entry);
    else if (to === null) removed.push(entry);
    else changed.push(entry);
  }
  return { added, removed, changed };
}

function versionsBetween(
  versions: readonly VersionState[],
  from: string,
  to: string,
  order: number,
): VersionInBetween[] {
  if (order === 0) return [];
  const [low, high] = order < 0 ? [from, to] : [to, from];
  const inside = versions
    .filter((v) => compareVersions(v.version, low) > 0 && compareVersions(v.version, high) <= 0)
    .sort((x, y) => compareVersions(x.version, y.version));
  if (order > 0) inside.reverse();
  return inside.map((v) => ({
    version: v.version,
    buildDate: v.buildDate,
    commitHash: v.commitHash,
    author: v.author,
    releaseNotes: v.releaseNotes,
    deprecated: v.deprecated,
  }));
}

/**
 * The two versions a change moves a plugin between, whose diff is worth showing: an upgrade or a
 * rollback (from → to), an A/B start or promotion (control → candidate). Null for anything else.
 */
export function versionMove(
  events: readonly LedgerEvent[],
): { pluginId: string; from: string; to: string } | null {
  for (const event of events) {
    switch (event.type) {
      case "PluginUpgraded":
      case "PluginRolledBack":
        return { pluginId: event.data.pluginId, from: event.data.from, to: event.data.to };
      case "AbTestStarted":
      case "AbTestPromoted":
        return { pluginId: event.data.pluginId, from: event.data.control, to: event.data.candidate };
    }
  }
  return null;
}
