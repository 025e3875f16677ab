import type pg from "pg";
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
  type Command,
  type HostVersions,
  initialState,
  type LedgerState,
  PREVIOUS_LIMIT,
} from "../domain/index.ts";
import type { AppendSession, ReadWithLock, StatementNamer, StoredEvent } from "../store/index.ts";
import type { Tables } from "../store/tables.ts";
import {
  afterLoad,
  carriedForward,
  covers,
  frozen,
  type HeldState,
  type HeldStates,
  isAt,
  loadedOf,
  namedKey,
} from "./held-state.ts";
import { type Needs, needsOf } from "./state-needs.ts";

/** One row of JSON, each column a projection's fragment (or the store's) as its module reads it. */
export type Loaded = {
  host: HostVersions | null;
  actives: ActiveRow[];
  /** Null when those of the held state sent with the load are still true at the head. */
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

/** What `readState` found, for `stateUnderLock`, and then for `afterCommit`. */
export type StateRead = {
  needs: Needs;
  projections: readonly string[];
  /** The load's answer; undefined when none was sent, the held state covering the command. */
  loaded: Loaded | undefined;
  held: { states: HeldStates; named: string; sent: HeldState | undefined } | undefined;
  /** Set by `stateUnderLock`: what is held true at the lock's head, for `afterCommit` to carry. */
  basis?: HeldState;
};

/**
 * The read of `loadState`, to send with the head lock in one round trip
 * (`store.transact(work, readState(...))`): the server runs it after the lock is granted. With
 * `states`, a command that what they hold covers sends nothing (held-state.ts).
 */
export function readState(
  command: Command,
  projections: readonly string[],
  states?: HeldStates,
): ReadWithLock<StateRead> {
  const needs = needsOf(command);
  const named = namedKey(needs.named);
  return async (client, tables, namer) => {
    // Taken when the lock is sent: the head the lock is granted at is compared with this one's,
    // whatever a concurrent command of this process keeps meanwhile.
    const sent = states?.for(named);
    const held = states && { states, named, sent };
    if (sent && covers(sent, needs)) return { needs, projections, loaded: undefined, held };
    const loaded = await queryState(client, tables, namer, needs, projections, sent);
    return { needs, projections, loaded, held };
  };
}

/** The state from a read made under this session's head lock; throws if projections lag the head. */
export async function stateUnderLock(session: AppendSession, read: StateRead): Promise<LedgerState> {
  const { needs, projections, held } = read;
  const { head } = session;
  let loaded = read.loaded;
  // Not read: the held state is the head's only if nothing was appended since; else read now.
  const fromHeld = loaded === undefined && held?.sent !== undefined && isAt(held.sent, head);
  if (fromHeld && held?.sent) loaded = loadedOf(held.sent, needs, projections);
  else
    loaded ??= await queryState(session.client, session.tables, session.named, needs, projections, undefined);
  const behind = projections.filter((name) => (loaded.checkpoints[name] ?? 0) !== head.position);
  if (behind.length > 0) {
    throw new ProjectionsBehindError(
      `projections ${behind.join(", ")} are not at the head (position ${head.position}): events were appended without them; run rebuild`,
    );
  }
  for (const [streamId, version] of Object.entries(loaded.streams))
    session.knownVersions.set(streamId, version);
  const running = loaded.running ?? held?.sent?.loaded.running;
  if (!running) throw new Error("the state load left out rows that were not sent with it");
  if (fromHeld) read.basis = held?.sent;
  else if (held) {
    // Read from the database: what is held from now on is frozen, so that no command can change it.
    const { host, actives, tests, keyed } = loaded;
    frozen({ host, actives, running, tests, keyed });
    read.basis = afterLoad(held.sent, held.named, head, needs, { ...loaded, running });
    held.states.keep(read.basis);
  }
  return stateOf(loaded, running, needs);
}

/**
 * After this read's command committed `written`, bringing the head to `head` and its streams to
 * `versions`: what was held true before it is kept for the new head, when the events' effect on
 * it is known (held-state.ts, `carriedForward`).
 */
export function afterCommit(
  read: StateRead,
  written: readonly StoredEvent[],
  versions: ReadonlyMap<string, number>,
  head: AppendSession["head"],
): void {
  if (!read.held || !read.basis) return;
  const carried = carriedForward(read.basis, read.needs.named, written, versions, head);
  if (carried) read.held.states.keep(carried);
}

async function queryState(
  client: pg.PoolClient,
  tables: Tables,
  named: StatementNamer,
  needs: Needs,
  projections: readonly string[],
  sent: HeldState | undefined,
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
      sent?.position ?? null,
      sent?.hash ?? null,
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
