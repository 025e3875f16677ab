import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  appendLeaves,
  type Hash,
  inclusionRanges,
  leafHash,
  rangeHash,
  rootOfFrontier,
} from "../../src/domain/merkle-tree.ts";
import {
  formatCheckpoint,
  formatVerifierKey,
  NoteError,
  openNote,
  parseCheckpoint,
  parseNote,
  parsePrivateKey,
  parseVerifierKey,
  signerFromSeed,
  signNote,
} from "../../src/domain/signed-note.ts";
import { formatProofFile, type ProvableEvent, verifyProofFile } from "../../src/ledger/proof-file.ts";
import { eventHash, GENESIS_HASH } from "../../src/store/hash-chain.ts";

const signer = signerFromSeed("example.com/ledger", Buffer.alloc(32, 1));
const verifier = parseVerifierKey(formatVerifierKey(signer));

function chain(count: number): ProvableEvent[] {
  const events: ProvableEvent[] = [];
  let prevHash: Buffer = GENESIS_HASH;
  for (let position = 1; position <= count; position++) {
    const event = {
      position,
      streamId: "plugin-combined_v3",
      streamVersion: position,
      eventId: `00000000-0000-4000-8000-${String(position).padStart(12, "0")}`,
      type: "VersionReleased",
      schemaVersion: 1,
      data: { pluginId: "combined_v3", version: `1.0.${position}`, notes: "naïve — ünïcode" },
      metadata: { actor: { kind: "cli", id: "auditor" }, reason: "test" },
      recordedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, position)),
      prevHash,
    };
    const hash = eventHash(event);
    events.push({ ...event, hash });
    prevHash = hash;
  }
  return events;
}

function proofOf(events: ProvableEvent[], position: number, origin = signer.name): string {
  const leaves = events.map((e) => leafHash(e.hash));
  const { completed, frontier } = appendLeaves([], 0, leaves);
  const nodes = new Map(completed.map((n) => [`${n.level}/${n.index}`, n.hash]));
  const lookup = (s: { level: number; index: number }) => nodes.get(`${s.level}/${s.index}`) as Hash;
  const proof = inclusionRanges(position - 1, events.length).map((r) => rangeHash(r, lookup));
  const note = signNote(
    formatCheckpoint({ origin, size: events.length, rootHash: rootOfFrontier(frontier) }),
    signer,
  );
  return formatProofFile(events[position - 1] as ProvableEvent, proof, note);
}

describe("proof files", () => {
  const events = chain(11);
  const file = proofOf(events, 6);

  it("verify as written", () => {
    expect(verifyProofFile(file, verifier)).toMatchObject({ ok: true, position: 6, treeSize: 11 });
    for (let p = 1; p <= 11; p++) expect(verifyProofFile(proofOf(events, p), verifier).ok).toBe(true);
  });

  it("are rejected with one line whichever single byte is changed", () => {
    const bytes = Buffer.from(file);
    for (let i = 0; i < bytes.length; i++) {
      for (const flip of [0x01, 0x20]) {
        const changed = Buffer.from(file);
        changed[i] = (changed[i] as number) ^ flip;
        const check = verifyProofFile(changed.toString("utf8"), verifier);
        expect(check.ok, `byte ${i} ^ ${flip}`).toBe(false);
        if (!check.ok) expect(check.reason).not.toContain("\n");
      }
    }
  });

  it("are rejected for another origin, or a key that did not sign", () => {
    expect(verifyProofFile(proofOf(events, 2, "another/log"), verifier)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/another\/log/),
    });
    const stranger = parseVerifierKey(formatVerifierKey(signerFromSeed(signer.name, Buffer.alloc(32, 2))));
    expect(verifyProofFile(file, stranger)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not signed by/),
    });
  });

  it("never throw on arbitrary input: a failure is a reason", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.constant(file.slice(0, 200))), (text) => {
        const check = verifyProofFile(text, verifier);
        expect(check.ok).toBe(false);
      }),
    );
  });
});

describe("signed notes and keys", () => {
  it("round-trip the private key, whose base64 may hold +", () => {
    for (let seed = 0; seed < 20; seed++) {
      const s = signerFromSeed("a/b", Buffer.alloc(32, seed));
      const key = `PRIVATE+KEY+a/b+${s.keyId.toString("hex")}+${Buffer.concat([Buffer.from([1]), Buffer.alloc(32, seed)]).toString("base64")}`;
      expect(parsePrivateKey(key).publicKey).toEqual(s.publicKey);
      expect(parseVerifierKey(formatVerifierKey(s)).keyId).toEqual(s.keyId);
    }
  });

  it("open only with the signer's key, and keep other signers' lines (cosignatures) apart", () => {
    const text = formatCheckpoint({ origin: "example.com/ledger", size: 3, rootHash: Buffer.alloc(32, 5) });
    const note = signNote(text, signer);
    const witness = signerFromSeed("witness.example", Buffer.alloc(32, 3));
    const cosigned = `${note}${signNote(text, witness).slice(text.length + 1)}`;
    expect(openNote(cosigned, verifier)).toBe(text);
    expect(openNote(cosigned, parseVerifierKey(formatVerifierKey(witness)))).toBe(text);
    expect(parseCheckpoint(openNote(note, verifier))).toEqual({
      origin: "example.com/ledger",
      size: 3,
      rootHash: Buffer.alloc(32, 5),
    });
    const forged = note.replace("\n3\n", "\n4\n");
    expect(() => openNote(forged, verifier)).toThrow(/does not verify/);
  });

  it("parsers answer anything with a value or a NoteError, nothing else", () => {
    const parsers = [
      parseNote,
      parseVerifierKey,
      parsePrivateKey,
      parseCheckpoint,
      (t: string) => openNote(t, verifier),
    ];
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        for (const parse of parsers) {
          try {
            parse(text);
          } catch (error) {
            expect(error).toBeInstanceOf(NoteError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
