import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";

/**
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519, and the checkpoint body they carry
 * (c2sp.org/tlog-checkpoint). Pure: keys come in as bytes; signing with Ed25519 is deterministic.
 *
 * A note is text (non-empty lines, each ending in "\n"), a blank line, then signature lines
 * "— <key name> <base64(key id ‖ signature)>", the dash being U+2014. The signature covers the
 * text with its final newline. An Ed25519 key's id is the first 4 bytes of
 * SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key); its verifier key is "<name>+<id hex>+<base64(0x01 ‖ public key)>".
 * The private key file holds "PRIVATE+KEY+<name>+<id hex>+<base64(0x01 ‖ seed)>", the form Go's
 * golang.org/x/mod/sumdb/note reads, so other tools can use the same key.
 */
const ED25519 = 0x01;
const SIGNATURE_PREFIX = "— ";
/** A note may carry the log's signature and cosignatures of witnesses; more is not a note we wrote. */
const MAX_SIGNATURES = 100;
// DER wrappers of a raw 32-byte Ed25519 key, so that node:crypto takes it without a PEM.
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export type Verifier = { name: string; keyId: Buffer; publicKey: Buffer };
export type Signer = Verifier & { privateKey: KeyObject };

export class NoteError extends Error {
  override name = "NoteError";
}

/** A key name: non-empty, no whitespace, no "+" (the separator of the key texts). */
export function isKeyName(name: string): boolean {
  return name.length > 0 && name.length <= 256 && !/[\s+]/u.test(name);
}

export function keyIdOf(name: string, publicKey: Buffer): Buffer {
  return createHash("sha256")
    .update(name)
    .update(Buffer.from([0x0a, ED25519]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

/** The Ed25519 signer of a 32-byte seed. */
export function signerFromSeed(name: string, seed: Buffer): Signer {
  if (!isKeyName(name)) throw new NoteError(`"${name}" is not a key name (no spaces, no "+")`);
  if (seed.length !== 32) throw new NoteError("an Ed25519 seed is 32 bytes");
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  const publicKey = Buffer.from(spki.subarray(spki.length - 32));
  return { name, keyId: keyIdOf(name, publicKey), publicKey, privateKey };
}

export function formatVerifierKey(key: Verifier): string {
  const body = Buffer.concat([Buffer.from([ED25519]), key.publicKey]).toString("base64");
  return `${key.name}+${key.keyId.toString("hex")}+${body}`;
}

export function formatPrivateKey(name: string, seed: Buffer): string {
  const signer = signerFromSeed(name, seed);
  const body = Buffer.concat([Buffer.from([ED25519]), seed]).toString("base64");
  return `PRIVATE+KEY+${name}+${signer.keyId.toString("hex")}+${body}`;
}

/** Splits "a+b+rest" in `count` parts: the last one is base64, which may hold "+" itself. */
function splitKey(text: string, count: number): string[] | null {
  const parts: string[] = [];
  let rest = text.trim();
  for (let i = 1; i < count; i++) {
    const at = rest.indexOf("+");
    if (at < 0) return null;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  parts.push(rest);
  return parts;
}

export function parseVerifierKey(text: string): Verifier {
  const parts = splitKey(text, 3);
  if (parts === null) throw new NoteError("a verifier key is <name>+<key id hex>+<base64 key>");
  const [name, idHex, body] = parts as [string, string, string];
  if (!isKeyName(name)) throw new NoteError("the verifier key's name is empty or has spaces");
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new NoteError("the verifier key's id is not 8 hex digits");
  const bytes = strictBase64(body);
  if (bytes === null || bytes.length !== 33 || bytes[0] !== ED25519) {
    throw new NoteError("the verifier key is not an Ed25519 key (0x01 and 32 bytes, in base64)");
  }
  const publicKey = Buffer.from(bytes.subarray(1));
  if (!keyIdOf(name, publicKey).equals(Buffer.from(idHex, "hex"))) {
    throw new NoteError("the verifier key's id does not match its name and key");
  }
  return { name, keyId: Buffer.from(idHex, "hex"), publicKey };
}

export function parsePrivateKey(text: string): Signer {
  const parts = splitKey(text, 5);
  if (parts === null || parts[0] !== "PRIVATE" || parts[1] !== "KEY") {
    throw new NoteError("a signing key file holds PRIVATE+KEY+<name>+<key id hex>+<base64 key>");
  }
  const [, , name, idHex, body] = parts as [string, string, string, string, string];
  const bytes = strictBase64(body);
  if (bytes === null || bytes.length !== 33 || bytes[0] !== ED25519) {
    throw new NoteError("the signing key is not an Ed25519 key (0x01 and a 32-byte seed, in base64)");
  }
  const signer = signerFromSeed(name, Buffer.from(bytes.subarray(1)));
  if (signer.keyId.toString("hex") !== idHex) {
    throw new NoteError("the signing key's id does not match its name and key");
  }
  return signer;
}

/** Base64 that decodes to exactly what it says: Buffer.from ignores stray characters and padding bits. */
export function strictBase64(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : null;
}

export function signNote(text: string, signer: Signer): string {
  checkNoteText(text);
  const signature = sign(null, Buffer.from(text), signer.privateKey);
  return `${text}\n${signatureLine(signer, signature)}`;
}

function signatureLine(key: Verifier, signature: Buffer): string {
  return `${SIGNATURE_PREFIX}${key.name} ${Buffer.concat([key.keyId, signature]).toString("base64")}\n`;
}

function checkNoteText(text: string): void {
  if (text.length === 0 || !text.endsWith("\n")) throw new NoteError("a note's text ends with a newline");
  if (text.includes("\n\n")) throw new NoteError("a note's text has no blank line");
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) throw new NoteError("a note's text has no control characters");
  }
}

export type NoteSignature = { name: string; keyId: Buffer; signature: Buffer };

/** A note split into its text and its signature lines, checked for form only. */
export function parseNote(note: string): { text: string; signatures: NoteSignature[] } {
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new NoteError("the note has no blank line before its signatures");
  const text = note.slice(0, split + 1);
  checkNoteText(text);
  const lines = note.slice(split + 2);
  if (!lines.endsWith("\n")) throw new NoteError("the note's last signature line has no newline");
  const signatures = lines
    .slice(0, -1)
    .split("\n")
    .map((line) => {
      if (!line.startsWith(SIGNATURE_PREFIX))
        throw new NoteError('a signature line does not start with "— "');
      const [name, body, extra] = line.slice(SIGNATURE_PREFIX.length).split(" ");
      const bytes = body === undefined ? null : strictBase64(body);
      if (
        name === undefined ||
        !isKeyName(name) ||
        extra !== undefined ||
        bytes === null ||
        bytes.length < 5
      ) {
        throw new NoteError('a signature line is not "— <name> <base64 key id and signature>"');
      }
      return { name, keyId: Buffer.from(bytes.subarray(0, 4)), signature: Buffer.from(bytes.subarray(4)) };
    });
  if (signatures.length > MAX_SIGNATURES) throw new NoteError("the note has too many signatures");
  return { text, signatures };
}

/**
 * The note's text if the verifier's key signed it. Other keys' lines (witnesses' cosignatures)
 * are left alone; a line of this key that does not verify rejects the note.
 */
export function openNote(note: string, verifier: Verifier): string {
  const { text, signatures } = parseNote(note);
  const mine = signatures.find((s) => s.name === verifier.name && s.keyId.equals(verifier.keyId));
  if (!mine) {
    const names = signatures.map((s) => `${s.name}+${s.keyId.toString("hex")}`).join(", ");
    throw new NoteError(
      `the note is not signed by ${verifier.name}+${verifier.keyId.toString("hex")} (signed by ${names})`,
    );
  }
  const publicKey = createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, verifier.publicKey]),
    format: "der",
    type: "spki",
  });
  if (mine.signature.length !== 64 || !verify(null, Buffer.from(text), publicKey, mine.signature)) {
    throw new NoteError(`the signature of ${verifier.name} does not verify`);
  }
  return text;
}

/** A checkpoint (c2sp.org/tlog-checkpoint): the log's origin, its size and its root. */
export type Checkpoint = { origin: string; size: number; rootHash: Buffer };

export function formatCheckpoint(checkpoint: Checkpoint): string {
  if (checkpoint.origin.length === 0 || /[\n\r]/.test(checkpoint.origin)) {
    throw new NoteError("a checkpoint's origin is one non-empty line");
  }
  return `${checkpoint.origin}\n${checkpoint.size}\n${checkpoint.rootHash.toString("base64")}\n`;
}

/** Reads a checkpoint body; extension lines after the root are allowed and ignored. */
export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split("\n");
  const [origin, size, root] = lines;
  if (lines.length < 4 || !origin || size === undefined || root === undefined) {
    throw new NoteError("a checkpoint is an origin, a size and a root hash, one a line");
  }
  if (!/^(0|[1-9][0-9]{0,15})$/.test(size) || !Number.isSafeInteger(Number(size))) {
    throw new NoteError(`the checkpoint's size "${size}" is not a decimal number`);
  }
  const rootHash = strictBase64(root);
  if (rootHash === null || rootHash.length !== 32) {
    throw new NoteError("the checkpoint's root hash is not 32 bytes in base64");
  }
  return { origin, size: Number(size), rootHash };
}
