import { z } from "zod";
import { type Hash, leafHash, verifyInclusion } from "../domain/merkle-tree.ts";
import { NoteError, openNote, parseCheckpoint, strictBase64, type Verifier } from "../domain/signed-note.ts";
import { eventHash, type HashedFields } from "../store/hash-chain.ts";

/**
 * A proof file: one event, and the proof that a signed checkpoint's tree holds it, checked with
 * no database at all. JSON, so that an auditor can read the event:
 *
 *   { "format": "plugin-ledger-proof@v1",
 *     "event": { every column the event's hash covers, and the hash },
 *     "proof": "<a C2SP tlog-proof: index, inclusion hashes, blank line, the checkpoint note>" }
 *
 * The leaf is the event's hash, recomputed from its columns as src/store/hash-chain.ts says.
 * The file must be byte for byte as written (it is JSON.stringify's two-space form): a changed
 * byte that still parses to the same values is refused too.
 */
export const PROOF_FORMAT = "plugin-ledger-proof@v1";
const TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1";

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hex digits");

const EventSchema = z.strictObject({
  position: z.number().int().positive(),
  streamId: z.string(),
  streamVersion: z.number().int().positive(),
  eventId: z.string(),
  type: z.string(),
  schemaVersion: z.number().int(),
  data: z.unknown(),
  metadata: z.unknown(),
  recordedAt: z.string(),
  prevHash: hex32,
  hash: hex32,
});

const ProofFileSchema = z.strictObject({
  format: z.literal(PROOF_FORMAT),
  event: EventSchema,
  proof: z.string(),
});

export type ProofEvent = z.infer<typeof EventSchema>;

/** An event with every column its hash covers, and the hash itself. */
export type ProvableEvent = HashedFields & { hash: Buffer };

export function formatProofFile(event: ProvableEvent, inclusion: readonly Hash[], note: string): string {
  const tlogProof = [
    TLOG_PROOF_HEADER,
    `index ${event.position - 1}`,
    ...inclusion.map((h) => h.toString("base64")),
  ]
    .map((line) => `${line}\n`)
    .join("");
  const document = {
    format: PROOF_FORMAT,
    event: {
      position: event.position,
      streamId: event.streamId,
      streamVersion: event.streamVersion,
      eventId: event.eventId,
      type: event.type,
      schemaVersion: event.schemaVersion,
      data: event.data,
      metadata: event.metadata,
      recordedAt: event.recordedAt.toISOString(),
      prevHash: event.prevHash.toString("hex"),
      hash: event.hash.toString("hex"),
    },
    proof: `${tlogProof}\n${note}`,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

export type ProofCheck =
  | { ok: true; position: number; treeSize: number; origin: string; rootHash: string; event: ProofEvent }
  | { ok: false; reason: string };

/**
 * Checks a proof file against a verifier key, with nothing but the file: the event's hash from
 * its columns, the inclusion proof from that leaf to the checkpoint's root, the checkpoint's
 * signature, and its origin (the key's name unless another is expected). The first failure is
 * the answer, in one line.
 */
export function verifyProofFile(
  text: string,
  verifier: Verifier,
  expectedOrigin = verifier.name,
): ProofCheck {
  // One line, whatever a parser's message held (JSON.parse quotes the text it stopped at).
  const fail = (reason: string): ProofCheck => ({ ok: false, reason: reason.replace(/\s+/g, " ") });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail(`not a proof file: ${(error as Error).message}`);
  }
  const parsed = ProofFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(
      `not a proof file: ${issue?.path.join(".") || "the document"} ${issue?.message ?? "is invalid"}`,
    );
  }
  const { event, proof } = parsed.data;

  const recordedAt = new Date(event.recordedAt);
  if (Number.isNaN(recordedAt.getTime()) || recordedAt.toISOString() !== event.recordedAt) {
    return fail("the event's recordedAt is not an ISO-8601 UTC time with milliseconds");
  }
  let recomputed: Buffer;
  try {
    recomputed = eventHash({ ...event, recordedAt, prevHash: Buffer.from(event.prevHash, "hex") });
  } catch (error) {
    return fail(`the event cannot be hashed: ${(error as Error).message}`);
  }
  if (recomputed.toString("hex") !== event.hash) {
    return fail(`the event's content does not match its hash (recomputed ${recomputed.toString("hex")})`);
  }

  const tlog = parseTlogProof(proof);
  if (typeof tlog === "string") return fail(tlog);
  if (tlog.index !== event.position - 1) {
    return fail(
      `the proof is for leaf ${tlog.index}, the event at position ${event.position} is leaf ${event.position - 1}`,
    );
  }

  let checkpoint: ReturnType<typeof parseCheckpoint>;
  try {
    checkpoint = parseCheckpoint(openNote(tlog.note, verifier));
  } catch (error) {
    if (error instanceof NoteError) return fail(`checkpoint: ${error.message}`);
    throw error;
  }
  if (checkpoint.origin !== expectedOrigin) {
    return fail(`the checkpoint is of the log "${checkpoint.origin}", not "${expectedOrigin}"`);
  }
  if (tlog.index >= checkpoint.size) {
    return fail(`the checkpoint's tree has ${checkpoint.size} events, not position ${event.position}`);
  }
  const leaf = leafHash(Buffer.from(event.hash, "hex"));
  if (!verifyInclusion(tlog.index, checkpoint.size, leaf, tlog.hashes, checkpoint.rootHash)) {
    return fail(`the inclusion proof does not lead to the root of the checkpoint of size ${checkpoint.size}`);
  }
  if (text !== `${JSON.stringify(json, null, 2)}\n`) {
    return fail("the file is not byte for byte as plugin-ledger wrote it");
  }
  return {
    ok: true,
    position: event.position,
    treeSize: checkpoint.size,
    origin: checkpoint.origin,
    rootHash: checkpoint.rootHash.toString("base64"),
    event,
  };
}

/** A C2SP tlog-proof: header, optional extra, index, proof hashes, a blank line, the checkpoint note. */
function parseTlogProof(text: string): { index: number; hashes: Hash[]; note: string } | string {
  const split = text.indexOf("\n\n");
  if (split < 0) return "the proof has no blank line before its checkpoint";
  const lines = text.slice(0, split).split("\n");
  if (lines.shift() !== TLOG_PROOF_HEADER) return `the proof does not start with ${TLOG_PROOF_HEADER}`;
  if (lines[0]?.startsWith("extra ")) lines.shift();
  const index = /^index (0|[1-9][0-9]{0,15})$/.exec(lines.shift() ?? "");
  if (!index) return "the proof has no index line";
  const hashes: Hash[] = [];
  for (const line of lines) {
    const hash = strictBase64(line);
    if (hash === null || hash.length !== 32)
      return "a line of the inclusion proof is not a 32-byte hash in base64";
    hashes.push(hash);
  }
  if (hashes.length > 63) return "the inclusion proof is longer than any tree's";
  return { index: Number(index[1]), hashes, note: text.slice(split + 2) };
}
