import semver from "semver";

/** Plugin ids become stream names and table keys, so they stay lower-case identifiers. */
export const PLUGIN_ID_PATTERN = /^[a-z][a-z0-9_]{1,63}$/;

/** A git object name: abbreviated (7) up to full SHA-1 (40), as `git rev-parse` prints it. */
export const COMMIT_HASH_PATTERN = /^[0-9a-f]{7,40}$/;

/** Longer ranges are a typo or an attack; semver itself caps versions at 256 characters. */
const RANGE_MAX_LENGTH = 256;

export function isPluginId(value: unknown): value is string {
  return typeof value === "string" && PLUGIN_ID_PATTERN.test(value);
}

export function isCommitHash(value: unknown): value is string {
  return typeof value === "string" && COMMIT_HASH_PATTERN.test(value);
}

/**
 * Strict semver only: the text must be the canonical MAJOR.MINOR.PATCH[-pre][+build] form,
 * because versions are map keys and stream data; "v1.2.3" or " 1.2.3" would be a second
 * spelling of the same version.
 */
export function isVersion(value: unknown): value is string {
  return typeof value === "string" && strictVersion(value);
}

const strictVersion = remembered((value) => {
  const parsed = semver.parse(value);
  if (parsed === null) return false;
  const build = parsed.build.length > 0 ? `+${parsed.build.join(".")}` : "";
  return `${parsed.version}${build}` === value;
});

/** A blank range would mean "*" to semver; requiring nothing is spelled null instead. */
export function isRange(value: unknown): value is string {
  return (
    typeof value === "string" && value.trim() !== "" && value.length <= RANGE_MAX_LENGTH && validRange(value)
  );
}

const validRange = remembered((value) => semver.validRange(value) !== null);

/**
 * A check of a string, its answers remembered. A rebuild validates every event of the history,
 * where the same ranges come back in release after release and each version in its release, its
 * upgrade and its rollback: semver's parsing was half of that validation's time. The answers
 * are a pure function of the text; at `limit` texts they are forgotten, all at once.
 */
function remembered(check: (value: string) => boolean, limit = 10_000): (value: string) => boolean {
  const answers = new Map<string, boolean>();
  return (value) => {
    let answer = answers.get(value);
    if (answer === undefined) {
      if (answers.size >= limit) answers.clear();
      answer = check(value);
      answers.set(value, answer);
    }
    return answer;
  };
}

// Every ordering goes through semver: as text "10.0.0" < "9.5.0" and "1.10.0" < "1.9.0".

/** Ascending precedence, for `Array.prototype.sort`. Build metadata does not count. */
export function compareVersions(a: string, b: string): number {
  return semver.compare(a, b);
}

export function isLower(a: string, than: string): boolean {
  return semver.lt(a, than);
}

export function majorOf(version: string): number {
  return semver.major(version);
}

export function isPrerelease(version: string): boolean {
  return semver.prerelease(version) !== null;
}

/** The version without build metadata: two versions with the same key have equal precedence. */
export function precedenceKey(version: string): string {
  return semver.parse(version)?.version ?? version;
}

/**
 * Plain `semver.satisfies`, deliberately without `includePrerelease`: a prerelease satisfies a
 * range only if the range names a prerelease of the same MAJOR.MINOR.PATCH (">=2.0.0-rc.1"
 * accepts "2.0.0-rc.2"; "^1.0.0" rejects "1.1.0-beta"). A release candidate must never slip
 * silently into a range its dependants wrote for stable versions.
 */
export function satisfiesRange(version: string, range: string): boolean {
  let check = satisfied.get(range);
  if (check === undefined) {
    // At most 500 ranges of 100 versions each: 50,000 answers, as `remembered`'s 10,000 texts.
    if (satisfied.size >= 500) satisfied.clear();
    check = remembered((text) => semver.satisfies(text, range), 100);
    satisfied.set(range, check);
  }
  return check(version);
}

/**
 * `satisfiesRange`'s answers, remembered by range and then by version: a command checks the
 * matrix against every running plugin in both directions, the same pairs command after command,
 * and semver parses both texts on every call.
 */
const satisfied = new Map<string, (version: string) => boolean>();
