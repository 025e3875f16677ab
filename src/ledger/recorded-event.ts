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
  return {
    ...parseEvent(row.type, row.data),
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
