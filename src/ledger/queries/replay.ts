import { evolveMut, initialState, parseEvent, pluginOf, versionOf } from "../../domain/index.ts";
import type { EventStore } from "../../store/index.ts";
import { byText } from "./catalog.ts";
import { abTestStatus, type StatusView } from "./status.ts";

/**
 * The status at a position from a full fold of the events through the domain, sharing
 * nothing with the projections but the event table: it is how as-of is proven.
 * `since` is the position of the event after which the plugin's active version changed; an
 * A/B test's `since` is the position of its AbTestStarted.
 */
export async function replayStatus(store: EventStore, to: number): Promise<StatusView> {
  const state = initialState();
  const since = new Map<string, { position: number; at: Date }>();
  const testStarted = new Map<string, { position: number; at: Date }>();
  for await (const batch of store.readAllBatches(0, 5000, to)) {
    for (const row of batch) {
      const event = parseEvent(row.type, row.data);
      if (
        event.type === "HostVersionsDeclared" ||
        event.type === "AuditChatEnabled" ||
        event.type === "AuditChatDisabled"
      ) {
        evolveMut(state, event);
        continue;
      }
      const { pluginId } = event.data;
      if (event.type === "AbTestStarted") {
        testStarted.set(event.data.testId, { position: row.position, at: row.recordedAt });
      }
      const before = pluginOf(state, pluginId)?.active ?? null;
      evolveMut(state, event);
      if ((pluginOf(state, pluginId)?.active ?? null) !== before) {
        since.set(pluginId, { position: row.position, at: row.recordedAt });
      }
    }
  }
  const plugins = Object.entries(state.plugins).flatMap(([pluginId, plugin]) => {
    const started = since.get(pluginId);
    if (plugin.active === null || started === undefined) return [];
    const test = plugin.abTest;
    const testSince = test === null ? undefined : testStarted.get(test.testId);
    const abTest = test === null || testSince === undefined ? null : abTestStatus(test, testSince);
    const deprecated = versionOf(plugin, plugin.active)?.deprecated ?? false;
    const { at, position: sincePosition } = started;
    return [{ pluginId, version: plugin.active, since: at, sincePosition, deprecated, abTest }];
  });
  return {
    position: to,
    host: state.host,
    plugins: plugins.sort((a, b) => byText(a.pluginId, b.pluginId)),
  };
}
