import { randomBytes } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import {
  formatPrivateKey,
  formatVerifierKey,
  NoteError,
  parsePrivateKey,
  type Signer,
  signerFromSeed,
} from "../domain/signed-note.ts";

export class SigningKeyError extends Error {
  override name = "SigningKeyError";
}

/** A new Ed25519 key: the private key file's text and the verifier key auditors are given. */
export function generateSigningKey(name: string): { privateKey: string; verifierKey: string } {
  const seed = randomBytes(32);
  try {
    return {
      privateKey: `${formatPrivateKey(name, seed)}\n`,
      verifierKey: formatVerifierKey(signerFromSeed(name, seed)),
    };
  } catch (error) {
    if (error instanceof NoteError) throw new SigningKeyError(error.message);
    throw error;
  }
}

/** Writes a private key file readable by its owner only; refuses to overwrite one. */
export function writeSigningKey(path: string, privateKey: string): void {
  try {
    writeFileSync(path, privateKey, { mode: 0o600, flag: "wx" });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EEXIST") throw new SigningKeyError(`${path} exists; a signing key is never overwritten`);
    throw new SigningKeyError(`cannot write ${path}: ${(error as Error).message}`);
  }
}

/** Reads the signing key of LEDGER_SIGNING_KEY_FILE; one line on what is wrong with it. */
export function readSigningKey(path: string): Signer {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SigningKeyError(`cannot read the signing key ${path}: ${(error as Error).message}`);
  }
  // A key others can read is a key others may sign with.
  if ((statSync(path).mode & 0o077) !== 0 && process.platform !== "win32") {
    throw new SigningKeyError(`the signing key ${path} is readable by others; chmod 600 it`);
  }
  try {
    return parsePrivateKey(text);
  } catch (error) {
    if (error instanceof NoteError) throw new SigningKeyError(`the signing key ${path}: ${error.message}`);
    throw error;
  }
}
