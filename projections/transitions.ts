import type { LedgerEvent } from "../src/domain/index.ts";
import type { StoredEvent } from "../src/store/index.ts";
import { actorOf, ledgerEvents, reasonOf } from "./ledger-projection.ts";

export type ActivationAction = "registered" | "upgraded" | "downgraded" | "rolled_back" | "promoted";

/** A change of the version a plugin runs; `version` null means it stops running. */
export type Transition = {
  pluginId: string;
  version: string | null;
  action: ActivationAction | "deactivated";
  position: number;
  at: Date;
  /** The actor as JSON text, ready for a jsonb parameter. */
  actor: string;
  reason: string | null;
};

/**
 * The transitions of a batch, in position order. They rely on what the rules guarantee
 * (decide.ts refuses the rest as ALREADY / NOT_FOUND, even forced): every activation changes
 * the running version and every deactivation ends one, so no transition is a no-op.
 */
export function transitionsOf(events: readonly StoredEvent[]): Transition[] {
  const parsed = ledgerEvents(events);
  const transitions: Transition[] = [];
  events.forEach((row, i) => {
    const event = parsed[i] as LedgerEvent;
    let version: string | null;
    let action: Transition["action"];
    switch (event.type) {
      case "PluginRegistered":
        [version, action] = [event.data.version, "registered"];
        break;
      case "PluginUpgraded":
        [version, action] = [event.data.to, event.data.direction === "down" ? "downgraded" : "upgraded"];
        break;
      case "PluginRolledBack":
        [version, action] = [event.data.to, "rolled_back"];
        break;
      case "AbTestPromoted":
        [version, action] = [event.data.candidate, "promoted"];
        break;
      case "PluginDeactivated":
        [version, action] = [null, "deactivated"];
        break;
      default:
        // The other A/B events do not change what runs; ab_tests will read them.
        return;
    }
    // A literal of fixed shape, not a spread: this runs for every event a rebuild reads.
    transitions.push({
      pluginId: event.data.pluginId,
      version,
      action,
      position: row.position,
      at: row.recordedAt,
      actor: actorOf(row),
      reason: reasonOf(row),
    });
  });
  return transitions;
}

/** An interval a batch opens, and the transition of the same batch that closes it, if any. */
export type Interval = { transition: Transition; closedBy: Transition | null };

/**
 * The batch as intervals: `closing` holds each plugin's first transition, which ends the
 * interval open before the batch; `opened` the intervals the batch starts; `last` each
 * plugin's last transition, which says what it runs after the batch.
 */
export function intervalsOf(transitions: Transition[]) {
  const closing: Transition[] = [];
  const opened: Interval[] = [];
  const last = new Map<string, Transition>();
  const openInBatch = new Map<string, Interval | null>();
  for (const transition of transitions) {
    const open = openInBatch.get(transition.pluginId);
    if (open === undefined) closing.push(transition);
    else if (open !== null) open.closedBy = transition;
    if (transition.version === null) {
      openInBatch.set(transition.pluginId, null);
    } else {
      const interval = { transition, closedBy: null };
      opened.push(interval);
      openInBatch.set(transition.pluginId, interval);
    }
    last.set(transition.pluginId, transition);
  }
  return { closing, opened, last: [...last.values()] };
}
