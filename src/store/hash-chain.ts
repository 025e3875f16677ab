import { hash } from "node:crypto";

/**
 * The hash chain. Each event's hash is
 *
 *   sha256( canonicalJson({ data, eventId, metadata, position, prevHash, recordedAt,
 *                           schemaVersion, streamId, streamVersion, type }) )
 *
 * where canonicalJson sorts object keys by UTF-16 code unit at every depth, writes no whitespace,
 * drops keys whose value is undefined, and writes strings and numbers as JSON.stringify does;
 * prevHash is the previous event's hash in lower-case hex (64 zeros before position 1) and
 * recordedAt is ISO-8601 UTC with milliseconds. jsonb keeps values but not key order or spacing,
 * so the canonical form is computed from the parsed value on write, and on read from jsonb's text
 * (canonical-jsonb.ts, which gives what parsing that text and writing it canonically gives).
 * Every column of the row is covered, so an edited, deleted, inserted or reordered row breaks the
 * chain at its position.
 */
export const GENESIS_HASH = Buffer.alloc(32);

export type HashedFields = {
  position: number;
  streamId: string;
  streamVersion: number;
  eventId: string;
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: unknown;
  recordedAt: Date;
  prevHash: Buffer;
};

export function eventHash(e: HashedFields): Buffer {
  return eventHashOfJson(e, canonicalJson(e.data), canonicalJson(e.metadata));
}

/** The same hash, for a writer that already holds the canonical JSON of data and metadata. */
export function eventHashOfJson(e: HashedFields, dataJson: string, metadataJson: string): Buffer {
  const envelope = envelopeOf(
    { ...e, prevHash: e.prevHash.toString("hex"), recordedAt: e.recordedAt.toISOString() },
    dataJson,
    metadataJson,
  );
  return hash("sha256", envelope, "buffer") as unknown as Buffer;
}

/** The hashed fields as text: prevHash in hex, recordedAt in ISO-8601 UTC with milliseconds. */
export type HashedText = Omit<HashedFields, "prevHash" | "recordedAt" | "data" | "metadata"> & {
  prevHash: string;
  recordedAt: string;
};

/**
 * The hash in lower-case hex, from fields already in their text form (what `verify` reads): no
 * Date, no Buffer, and the one-shot `crypto.hash`, cheaper per call than a `createHash` for
 * envelopes this small.
 */
export function eventHashHexOfJson(e: HashedText, dataJson: string, metadataJson: string): string {
  return hash("sha256", envelopeOf(e, dataJson, metadataJson), "hex");
}

function envelopeOf(e: HashedText, dataJson: string, metadataJson: string): string {
  // Keys written in sorted order by hand: the envelope is fixed, only data and metadata vary.
  return (
    `{"data":${dataJson},"eventId":${JSON.stringify(e.eventId)}` +
    `,"metadata":${metadataJson},"position":${e.position}` +
    `,"prevHash":"${e.prevHash}","recordedAt":"${e.recordedAt}"` +
    `,"schemaVersion":${e.schemaVersion},"streamId":${JSON.stringify(e.streamId)}` +
    `,"streamVersion":${e.streamVersion},"type":${JSON.stringify(e.type)}}`
  );
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`cannot hash a ${typeof value} value`);
    return text;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return canonicalJson((value as { toJSON: () => unknown }).toJSON());
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? "null" : canonicalJson(item))).join(",")}]`;
  }
  const keys = Object.keys(value).sort();
  const parts: string[] = [];
  for (const key of keys) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
  }
  return `{${parts.join(",")}}`;
}
