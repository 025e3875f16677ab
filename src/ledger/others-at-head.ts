import type { RunningRow } from "../../projections/activations.ts";
import type { Head, StoredEvent } from "../store/index.ts";

/**
 * What a command reads of the plugins it does not name (`runningJson`: their running versions
 * and what `decide` reads of those releases), for one set of named plugins, and the head at which
 * they were true. Of a command's state load they were the costliest part on the server and in
 * Node, and they rarely change: a command sends the head it holds them for with its load, and the
 * load, run under the head lock, leaves them out when the head is still that one (same position
 * and hash: nothing has been appended since, by this process or another); the command then uses
 * these. A mismatch of any kind reads them again, so nothing here can be stale at the head.
 */
export type OthersAtHead = {
  /** The named plugins, sorted and joined (see `namedKey`). */
  named: string;
  position: number;
  hash: Buffer;
  rows: readonly RunningRow[];
};

/**
 * One ledger's rows, the last ones read or carried forward. Concurrent commands of one process
 * may keep rows in any order: each entry is a fact about its own head, and the server compares
 * heads, so an older entry only costs a read.
 */
export function othersAtHead() {
  let kept: OthersAtHead | undefined;
  return {
    /** The rows to offer a load for these named plugins, if any. */
    offer(named: string): OthersAtHead | undefined {
      return kept?.named === named ? kept : undefined;
    },
    keep(entry: OthersAtHead): void {
      kept = entry;
    },
  };
}

export type OthersCache = ReturnType<typeof othersAtHead>;

/**
 * Rows read from the database, frozen before they are kept: a command that changed the rows it
 * was handed would fail, instead of passing the change on to the commands after it.
 */
export function frozenRows(rows: readonly RunningRow[]): readonly RunningRow[] {
  for (const row of rows) Object.freeze(Object.freeze(row)[4]);
  return Object.freeze(rows);
}

export function namedKey(named: ReadonlySet<string>): string {
  return [...named].sort().join(",");
}

/**
 * The rows used, at the head an append of these events committed, if they did not change: a plugin's
 * rows in active_plugins and plugin_versions change only by events about that plugin (its own
 * stream, `data.pluginId`), so when every event is about a named plugin the others' rows stay as
 * they were. Any other event (the host's, an audit chat's) drops them, to be read again.
 */
export function carriedForward(
  used: Pick<OthersAtHead, "named" | "rows">,
  named: ReadonlySet<string>,
  written: readonly StoredEvent[],
  after: Head,
): OthersAtHead | undefined {
  const aboutNamed = written.every((event) => {
    const pluginId = (event.data as { pluginId?: unknown } | null)?.pluginId;
    return typeof pluginId === "string" && named.has(pluginId);
  });
  if (!aboutNamed || written.length === 0) return undefined;
  return { ...used, position: after.position, hash: after.hash };
}
