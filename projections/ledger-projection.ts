import type pg from "pg";
import {
  type EventType,
  emptyPluginState,
  type LedgerEvent,
  type LedgerState,
  type PluginState,
  parseEvent,
  pluginOf,
} from "../src/domain/index.ts";
import type { InlineProjection, StatementNamer, StoredEvent } from "../src/store/index.ts";
import type { Tables } from "../src/store/tables.ts";

/**
 * An inline projection and the tables it owns: a rebuild empties exactly those, then refills them
 * one of three ways (projections/rebuild.ts), none of which folds every event:
 * - `statements`: set-based over the events table, the whole history up to a position at once;
 * - `eventTypes`: `apply` folds the events of these types only, read in position order;
 * - `fromHashes`: a fold of the events' hashes as the rebuild's chain walk reads them, batch after
 *   batch in position order, answering the statement that stores what a batch adds, if any.
 */
export type LedgerProjection = InlineProjection & {
  tables: readonly string[];
  rebuild:
    | { statements: (tables: Tables, toPosition: number) => pg.QueryConfig[] }
    | { eventTypes: readonly EventType[] }
    | { fromHashes: (tables: Tables, named: StatementNamer) => HashFold };
};

/** Takes the next hashes of the chain, in order from position 1; the statement that stores them, if any. */
export type HashFold = (hashes: readonly Buffer[]) => pg.QueryConfig | null;

/**
 * A plugin's state in a LedgerState being loaded from the projections, made empty on first use:
 * what each projection's row-to-state mapper fills (src/ledger/state-loader.ts).
 */
export type PluginOf = (pluginId: string) => PluginState;

/** The PluginOf of a state being loaded: each plugin made empty the first time it is named. */
export function pluginsIn(state: LedgerState): PluginOf {
  return (pluginId) => {
    const found = pluginOf(state, pluginId);
    if (found) return found;
    const created = emptyPluginState();
    state.plugins[pluginId] = created;
    return created;
  };
}

type Plan = (events: StoredEvent[], tables: Tables, named: StatementNamer) => pg.QueryConfig[];

/** A projection whose statements never depend on a read: `apply` runs its plan, in order. */
export function planned(
  projection: Pick<LedgerProjection, "name" | "tables" | "rebuild"> & { plan: Plan },
): LedgerProjection {
  return {
    ...projection,
    async apply(client, events, tables, named) {
      for (const statement of projection.plan(events, tables, named)) await client.query(statement);
    },
  };
}

/**
 * Remembers a value derived from a whole batch. The store hands every projection the same
 * batch array, so the first projection to ask pays and the others reuse it. Keyed by the
 * array, not by each event: a WeakMap entry per event would put a rebuild's cost in the garbage
 * collector.
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

/**
 * Event data the domain made itself (a decision's events, typed by construction), by identity:
 * the append that writes them hands the same objects to the projections, which need not
 * validate them again. Anything read back from the table is validated.
 */
const decided = new WeakSet<object>();

export function markDecided(events: readonly LedgerEvent[]): void {
  for (const event of events) decided.add(event.data);
}

/** The batch's events with their data validated by the domain's schemas, in the same order. */
export const ledgerEvents: (events: readonly StoredEvent[]) => LedgerEvent[] = perBatch((events) =>
  events.map((event) =>
    typeof event.data === "object" && event.data !== null && decided.has(event.data)
      ? ({ type: event.type, data: event.data } as LedgerEvent)
      : parseEvent(event.type, event.data),
  ),
);

/**
 * Whether the event is of one of these types: what a projection that folds only its own types
 * (`rebuild.eventTypes`) picks out of a batch, with the same list the rebuild reads them by.
 */
export function isOneOf<T extends EventType>(
  types: readonly T[],
  event: LedgerEvent | undefined,
): event is Extract<LedgerEvent, { type: T }> {
  return event !== undefined && (types as readonly EventType[]).includes(event.type);
}

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

/**
 * SQL of the actor as `actorOf` makes it, from an event's metadata `m`: kind, id and name, the
 * name only where the metadata has one.
 */
export const ACTOR_SQL = `CASE WHEN m.metadata->'actor' ? 'name'
  THEN jsonb_build_object('kind', m.metadata->'actor'->'kind', 'id', m.metadata->'actor'->'id',
                          'name', m.metadata->'actor'->'name')
  ELSE jsonb_build_object('kind', m.metadata->'actor'->'kind', 'id', m.metadata->'actor'->'id') END`;

/** SQL of the reason as `reasonOf` reads it: the metadata's reason if it is a string. */
export const REASON_SQL = `CASE WHEN jsonb_typeof(m.metadata->'reason') = 'string' THEN m.metadata->>'reason' END`;

/**
 * A WITH part that ends the rows of `table` still open (`open` IS NULL), one per key in the
 * arrays of `columns` (the key first, parameters from `$first`), setting `set` from them (`c.`);
 * RETURNING 1, so that a later part can read it, which makes the UPDATE run to the end first.
 */
export function endOpenRows(o: {
  table: string;
  open: string;
  first: number;
  columns: readonly [name: string, type: string][];
  set: string;
}): string {
  const [key] = o.columns[0] ?? ["?"];
  const arrays = o.columns.map(([, type], i) => `$${o.first + i}::${type}[]`).join(", ");
  const names = o.columns.map(([name]) => name).join(", ");
  return `UPDATE ${o.table} AS o SET ${o.set}
             FROM unnest(${arrays}) AS c(${names})
            WHERE o.${key} = c.${key} AND o.${o.open} IS NULL
           RETURNING 1`;
}
