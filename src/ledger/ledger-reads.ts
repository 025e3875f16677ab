import { projections } from "../../projections/index.ts";
import type { LedgerCore, LedgerReads } from "./ledger-type.ts";
import { type Assignment, assignments } from "./queries/assignment.ts";
import { auditChats } from "./queries/audit-chats.ts";
import { diff, matrix, versions } from "./queries/catalog.ts";
import { audit, history } from "./queries/history.ts";
import { readiness } from "./queries/readiness.ts";
import { activeVersion, asOf, headPosition, pluginStatus, status } from "./queries/status.ts";
import { timeline } from "./queries/timeline.ts";

/** The ledger's queries, each run again on a new connection when its connection is lost. */
export function readsOf(core: LedgerCore): LedgerReads {
  const { pool, tables, retry, clock } = core;
  return {
    status: () => retry("status", () => status(pool, tables)),
    plugin: (pluginId) => retry("plugin", () => pluginStatus(pool, tables, pluginId)),
    head: () => retry("head", () => headPosition(pool, tables)),
    // Not retried: a readiness probe answers at once whether the database is reachable now.
    readiness: () =>
      readiness(
        pool,
        tables,
        projections.map((p) => p.name),
      ),
    activeVersion: (pluginId) => retry("activeVersion", () => activeVersion(pool, tables, pluginId)),
    versions: (pluginId) => retry("versions", () => versions(pool, tables, pluginId)),
    history: (pluginId, historyOptions) =>
      retry("history", () => history(pool, tables, pluginId, historyOptions)),
    diff: (pluginId, from, to) => retry("diff", () => diff(pool, tables, pluginId, from, to)),
    matrix: () => retry("matrix", () => matrix(pool, tables)),
    audit: (auditOptions) => retry("audit", () => audit(pool, tables, auditOptions)),
    asOf: (at) => retry("asOf", () => asOf(pool, tables, at)),
    async assign(pluginId, unitKey, at) {
      const [assignment] = await retry("assign", () => assignments(pool, tables, pluginId, [unitKey], at));
      return assignment as Assignment;
    },
    assignMany: (pluginId, unitKeys, at) =>
      retry("assign", () => assignments(pool, tables, pluginId, unitKeys, at)),
    timeline: (pluginIds, timelineOptions = {}) =>
      retry("timeline", () => timeline(pool, tables, pluginIds, timelineOptions, clock())),
    auditChats: () => retry("auditChats", () => auditChats(pool, tables)),
  };
}
