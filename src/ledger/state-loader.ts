import type pg from "pg";
import semver from "semver";
import {
  AUDIT_CHATS_STREAM,
  type AuditChatState,
  type Command,
  emptyPluginState,
  HOST_STREAM,
  type HostVersions,
  initialState,
  type LedgerState,
  type PluginState,
  PREVIOUS_LIMIT,
  pluginOf,
  pluginStream,
  previousOf,
} from "../domain/index.ts";
import type { AppendSession, ReadWithLock, StatementNamer } from "../store/index.ts";
import type { Tables } from "../store/tables.ts";
import { CATALOG_ROW_JSON, type CatalogRow, versionStateOf } from "./queries/catalog.ts";

/** A version by precedence: the same MAJOR.MINOR.PATCH-PRERELEASE, whatever its build metadata. */
type VersionKey = {
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
type Needs = {
  keys: VersionKey[];
  fullCatalog: string[];
  previousOf: string | null;
  streams: Set<string>;
  /** The audit chats' commands read every chat the ledger has heard of (a handful of rows). */
  auditChats: boolean;
};

type Loaded = {
  host: HostVersions | null;
  actives: { plugin_id: string; version: string; release: CatalogRow | null }[];
  tests: RunningTestRow[];
  catalog: CatalogRow[];
  keyed: CatalogRow[];
  stops: string[];
  checkpoints: Record<string, number>;
  streams: Record<string, number>;
  audit_chats: { chat_id: string; enabled: boolean; source: AuditChatState["source"] }[];
};

/** A running A/B test, its weight now, and its candidate's release (running versions count for the matrix). */
type RunningTestRow = {
  plugin_id: string;
  test_id: string;
  control: string;
  candidate: string;
  salt: string;
  weight_bp: number;
  release: CatalogRow | null;
};

/** The projections are behind the events: something appended without them. */
export class ProjectionsBehindError extends Error {
  override name = "ProjectionsBehindError";
}

/**
 * The part of LedgerState a command's decision reads (see domain README, "Partial state"),
 * from the projection tables, and the current versions of the streams it may write, in one
 * statement. It runs under the session's head lock: in READ COMMITTED each statement takes a
 * fresh snapshot, so it sees every append committed before the lock was granted, and nothing
 * can commit after it until this transaction ends. That is also why the stream versions it
 * reads can stand in for the append's own lookup.
 */
export async function loadState(
  session: AppendSession,
  command: Command,
  projections: readonly string[],
): Promise<LedgerState> {
  const read = await readState(command, projections)(session.client, session.tables, session.named);
  return stateUnderLock(session, read);
}

/** What `readState` found, for `stateUnderLock`. */
export type StateRead = { loaded: Loaded; needs: Needs; projections: readonly string[] };

/**
 * The read of `loadState`, to send with the head lock in one round trip
 * (`store.transact(work, readState(...))`): the server runs it after the lock is granted.
 */
export function readState(command: Command, projections: readonly string[]): ReadWithLock<StateRead> {
  const needs = needsOf(command);
  return async (client, tables, named) => {
    const loaded = await queryState(client, tables, named, needs, projections);
    return { loaded, needs, projections };
  };
}

/** The state from a read made under this session's head lock; throws if projections lag the head. */
export function stateUnderLock(
  session: AppendSession,
  { loaded, needs, projections }: StateRead,
): LedgerState {
  const { head } = session;
  const behind = projections.filter((name) => (loaded.checkpoints[name] ?? 0) !== head.position);
  if (behind.length > 0) {
    throw new ProjectionsBehindError(
      `projections ${behind.join(", ")} are not at the head (position ${head.position}): events were appended without them; run rebuild`,
    );
  }
  for (const [streamId, version] of Object.entries(loaded.streams))
    session.knownVersions.set(streamId, version);
  return stateOf(loaded, needs);
}

async function queryState(
  client: pg.PoolClient,
  tables: Tables,
  named: StatementNamer,
  needs: Needs,
  projections: readonly string[],
): Promise<Loaded> {
  const v = tables.q("plugin_versions");
  // Always the same text, whatever the command (empty arrays where it needs nothing), so that a
  // server plans it once per connection.
  const found = await client.query<Loaded>({
    ...named("load-state"),
    text: `SELECT
      (SELECT json_build_object('apiVersion', api_version, 'dbSchemaVersion', db_schema_version)
         FROM ${tables.q("host")}) AS host,
      (SELECT coalesce(json_agg(json_build_object('plugin_id', a.plugin_id, 'version', a.version,
                                                  'release', CASE WHEN v.version IS NOT NULL
                                                                  THEN ${CATALOG_ROW_JSON} END)), '[]')
         FROM ${tables.q("active_plugins")} a
         LEFT JOIN ${v} v ON v.plugin_id = a.plugin_id AND v.version = a.version) AS actives,
      (SELECT coalesce(json_agg(json_build_object('plugin_id', t.plugin_id, 'test_id', t.test_id,
                'control', t.control, 'candidate', t.candidate, 'salt', t.salt,
                'weight_bp', s.candidate_weight_bp,
                'release', CASE WHEN v.version IS NOT NULL THEN ${CATALOG_ROW_JSON} END)), '[]')
         FROM ${tables.q("ab_tests")} t
         JOIN ${tables.q("ab_test_segments")} s ON s.test_id = t.test_id AND s.to_position IS NULL
         LEFT JOIN ${v} v ON v.plugin_id = t.plugin_id AND v.version = t.candidate
        WHERE t.ended_position IS NULL) AS tests,
      (SELECT coalesce(json_agg(${CATALOG_ROW_JSON}), '[]') FROM ${v} v WHERE v.plugin_id = ANY($1::text[]))
         AS catalog,
      (SELECT coalesce(json_agg(${CATALOG_ROW_JSON}), '[]')
         FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[])
              AS k(plugin_id, major, minor, patch, prerelease)
         JOIN ${v} v ON v.plugin_id = k.plugin_id AND v.major = k.major AND v.minor = k.minor
                    AND v.patch = k.patch AND v.prerelease IS NOT DISTINCT FROM k.prerelease) AS keyed,
      -- The versions the plugin's last stops ended, newest first: its last closed intervals,
      -- as many as evolve keeps. Intervals of a plugin follow one another, so the primary key
      -- (plugin_id, from_position) read backwards gives them in the order of their ends.
      (SELECT coalesce(json_agg(version ORDER BY from_position DESC), '[]') FROM (
         SELECT version, from_position FROM ${tables.q("version_history")}
          WHERE plugin_id = $7 AND to_position IS NOT NULL
          ORDER BY from_position DESC LIMIT $8) AS p) AS stops,
      (SELECT coalesce(json_object_agg(projection, position), '{}')
         FROM ${tables.checkpoints} WHERE projection = ANY($9::text[])) AS checkpoints,
      (SELECT coalesce(json_object_agg(s, (SELECT coalesce(max(stream_version), 0) FROM ${tables.events}
                                            WHERE stream_id = s)), '{}')
         FROM unnest($10::text[]) AS s) AS streams,
      (SELECT coalesce(json_agg(json_build_object('chat_id', chat_id::text, 'enabled', enabled,
                                                  'source', source)), '[]')
         FROM ${tables.q("audit_chats")} WHERE $11::boolean) AS audit_chats`,
    values: [
      needs.fullCatalog,
      needs.keys.map((k) => k.pluginId),
      needs.keys.map((k) => k.major),
      needs.keys.map((k) => k.minor),
      needs.keys.map((k) => k.patch),
      needs.keys.map((k) => k.prerelease),
      needs.previousOf,
      PREVIOUS_LIMIT,
      projections,
      [...needs.streams],
      needs.auditChats,
    ],
  });
  return found.rows[0] as Loaded;
}

function stateOf(loaded: Loaded, needs: Needs): LedgerState {
  const state = initialState();
  state.host = loaded.host;
  const plugin = (pluginId: string): PluginState => {
    const found = pluginOf(state, pluginId);
    if (found) return found;
    const created = emptyPluginState();
    state.plugins[pluginId] = created;
    return created;
  };
  for (const row of [...loaded.catalog, ...loaded.keyed]) {
    plugin(row.plugin_id).versions[row.version] = versionStateOf(row);
  }
  for (const active of loaded.actives) {
    const running = plugin(active.plugin_id);
    running.active = active.version;
    if (active.release) running.versions[active.version] = versionStateOf(active.release);
  }
  for (const test of loaded.tests) {
    const testing = plugin(test.plugin_id);
    const { test_id: testId, control, candidate, salt, weight_bp: candidateWeightBp } = test;
    testing.abTest = { testId, control, candidate, candidateWeightBp, salt };
    if (test.release) testing.versions[candidate] = versionStateOf(test.release);
  }
  if (needs.previousOf !== null && loaded.stops.length > 0) {
    const rolling = plugin(needs.previousOf);
    rolling.stops = loaded.stops;
    rolling.previous = previousOf(loaded.stops, rolling.active);
  }
  for (const chat of loaded.audit_chats) {
    state.auditChats[chat.chat_id] = { enabled: chat.enabled, source: chat.source };
  }
  return state;
}

/**
 * Commands arrive as untyped JSON from some transports; `decide` reports what is wrong with
 * them, so this only loads what the well-formed parts name and never throws on the rest.
 */
function needsOf(command: Command): Needs {
  const c = command as unknown as Record<string, unknown>;
  const needs: Needs = { keys: [], fullCatalog: [], previousOf: null, streams: new Set(), auditChats: false };
  const stream = (pluginId: unknown) => {
    if (typeof pluginId === "string") needs.streams.add(pluginStream(pluginId));
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
