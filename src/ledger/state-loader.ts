import type pg from "pg";
import semver from "semver";
import { loadRunningTests, type RunningTestRow, runningTestsJson } from "../../projections/ab-tests.ts";
import {
  type ActiveRow,
  activesJson,
  loadActives,
  loadRunning,
  loadStops,
  type RunningRow,
  runningJson,
  stopsJson,
} from "../../projections/activations.ts";
import { type AuditChatRow, auditChatsJson, loadAuditChats } from "../../projections/audit-chats.ts";
import { type CatalogRow, loadReleases, releasesByKeyJson, releasesJson } from "../../projections/catalog.ts";
import { hostJson } from "../../projections/host.ts";
import { pluginsIn } from "../../projections/ledger-projection.ts";
import {
  AUDIT_CHATS_STREAM,
  type Command,
  HOST_STREAM,
  type HostVersions,
  initialState,
  type LedgerState,
  PREVIOUS_LIMIT,
  pluginStream,
} from "../domain/index.ts";
import type { AppendSession, ReadWithLock, StatementNamer, StoredEvent } from "../store/index.ts";
import type { Tables } from "../store/tables.ts";
import {
  carriedForward,
  frozenRows,
  namedKey,
  type OthersAtHead,
  type OthersCache,
} from "./others-at-head.ts";

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
  /** The plugins it names: of the others' running releases it loads only what `decide` reads. */
  named: Set<string>;
  /** The audit chats' commands read every chat the ledger has heard of (a handful of rows). */
  auditChats: boolean;
};

/** One row of JSON, each column a projection's fragment (or the store's) as its module reads it. */
type Loaded = {
  host: HostVersions | null;
  actives: ActiveRow[];
  /** Null when the rows offered with the load are still true at the head (others-at-head.ts). */
  running: RunningRow[] | null;
  tests: RunningTestRow[];
  catalog: CatalogRow[];
  keyed: CatalogRow[];
  stops: string[];
  checkpoints: Record<string, number>;
  streams: Record<string, number>;
  audit_chats: AuditChatRow[];
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

/** What `readState` found, for `stateUnderLock`; `offered`: the other plugins' rows it sent. */
export type StateRead = {
  loaded: Loaded;
  needs: Needs;
  projections: readonly string[];
  others: { cache: OthersCache; named: string; offered: OthersAtHead | undefined } | undefined;
};

/**
 * The read of `loadState`, to send with the head lock in one round trip
 * (`store.transact(work, readState(...))`): the server runs it after the lock is granted.
 */
export function readState(
  command: Command,
  projections: readonly string[],
  cache?: OthersCache,
): ReadWithLock<StateRead> {
  const needs = needsOf(command);
  const key = namedKey(needs.named);
  return async (client, tables, named) => {
    // Taken when the load is sent: the load compares the head with this entry's, whatever a
    // concurrent command of this process keeps meanwhile.
    const offered = cache?.offer(key);
    const loaded = await queryState(client, tables, named, needs, projections, offered);
    return { loaded, needs, projections, others: cache && { cache, named: key, offered } };
  };
}

/** The state from a read made under this session's head lock; throws if projections lag the head. */
export function stateUnderLock(session: AppendSession, read: StateRead): LedgerState {
  const { loaded, needs, projections, others } = read;
  const { head } = session;
  const behind = projections.filter((name) => (loaded.checkpoints[name] ?? 0) !== head.position);
  if (behind.length > 0) {
    throw new ProjectionsBehindError(
      `projections ${behind.join(", ")} are not at the head (position ${head.position}): events were appended without them; run rebuild`,
    );
  }
  for (const [streamId, version] of Object.entries(loaded.streams))
    session.knownVersions.set(streamId, version);
  const running = loaded.running ? frozenRows(loaded.running) : others?.offered?.rows;
  if (!running) throw new Error("the state load left out rows that were not offered");
  if (others && loaded.running) {
    others.cache.keep({ named: others.named, position: head.position, hash: head.hash, rows: running });
  }
  return stateOf(loaded, running, needs);
}

/**
 * After this read's command committed `written`, bringing the head to `head`: the other plugins'
 * rows it used are kept for that head too, when the events leave them as they were.
 */
export function afterCommit(read: StateRead, written: readonly StoredEvent[], head: AppendSession["head"]) {
  const { loaded, needs, others } = read;
  const running = loaded.running ?? others?.offered?.rows;
  if (!others || !running) return;
  const carried = carriedForward({ named: others.named, rows: running }, needs.named, written, head);
  if (carried) others.cache.keep(carried);
}

async function queryState(
  client: pg.PoolClient,
  tables: Tables,
  named: StatementNamer,
  needs: Needs,
  projections: readonly string[],
  offered: OthersAtHead | undefined,
): Promise<Loaded> {
  // Always the same text, whatever the command (empty arrays where it needs nothing), so that a
  // server plans it once per connection.
  const found = await client.query<Loaded>({
    ...named("load-state"),
    text: `SELECT ${hostJson(tables)} AS host, ${activesJson(tables, "$12")} AS actives,
      CASE WHEN (SELECT position = $13::bigint AND hash = $14::bytea FROM ${tables.head}) THEN NULL
           ELSE ${runningJson(tables, "$12")} END AS running,
      ${runningTestsJson(tables)} AS tests, ${releasesJson(tables, "$1")} AS catalog,
      ${releasesByKeyJson(tables, 2)} AS keyed, ${stopsJson(tables, "$7", "$8")} AS stops,
      (SELECT coalesce(json_object_agg(projection, position), '{}')
         FROM ${tables.checkpoints} WHERE projection = ANY($9::text[])) AS checkpoints,
      (SELECT coalesce(json_object_agg(s, (SELECT coalesce(max(stream_version), 0) FROM ${tables.events}
                                            WHERE stream_id = s)), '{}')
         FROM unnest($10::text[]) AS s) AS streams,
      ${auditChatsJson(tables, "$11")} AS audit_chats`,
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
      [...needs.named],
      offered?.position ?? null,
      offered?.hash ?? null,
    ],
  });
  return found.rows[0] as Loaded;
}

function stateOf(loaded: Loaded, running: readonly RunningRow[], needs: Needs): LedgerState {
  const state = initialState();
  state.host = loaded.host;
  const plugin = pluginsIn(state);
  loadReleases([...loaded.catalog, ...loaded.keyed], plugin);
  loadActives(loaded.actives, plugin);
  loadRunning(running, plugin);
  loadRunningTests(loaded.tests, plugin);
  if (needs.previousOf !== null && loaded.stops.length > 0) loadStops(loaded.stops, plugin(needs.previousOf));
  loadAuditChats(loaded.audit_chats, state);
  return state;
}

/**
 * Commands arrive as untyped JSON from some transports; `decide` reports what is wrong with
 * them, so this only loads what the well-formed parts name and never throws on the rest.
 */
function needsOf(command: Command): Needs {
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
