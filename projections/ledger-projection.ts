import { type LedgerEvent, parseEvent } from "../src/domain/index.ts";
import type { InlineProjection, StoredEvent } from "../src/store/index.ts";

/** An inline projection and the tables it owns: `rebuild` empties exactly those. */
export type LedgerProjection = InlineProjection & { tables: readonly string[] };

/**
 * Remembers a value derived from a whole batch. The store hands every projection the same
 * batch array, so the first projection to ask pays and the others reuse it. Keyed by the
 * array, not by each event: a WeakMap of a million events made the garbage collector, not the
 * parse, the cost of a rebuild.
 */
export function perBatch<T>(derive: (events: readonly StoredEvent[]) => T) {
  const cache = new WeakMap<readonly StoredEvent[], T>();
  return (events: readonly StoredEvent[]): T => {
    let found = cache.get(events);
    if (found === undefined) {
      found = derive(events);
      cache.set(events, found);
    }
    return found;
  };
}

/** The batch's events with their data validated by the domain's schemas, in the same order. */
export const ledgerEvents: (events: readonly StoredEvent[]) => LedgerEvent[] = perBatch((events) =>
  events.map((event) => parseEvent(event.type, event.data)),
);

type Actor = StoredEvent["metadata"]["actor"];
let lastActor: Actor | undefined;
let lastActorJson = "";

/**
 * The actor's kind, id and name as JSON text, ready for a jsonb[] parameter. Runs of events
 * share their actor (one append, one operator), so the text is made again only when a field
 * differs; it is made from those fields alone, so equal fields always give equal text.
 */
export function actorOf(event: StoredEvent): string {
  const { kind, id, name } = event.metadata.actor;
  if (kind !== lastActor?.kind || id !== lastActor.id || name !== lastActor.name) {
    lastActor = { kind, id, name };
    lastActorJson = JSON.stringify(lastActor);
  }
  return lastActorJson;
}

export function reasonOf(event: StoredEvent): string | null {
  return typeof event.metadata.reason === "string" ? event.metadata.reason : null;
}

/**
 * Values that repeat along a batch (one append has one actor and one reason), sent once each
 * in a small array that rows refer to by 1-based index: parsing a jsonb value per row was a
 * large part of an insert's time.
 */
export function interned<T>() {
  const indexes = new Map<T, number>();
  const values: T[] = [];
  return {
    values,
    ref(value: T): number {
      let index = indexes.get(value);
      if (index === undefined) {
        index = values.push(value);
        indexes.set(value, index);
      }
      return index;
    },
  };
}
