import type pg from "pg";
import { formatCheckpoint, type Signer, signNote } from "../domain/signed-note.ts";
import { isUniqueViolation } from "../store/errors.ts";
import type { Tables } from "../store/tables.ts";
import { treeRoot } from "./merkle-proofs.ts";

/** A checkpoint as stored: the note handed out, and its fields for lookups. */
export type SignedCheckpoint = {
  origin: string;
  size: number;
  /** Base64, as the note writes it. */
  rootHash: string;
  keyName: string;
  /** Hex. */
  keyId: string;
  signedAt: Date;
  /** The C2SP signed note, byte for byte as signed. */
  note: string;
};

const COLUMNS = "origin, tree_size, root_hash, key_name, key_id, signed_at, note";

function toCheckpoint(row: unknown[]): SignedCheckpoint {
  return {
    origin: row[0] as string,
    size: Number(row[1]),
    rootHash: (row[2] as Buffer).toString("base64"),
    keyName: row[3] as string,
    keyId: (row[4] as Buffer).toString("hex"),
    signedAt: row[5] as Date,
    note: row[6] as string,
  };
}

export function checkpointStore(pool: pg.Pool, tables: Tables) {
  const table = tables.q("signed_checkpoints");
  async function one(where: string, values: unknown[]): Promise<SignedCheckpoint | null> {
    const found = await pool.query({
      text: `SELECT ${COLUMNS} FROM ${table} ${where} LIMIT 1`,
      values,
      rowMode: "array",
    });
    return found.rows[0] ? toCheckpoint(found.rows[0]) : null;
  }
  return {
    latest: () => one("ORDER BY tree_size DESC", []),
    at: (size: number) => one("WHERE tree_size = $1", [size]),
    /** The smallest stored checkpoint whose tree holds leaf `index`. */
    covering: (index: number) => one("WHERE tree_size > $1 ORDER BY tree_size", [index]),
    async all(): Promise<SignedCheckpoint[]> {
      const found = await pool.query({
        text: `SELECT ${COLUMNS} FROM ${table} ORDER BY tree_size`,
        rowMode: "array",
      });
      return found.rows.map(toCheckpoint);
    },

    /**
     * Signs the tree of `size` leaves and stores the note, or returns the note stored for that
     * size already: never two different checkpoints for one size. Two signers racing for a size
     * meet at the primary key, and the loser returns the winner's note.
     */
    async sign(signer: Signer, origin: string, size: number): Promise<SignedCheckpoint> {
      const stored = await this.at(size);
      if (stored) return stored;
      const rootHash = await treeRoot(pool, tables, size);
      const note = signNote(formatCheckpoint({ origin, size, rootHash }), signer);
      try {
        const inserted = await pool.query({
          text: `INSERT INTO ${table} (tree_size, root_hash, origin, key_name, key_id, note)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
          values: [size, rootHash, origin, signer.name, signer.keyId, note],
          rowMode: "array",
        });
        return toCheckpoint(inserted.rows[0] as unknown[]);
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        const winner = await this.at(size);
        if (!winner) throw error;
        return winner;
      }
    },
  };
}

export type CheckpointStore = ReturnType<typeof checkpointStore>;
