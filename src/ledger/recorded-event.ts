import { ledgerEvents } from "../../projections/ledger-projection.ts";
import { type LedgerEvent, parseEvent } from "../domain/index.ts";
import type { Metadata, StoredEvent } from "../store/index.ts";

/** An event as the ledger hands it out: data validated and typed, hashes as hex, JSON-ready. */
export type RecordedEvent = LedgerEvent & {
  position: number;
  streamId: string;
  streamVersion: number;
  eventId: string;
  schemaVersion: number;
  metadata: Metadata;
  recordedAt: Date;
  prevHash: string;
  hash: string;
};

export function recordedEvent(row: StoredEvent): RecordedEvent {
  return recordedOf(row, parseEvent(row.type, row.data));
}

/**
 * The events an append wrote, as `recordedEvent` gives them: the data of a decision's own events
 * is typed by construction and not validated again (the projections' `ledgerEvents` of the same
 * batch, already made), anything else is.
 */
export function recordedEvents(rows: readonly StoredEvent[]): RecordedEvent[] {
  const typed = ledgerEvents(rows);
  return rows.map((row, i) => recordedOf(row, typed[i] as LedgerEvent));
}

function recordedOf(row: StoredEvent, event: LedgerEvent): RecordedEvent {
  return {
    ...event,
    position: row.position,
    streamId: row.streamId,
    streamVersion: row.streamVersion,
    eventId: row.eventId,
    schemaVersion: row.schemaVersion,
    metadata: row.metadata,
    recordedAt: row.recordedAt,
    prevHash: row.prevHash.toString("hex"),
    hash: row.hash.toString("hex"),
  };
}
