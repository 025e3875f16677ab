import type { StoredEvent } from "../store/index.ts";
import { auditCheckpoint, checkConsistency, readCheckpointNote } from "./checkpoint-audit.ts";
import { checkpointStore, type SignedCheckpoint } from "./checkpoints.ts";
import type { LedgerCore, LedgerTransparency, Proof } from "./ledger-type.ts";
import { catchUpMerkle } from "./merkle-catch-up.ts";
import { inclusionProof, treeRoot } from "./merkle-proofs.ts";
import { formatProofFile } from "./proof-file.ts";

export class TransparencyError extends Error {
  override name = "TransparencyError";
}

/** The ledger's transparency log: its tree head, signed checkpoints, proofs and their checks. */
export function transparencyOf(core: LedgerCore): LedgerTransparency {
  const { pool, tables, store, retry, settings } = core;
  const origin = settings.origin ?? `plugin-ledger/${settings.schema}`;
  const checkpoints = checkpointStore(pool, tables);
  /** The tree at the head: caught up first if appends without projections left it behind. */
  async function currentSize(): Promise<number> {
    await catchUpMerkle(store);
    return (await store.head()).position;
  }
  async function sign(size: number): Promise<SignedCheckpoint> {
    const stored = await checkpoints.at(size);
    if (stored) return stored;
    if (!settings.signer)
      throw new TransparencyError("no signing key: set LEDGER_SIGNING_KEY_FILE (see plugin-ledger keygen)");
    return checkpoints.sign(settings.signer, origin, size);
  }
  async function provingCheckpoint(position: number, head: number, size?: number): Promise<SignedCheckpoint> {
    if (size !== undefined) {
      const checkpoint = await checkpoints.at(size);
      if (!checkpoint) throw new TransparencyError(`no signed checkpoint of size ${size} is stored`);
      if (size < position)
        throw new TransparencyError(`the checkpoint of size ${size} does not hold position ${position}`);
      return checkpoint;
    }
    const checkpoint =
      (await checkpoints.covering(position - 1)) ?? (settings.signer ? await sign(head) : null);
    if (!checkpoint) {
      throw new TransparencyError(
        `no signed checkpoint holds position ${position} yet, and no signing key is set to sign one`,
      );
    }
    return checkpoint;
  }
  async function prove(position: number, size?: number): Promise<Proof> {
    const head = await currentSize();
    if (!Number.isSafeInteger(position) || position < 1 || position > head) {
      throw new TransparencyError(`no event at position ${position} (the ledger holds ${head})`);
    }
    const checkpoint = await provingCheckpoint(position, head, size);
    const [event] = await store.readRange(position, position);
    const { proof, root } = await inclusionProof(pool, tables, position - 1, checkpoint.size);
    if (root.toString("base64") !== checkpoint.rootHash) {
      throw new TransparencyError(
        `the stored tree's root of size ${checkpoint.size} is not the signed one: the tree or the events changed; run verify --checkpoint`,
      );
    }
    return { position, checkpoint, file: formatProofFile(event as StoredEvent, proof, checkpoint.note) };
  }
  return {
    origin,
    treeHead: () =>
      retry("treeHead", async () => {
        const size = await currentSize();
        return { size, rootHash: (await treeRoot(pool, tables, size)).toString("base64") };
      }),
    // Signing again after a lost commit finds the checkpoint stored for that size and returns it.
    checkpoint: (size) =>
      retry("checkpoint", async () => {
        const head = await currentSize();
        if (size === undefined) return sign(head);
        if (!Number.isSafeInteger(size) || size < 1 || size > head) {
          throw new TransparencyError(`cannot sign a tree of size ${size}: the ledger holds ${head} events`);
        }
        return sign(size);
      }),
    latestCheckpoint: () => retry("latestCheckpoint", () => checkpoints.latest()),
    checkpointAt: (size) => retry("checkpointAt", () => checkpoints.at(size)),
    checkpoints: () => retry("checkpoints", () => checkpoints.all()),
    prove: (position, size) => retry("prove", () => prove(position, size)),
    checkConsistency: (note, verifier) =>
      retry("checkConsistency", async () =>
        checkConsistency(pool, tables, readCheckpointNote(note, origin, verifier), await currentSize()),
      ),
    auditCheckpoint: (note, verifier, onProgress) =>
      retry("auditCheckpoint", async () => {
        const read = readCheckpointNote(note, origin, verifier);
        return auditCheckpoint(pool, tables, read, await checkpoints.all(), onProgress);
      }),
  };
}
