import {
  type AuditChatSource,
  isAuditChatEvent,
  type LedgerEvent,
  type VersionReleasedData,
} from "./events.ts";

export type ReleaseInfo = VersionReleasedData;

export interface VersionState extends ReleaseInfo {
  deprecated: boolean;
  deprecationReason?: string;
}

export interface AbTest {
  testId: string;
  control: string;
  candidate: string;
  candidateWeightBp: number;
  salt: string;
}

export interface PluginState {
  /** Keyed by the exact version string. */
  versions: Record<string, VersionState>;
  active: string | null;
  /**
   * The versions the plugin's last PREVIOUS_LIMIT stops ended (each upgrade, rollback, promotion
   * or deactivation ends the running one), newest first, a version once per stop.
   */
  stops: string[];
  /**
   * Versions active before, most recent first, each once, never the active one: the distinct
   * versions of `stops`. A loader builds both from version_history's last PREVIOUS_LIMIT closed
   * intervals, so they equal the fold's for a history of any length.
   */
  previous: string[];
  abTest: AbTest | null;
}

export interface HostVersions {
  apiVersion: string;
  dbSchemaVersion: string;
}

/**
 * A Telegram chat the bot has been told about: enabled or not, and by what the last change came
 * (a chat turned off by a command stays off whatever the configuration says).
 */
export interface AuditChatState {
  enabled: boolean;
  source: AuditChatSource;
}

/**
 * The application may load this partially: the plugins a command touches in full, and for
 * every other active plugin only `active`, `abTest` and the release info of those versions.
 * `decide` reads nothing else of other plugins.
 */
export interface LedgerState {
  host: HostVersions | null;
  plugins: Record<string, PluginState>;
  /** Keyed by the chat id as text; a chat never enabled is absent. */
  auditChats: Record<string, AuditChatState>;
}

/**
 * `previous` only feeds the default rollback target, which looks a few steps back and then
 * falls back to the catalog; the bound keeps an activation O(1) however long a plugin's
 * history, and small, since a fold scans it on every activation (bench/README.md, measurements).
 * It bounds stops, not distinct versions: a fold that dropped the oldest distinct version
 * could not get it back when a newer one left the list (re-activated), while the projection
 * still knew it, so the two disagreed in their oldest entry past 20 versions. The last 20
 * stops are the last 20 closed intervals of version_history, whatever came before.
 */
export const PREVIOUS_LIMIT = 20;

export function initialState(): LedgerState {
  return { host: null, plugins: {}, auditChats: {} };
}

export function emptyPluginState(): PluginState {
  return { versions: {}, active: null, stops: [], previous: [], abTest: null };
}

// Own-property lookups only: "constructor" is a valid plugin id and a key of every object.

export function pluginOf(state: LedgerState, pluginId: string): PluginState | undefined {
  return Object.hasOwn(state.plugins, pluginId) ? state.plugins[pluginId] : undefined;
}

export function versionOf(plugin: PluginState | undefined, version: string): VersionState | undefined {
  return plugin !== undefined && Object.hasOwn(plugin.versions, version)
    ? plugin.versions[version]
    : undefined;
}

/**
 * Applies an event in place and returns the same state: the fast path for folds over a whole
 * ledger. It assigns to the state, to one plugin's fields, its `versions` record and its
 * `stops` and `previous` arrays, and replaces (never edits) anything nested deeper, which is what lets
 * `evolve` stay pure by copying just those.
 */
export function evolveMut(state: LedgerState, event: LedgerEvent): LedgerState {
  if (event.type === "HostVersionsDeclared") {
    state.host = { apiVersion: event.data.apiVersion, dbSchemaVersion: event.data.dbSchemaVersion };
    return state;
  }
  if (isAuditChatEvent(event)) {
    const { chatId, source } = event.data;
    state.auditChats[String(chatId)] = { enabled: event.type === "AuditChatEnabled", source };
    return state;
  }
  const plugin = pluginOf(state, event.data.pluginId) ?? addPlugin(state, event.data.pluginId);
  switch (event.type) {
    case "VersionReleased":
      // Object.assign, not a spread: V8 folds releases faster this way (bench/README.md).
      plugin.versions[event.data.version] = Object.assign({}, event.data, { deprecated: false });
      break;
    case "VersionDeprecated": {
      const released = versionOf(plugin, event.data.version);
      if (released !== undefined) {
        plugin.versions[event.data.version] = {
          ...released,
          deprecated: true,
          deprecationReason: event.data.reason,
        };
      }
      break;
    }
    case "PluginRegistered":
      activate(plugin, event.data.version);
      break;
    case "PluginUpgraded":
    case "PluginRolledBack":
      activate(plugin, event.data.to);
      break;
    case "PluginDeactivated":
      if (plugin.active !== null) stop(plugin, null);
      break;
    case "AbTestStarted": {
      const { testId, control, candidate, candidateWeightBp, salt } = event.data;
      plugin.abTest = { testId, control, candidate, candidateWeightBp, salt };
      break;
    }
    case "AbTestWeightChanged":
      if (plugin.abTest?.testId === event.data.testId) {
        plugin.abTest = { ...plugin.abTest, candidateWeightBp: event.data.toBp };
      }
      break;
    case "AbTestPromoted":
      activate(plugin, event.data.candidate);
      plugin.abTest = null;
      break;
    case "AbTestAborted":
      plugin.abTest = null;
      break;
  }
  return state;
}

/** Pure: copies only the touched plugin's records, shares everything else with `state`. */
export function evolve(state: LedgerState, event: LedgerEvent): LedgerState {
  const next: LedgerState = { host: state.host, plugins: { ...state.plugins }, auditChats: state.auditChats };
  if (isAuditChatEvent(event)) next.auditChats = { ...state.auditChats };
  else if (event.type !== "HostVersionsDeclared") {
    const plugin = pluginOf(state, event.data.pluginId);
    if (plugin !== undefined) {
      next.plugins[event.data.pluginId] = {
        ...plugin,
        versions: { ...plugin.versions },
        stops: [...plugin.stops],
        previous: [...plugin.previous],
      };
    }
  }
  return evolveMut(next, event);
}

/** Folds with `evolveMut`; `into` is mutated, so pass only a state nobody else holds. */
export function foldEvents(events: Iterable<LedgerEvent>, into: LedgerState = initialState()): LedgerState {
  for (const event of events) evolveMut(into, event);
  return into;
}

function addPlugin(state: LedgerState, pluginId: string): PluginState {
  const plugin = emptyPluginState();
  state.plugins[pluginId] = plugin;
  return plugin;
}

function activate(plugin: PluginState, version: string): void {
  if (plugin.active === version) return;
  if (plugin.active === null) {
    plugin.active = version;
    remove(plugin.previous, version);
  } else stop(plugin, version);
}

/**
 * The running version stops; `next` runs instead, or nothing. `previous` is kept equal to
 * `previousOf(stops, active)` step by step (a fold would pay for recomputing it on every event):
 * the stopped version moves to the front, the next one leaves, and the stop that falls off the
 * end of `stops` takes its version along unless a newer stop still holds it.
 */
function stop(plugin: PluginState, next: string | null): void {
  const stopped = plugin.active as string;
  const { stops, previous } = plugin;
  stops.unshift(stopped);
  const dropped = stops.length > PREVIOUS_LIMIT ? stops[PREVIOUS_LIMIT] : undefined;
  if (dropped !== undefined) stops.length = PREVIOUS_LIMIT;
  remove(previous, stopped);
  previous.unshift(stopped);
  if (next !== null) remove(previous, next);
  if (dropped !== undefined && !stops.includes(dropped)) remove(previous, dropped);
  plugin.active = next;
}

function remove(versions: string[], version: string): void {
  const at = versions.indexOf(version);
  if (at !== -1) versions.splice(at, 1);
}

/** The distinct versions of `stops`, newest first, without the running one. */
export function previousOf(stops: readonly string[], active: string | null): string[] {
  const previous: string[] = [];
  for (const version of stops) {
    if (version !== active && !previous.includes(version)) previous.push(version);
  }
  return previous;
}
