/**
 * The JSON documents of the ledger's answers, as `--json` prints them and the HTTP API sends
 * them: one builder per shape, so both transports answer the same question the same way.
 */
import type { StatusView } from "./queries/status.ts";
import type { TimelineView } from "./queries/timeline.ts";
import type { RecordedEvent } from "./recorded-event.ts";

/** `status`, `asof` and `replay`: the point, the host's versions and every running plugin. */
export function statusDocument(view: StatusView) {
  return { position: view.position, host: view.host, plugins: view.plugins };
}

/** `versions`, `history`, `audit`, `abtest assign`: a list. */
export function itemsDocument<T>(items: readonly T[]) {
  return { items };
}

/** `timeline --format json`: the window and its intervals. */
export function timelineDocument(view: TimelineView) {
  return { from: view.from, to: view.to, items: view.items };
}

/** `events`: one event a line (JSON lines). */
export function eventLine(event: RecordedEvent): string {
  return JSON.stringify(event);
}
