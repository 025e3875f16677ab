import { compatibilityViolations } from "./compatibility.ts";
import type { LedgerState, PluginState } from "./state.ts";
import { versionOf } from "./state.ts";
import { compareVersions, isLower, isPrerelease, majorOf } from "./versions.ts";

export type RollbackChoice = { version: string } | { version: null; message: string };

/**
 * The default target of `rollback <plugin>`, an undo as `helm rollback` is (DESIGN.md "Rules"):
 * 1. the plugin's history, newest first: the version that ran before the current one, higher
 *    or lower, so a rollback undoes an upgrade, a downgrade or an earlier rollback alike;
 * 2. failing that, the highest release of the current MAJOR below the current version.
 * Either way a candidate must be released, not deprecated, not a prerelease (a pick nobody
 * named must be fit for production), and compatible (no API, DB schema or matrix violation).
 * A history entry may lie in another MAJOR: it ran before, and going back across a bad major
 * upgrade is what an emergency rollback is for.
 */
export function chooseRollbackTarget(
  pluginId: string,
  plugin: PluginState,
  state: LedgerState,
): RollbackChoice {
  const current = plugin.active;
  if (current === null)
    return { version: null, message: `Plugin ${pluginId} is not active, so there is nothing to roll back.` };

  const examined = new Set<string>([current]);
  const skipped: string[] = [];
  const eligible = (version: string): boolean => {
    if (examined.has(version)) return false;
    examined.add(version);
    const release = versionOf(plugin, version);
    if (release === undefined) return false;
    const why = isPrerelease(version)
      ? ["prerelease"]
      : release.deprecated
        ? ["deprecated"]
        : [...new Set(compatibilityViolations(pluginId, release, state).map((v) => v.code))];
    if (why.length > 0) skipped.push(`${version} (${why.join(", ")})`);
    return why.length === 0;
  };

  const fromHistory = plugin.previous.find(eligible);
  if (fromHistory !== undefined) return { version: fromHistory };

  const major = majorOf(current);
  const sameMajorBelow = Object.keys(plugin.versions)
    .filter((v) => majorOf(v) === major && isLower(v, current) && !isPrerelease(v))
    .sort((a, b) => compareVersions(b, a));
  const fallback = sameMajorBelow.find(eligible);
  if (fallback !== undefined) return { version: fallback };

  const passedOver = skipped.length > 0 ? ` (passed over: ${skipped.join("; ")})` : "";
  return {
    version: null,
    message: `Plugin ${pluginId} has nothing to roll back to from ${current}: no compatible, non-deprecated, non-prerelease version ran before it or is released below it in MAJOR ${major}${passedOver}; use upgrade to choose a version.`,
  };
}
