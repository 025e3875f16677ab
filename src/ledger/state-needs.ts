import semver from "semver";
import { AUDIT_CHATS_STREAM, type Command, HOST_STREAM, pluginStream } from "../domain/index.ts";

/** A version by precedence: the same MAJOR.MINOR.PATCH-PRERELEASE, whatever its build metadata. */
export type VersionKey = {
  pluginId: string;
  major: number;
  minor: number;
  patch: number;
  prerelease: string | null;
};

/**
 * What of the catalog and history a command reads, beyond the host and the running versions,
 * and the streams it may write (their versions come with the load, saving the append a lookup).
 */
export type Needs = {
  keys: VersionKey[];
  fullCatalog: string[];
  previousOf: string | null;
  streams: Set<string>;
  /** The plugins it names: of the others' running releases it loads only what `decide` reads. */
  named: Set<string>;
  /** The audit chats' commands read every chat the ledger has heard of (a handful of rows). */
  auditChats: boolean;
};

/**
 * Commands arrive as untyped JSON from some transports; `decide` reports what is wrong with
 * them, so this only loads what the well-formed parts name and never throws on the rest.
 */
export function needsOf(command: Command): Needs {
  const c = command as unknown as Record<string, unknown>;
  const needs: Needs = {
    keys: [],
    fullCatalog: [],
    previousOf: null,
    streams: new Set(),
    named: new Set(),
    auditChats: false,
  };
  const stream = (pluginId: unknown) => {
    if (typeof pluginId !== "string") return;
    needs.streams.add(pluginStream(pluginId));
    needs.named.add(pluginId);
  };
  if (c.kind === "hostSet") needs.streams.add(HOST_STREAM);
  else if (typeof c.kind === "string" && c.kind.startsWith("auditChat")) {
    needs.streams.add(AUDIT_CHATS_STREAM);
    needs.auditChats = true;
  } else stream(c.pluginId);
  const key = (pluginId: unknown, version: unknown) => {
    const parsed = typeof version === "string" ? semver.parse(version) : null;
    if (typeof pluginId !== "string" || parsed === null) return;
    const prerelease = parsed.prerelease.length > 0 ? parsed.prerelease.join(".") : null;
    needs.keys.push({ pluginId, major: parsed.major, minor: parsed.minor, patch: parsed.patch, prerelease });
  };
  switch (c.kind) {
    case "release":
    case "deprecate":
    case "register":
    case "upgrade":
      key(c.pluginId, c.version);
      break;
    case "abTestStart":
      key(c.pluginId, c.candidate);
      break;
    case "import":
      if (Array.isArray(c.releases)) {
        for (const entry of c.releases) {
          key(entry?.pluginId, entry?.version);
          stream(entry?.pluginId);
        }
      }
      break;
    case "rollback":
      // Without a version the target may be any earlier release or history entry.
      if (typeof c.pluginId === "string") {
        needs.fullCatalog.push(c.pluginId);
        needs.previousOf = c.pluginId;
      }
      break;
  }
  return needs;
}
