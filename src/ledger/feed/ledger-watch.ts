import { EventEmitter } from "node:events";
import { assignerOf, type HostVersions } from "../../domain/index.ts";
import type { Logger } from "../../log.ts";
import type { Assignment } from "../queries/assignment.ts";
import type { StatusView } from "../queries/status.ts";
import type { RecordedEvent } from "../recorded-event.ts";
import type { Tail, TailHandler } from "./tail.ts";
import type { FeedHealth } from "./wakeups.ts";

/** A running A/B test as a host needs it to assign units itself. */
export type WatchedSplit = {
  testId: string;
  control: string;
  candidate: string;
  candidateWeightBp: number;
  salt: string;
};

export type WatchedPlugin = {
  pluginId: string;
  version: string;
  /** The position at which it began running this version (or this A/B split). */
  sincePosition: number;
  abTest: WatchedSplit | null;
};

/** One change of what a plugin runs: `before`/`after` null when it was not running/stopped. */
export type PluginChange = {
  pluginId: string;
  before: WatchedPlugin | null;
  after: WatchedPlugin | null;
  event: RecordedEvent;
};

export type WatchHealth = {
  /** The position the view is current to. */
  position: number;
  /** The last event applied, and when it was recorded; null before the first. */
  lastEventPosition: number | null;
  lastEventAt: Date | null;
  /** Whether the feed reaches the database, and when it last did (see FeedHealth). */
  connected: boolean;
  lastContactAt: Date | null;
  /** Milliseconds since the database last answered: how stale the view may be. */
  staleMs: number | null;
};

/**
 * The active versions and A/B splits, in memory, current with the feed: what a Node host asks on
 * its hot path without a round trip. Emits `change` for each plugin change. While the database is
 * unreachable it keeps answering from what it last knew; `health()` says how stale that is.
 */
export type LedgerWatch = EventEmitter<{ change: [PluginChange]; error: [Error] }> & {
  activeVersion(pluginId: string): string | null;
  /** The same answer as `ledger.assign`, from memory. */
  assign(pluginId: string, unitKey: string): Assignment;
  plugins(): WatchedPlugin[];
  host(): HostVersions | null;
  health(): WatchHealth;
  close(): Promise<void>;
};

export type WatchSource = {
  status(): Promise<StatusView>;
  salts(testIds: string[]): Promise<Map<string, string>>;
  tail(after: number, handler: TailHandler): Tail;
  feedHealth(): FeedHealth;
  logger: Logger;
};

export async function watchLedger(source: WatchSource): Promise<LedgerWatch> {
  const start = await source.status();
  const salts = await source.salts(start.plugins.flatMap((p) => (p.abTest ? [p.abTest.testId] : [])));
  const plugins = watchedPlugins(start, salts);
  let host = start.host;
  let position = start.position;
  let lastEvent: RecordedEvent | null = null;
  const emitter = new EventEmitter<{ change: [PluginChange]; error: [Error] }>();

  function apply(event: RecordedEvent) {
    position = event.position;
    lastEvent = event;
    if (event.type === "HostVersionsDeclared") {
      host = { apiVersion: event.data.apiVersion, dbSchemaVersion: event.data.dbSchemaVersion };
      return;
    }
    if (
      event.type === "VersionReleased" ||
      event.type === "VersionDeprecated" ||
      event.type === "AuditChatEnabled" ||
      event.type === "AuditChatDisabled"
    )
      return;
    const { pluginId } = event.data;
    const before = plugins.get(pluginId) ?? null;
    const after = next(before, event);
    if (after === before) return;
    if (after) plugins.set(pluginId, after);
    else plugins.delete(pluginId);
    // A listener that throws must not stop the view from following the feed.
    try {
      emitter.emit("change", { pluginId, before, after, event });
    } catch (error) {
      source.logger.error({ err: error }, "ledger.watch: a change listener failed");
    }
  }

  const tail = source.tail(position, (events) => {
    for (const event of events) apply(event);
  });

  return Object.assign(emitter, {
    activeVersion: (pluginId: string) => plugins.get(pluginId)?.version ?? null,
    assign: (pluginId: string, unitKey: string) => assignFrom(plugins, pluginId, unitKey),
    plugins: () => [...plugins.values()].sort((a, b) => (a.pluginId < b.pluginId ? -1 : 1)),
    host: () => host,
    health(): WatchHealth {
      const feed = source.feedHealth();
      return {
        position,
        lastEventPosition: lastEvent?.position ?? null,
        lastEventAt: lastEvent?.recordedAt ?? null,
        connected: feed.connected,
        lastContactAt: feed.lastContactAt,
        staleMs: feed.lastContactAt ? Date.now() - feed.lastContactAt.getTime() : null,
      };
    },
    close: () => tail.stop(),
  });
}

/** What each plugin runs at the start, each A/B split with its salt (the status view has none). */
function watchedPlugins(start: StatusView, salts: Map<string, string>): Map<string, WatchedPlugin> {
  const plugins = new Map<string, WatchedPlugin>();
  for (const p of start.plugins) {
    const salt = p.abTest ? salts.get(p.abTest.testId) : undefined;
    plugins.set(p.pluginId, {
      pluginId: p.pluginId,
      version: p.version,
      sincePosition:
        p.abTest && p.abTest.sincePosition > p.sincePosition ? p.abTest.sincePosition : p.sincePosition,
      abTest:
        p.abTest && salt !== undefined
          ? {
              testId: p.abTest.testId,
              control: p.abTest.control,
              candidate: p.abTest.candidate,
              candidateWeightBp: p.abTest.candidateWeightBp,
              salt,
            }
          : null,
    });
  }
  return plugins;
}

/** The same answer as `ledger.assign`, from what the view holds. */
function assignFrom(plugins: Map<string, WatchedPlugin>, pluginId: string, unitKey: string): Assignment {
  if (typeof unitKey !== "string" || unitKey === "")
    throw new RangeError("a unit key must be non-empty text");
  const plugin = plugins.get(pluginId);
  if (!plugin?.abTest) {
    return {
      pluginId,
      unitKey,
      version: plugin?.version ?? null,
      arm: "only",
      testId: null,
      bucket: null,
    };
  }
  const { version, arm, bucket } = assignerOf(plugin.abTest)(unitKey);
  return { pluginId, unitKey, version, arm, testId: plugin.abTest.testId, bucket };
}

/** What a plugin runs after one event: the same object when the event changes nothing here. */
function next(before: WatchedPlugin | null, event: RecordedEvent): WatchedPlugin | null {
  const at = event.position;
  switch (event.type) {
    case "PluginRegistered":
      return { pluginId: event.data.pluginId, version: event.data.version, sincePosition: at, abTest: null };
    case "PluginUpgraded":
    case "PluginRolledBack":
      return { pluginId: event.data.pluginId, version: event.data.to, sincePosition: at, abTest: null };
    case "PluginDeactivated":
      return null;
    case "AbTestStarted": {
      const { testId, control, candidate, candidateWeightBp, salt } = event.data;
      return {
        pluginId: event.data.pluginId,
        version: control,
        sincePosition: at,
        abTest: { testId, control, candidate, candidateWeightBp, salt },
      };
    }
    case "AbTestWeightChanged":
      if (!before?.abTest || before.abTest.testId !== event.data.testId) return before;
      return {
        ...before,
        sincePosition: at,
        abTest: { ...before.abTest, candidateWeightBp: event.data.toBp },
      };
    case "AbTestPromoted":
      return {
        pluginId: event.data.pluginId,
        version: event.data.candidate,
        sincePosition: at,
        abTest: null,
      };
    case "AbTestAborted":
      return before && { ...before, sincePosition: at, abTest: null };
    default:
      return before;
  }
}
