import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { merkle } from "../../projections/merkle.ts";
import {
  appendLeaves,
  type Hash,
  leafHash,
  rootOfFrontier,
  verifyConsistency,
  verifyInclusion,
} from "../../src/domain/merkle-tree.ts";
import { parseVerifierKey, signerFromSeed } from "../../src/domain/signed-note.ts";
import { CHECKPOINT_SIGNER, startCheckpointSigner } from "../../src/ledger/checkpoint-signer.ts";
import { createLedger, type Ledger, openLedger } from "../../src/ledger/ledger.ts";
import { catchUpMerkle, merkleLag } from "../../src/ledger/merkle-catch-up.ts";
import { consistencyProof, inclusionProof, treeRoot } from "../../src/ledger/merkle-proofs.ts";
import { verifyProofFile } from "../../src/ledger/proof-file.ts";
import type { Metadata } from "../../src/store/event-store.ts";
import { migrate } from "../../src/store/migrate.ts";
import { type AppendingStore, appendingStore } from "../support/appending-store.ts";
import { backends, type TestDatabase, testLogger } from "../support/databases.ts";
import { schemaBefore } from "../support/ledger-fixtures.ts";

const actor: Metadata = { actor: { kind: "system", id: "test" } };
const signer = signerFromSeed("plugin-ledger/test", Buffer.alloc(32, 7));

/** Polls until the probe holds (the test's own timeout bounds the wait). */
async function until(probe: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await probe())) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe.each(backends)("Merkle tree on $name", ({ open }) => {
  let db: TestDatabase;
  let withTree: AppendingStore;
  let bare: AppendingStore;
  let ledger: Ledger;

  beforeAll(async () => {
    db = await open();
    const options = { pool: db.db.pool, schema: db.schema, prepareStatements: !db.db.sharedSession };
    withTree = appendingStore({ ...options, projections: [merkle] });
    bare = appendingStore(options);
    ledger = createLedger(db.db, { schema: db.schema, logger: testLogger, origin: signer.name, signer });
  });
  afterAll(async () => {
    await db?.close();
  });

  /** Every event hash, in position order: the tree's leaves, read straight from the events. */
  async function leaves(): Promise<Hash[]> {
    const found = await db.db.pool.query(`SELECT hash FROM "${db.schema}".events ORDER BY position`);
    return found.rows.map((r) => leafHash(r.hash));
  }
  const rootOf = (l: Hash[], size: number) => rootOfFrontier(appendLeaves([], 0, l.slice(0, size)).frontier);
  const tables = () => withTree.tables;

  it("keeps the tree in the append, in batches of any size, equal to the events' tree at every size", async () => {
    let n = 0;
    for (const batch of [1, 1, 3, 15, 1, 16, 17, 2, 40, 1, 31, 33, 5]) {
      const events = Array.from({ length: batch }, () => ({ type: "Tick", data: { n: n++ } }));
      await withTree.append(`plugin-s${n % 3}`, "any", events, actor);
    }
    // A rolled-back append leaves this process's remembered edge ahead of the table: the next
    // append must notice and read the edge from the table.
    await expect(
      withTree.transact(async (session) => {
        await session.write(
          [{ streamId: "plugin-x", events: [{ type: "Tick", data: { lost: true } }] }],
          actor,
        );
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    await withTree.append("plugin-x", "any", [{ type: "Tick", data: { n: n++ } }], actor);
    const all = await leaves();
    expect(all).toHaveLength(n);
    for (let size = 0; size <= n; size++) {
      expect((await treeRoot(db.db.pool, tables(), size)).equals(rootOf(all, size))).toBe(true);
    }
    const stored = await db.db.pool.query(`SELECT count(*)::int AS c FROM "${db.schema}".merkle_nodes`);
    expect(stored.rows[0].c).toBe(
      Math.floor(n / 16) + Math.floor(n / 32) + Math.floor(n / 64) + Math.floor(n / 128),
    );
  });

  it("gives inclusion and consistency proofs that verify, for every leaf and size pair sampled", async () => {
    const all = await leaves();
    const n = all.length;
    for (const size of [1, 2, 15, 16, 17, 63, 64, 100, n]) {
      for (const index of [0, Math.floor(size / 2), size - 1]) {
        const { proof, root } = await inclusionProof(db.db.pool, tables(), index, size);
        expect(root.equals(rootOf(all, size))).toBe(true);
        expect(verifyInclusion(index, size, all[index] as Hash, proof, root)).toBe(true);
      }
      for (const from of [1, 7, 16, 33, size]) {
        if (from > size) continue;
        const { proof, root } = await consistencyProof(db.db.pool, tables(), from, size);
        expect(verifyConsistency(from, size, rootOf(all, from), root, proof)).toBe(true);
      }
    }
  });

  it("catches up after appends made without it, to the same tree", async () => {
    await db.db.pool.query(
      `INSERT INTO "${db.schema}".projection_checkpoints (projection, position)
         SELECT 'merkle', position FROM "${db.schema}".head
       ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position`,
    );
    for (let i = 0; i < 7; i++) {
      await bare.append(
        "plugin-bare",
        "any",
        Array.from({ length: 9 }, (_, j) => ({ type: "Tick", data: { i, j } })),
        actor,
      );
    }
    const lag = await merkleLag(bare);
    expect(lag.head - lag.tree).toBe(63);
    expect(await catchUpMerkle(bare)).toBe(63);
    expect(await catchUpMerkle(bare)).toBe(0);
    const all = await leaves();
    expect((await treeRoot(db.db.pool, tables(), all.length)).equals(rootOf(all, all.length))).toBe(true);
    await withTree.append("plugin-after", "any", [{ type: "Tick", data: {} }], actor);
    const after = await leaves();
    expect((await treeRoot(db.db.pool, tables(), after.length)).equals(rootOf(after, after.length))).toBe(
      true,
    );
  });

  it("signs one checkpoint per size, returns the stored one when asked again, and refuses to edit it", async () => {
    const first = await ledger.checkpoint();
    const again = await ledger.checkpoint();
    expect(again).toEqual(first);
    expect(first.note).toMatch(
      /^plugin-ledger\/test\n\d+\n[A-Za-z0-9+/]{43}=\n\n— plugin-ledger\/test [A-Za-z0-9+/=]+\n$/,
    );
    expect(first.size).toBe((await leaves()).length);
    expect(await ledger.latestCheckpoint()).toEqual(first);
    expect(await ledger.checkpointAt(first.size)).toEqual(first);
    const table = `"${db.schema}".signed_checkpoints`;
    await expect(db.db.pool.query(`UPDATE ${table} SET note = 'forged'`)).rejects.toThrow(/append-only/);
    await expect(db.db.pool.query(`DELETE FROM ${table}`)).rejects.toThrow(/append-only/);
    await expect(db.db.pool.query(`TRUNCATE ${table}`)).rejects.toThrow(/append-only/);
  });

  it("proves an event against the checkpoint, offline; later checkpoints are consistent with it", async () => {
    const verifier = parseVerifierKey(
      `${signer.name}+${signer.keyId.toString("hex")}+${Buffer.concat([Buffer.from([1]), signer.publicKey]).toString("base64")}`,
    );
    const earlier = (await ledger.latestCheckpoint())?.note as string;
    const proof = await ledger.prove(5);
    const check = verifyProofFile(proof.file, verifier);
    expect(check).toMatchObject({ ok: true, position: 5, treeSize: proof.checkpoint.size });
    await withTree.append("plugin-later", "any", [{ type: "Tick", data: { later: 1 } }], actor);
    const later = await ledger.checkpoint();
    expect(later.size).toBe(proof.checkpoint.size + 1);
    const consistent = await ledger.checkConsistency(earlier, verifier);
    expect(consistent).toMatchObject({
      ok: true,
      treeSize: later.size,
      signatureChecked: true,
      problem: null,
    });
    const audit = await ledger.auditCheckpoint(earlier, verifier);
    expect(audit).toMatchObject({ ok: true, broken: [], lastHolding: { size: later.size } });
    expect((await ledger.prove(5, proof.checkpoint.size)).file).toBe(proof.file);
  });

  it("signs a checkpoint every M minutes while events came", async () => {
    let clock = Date.now();
    const tick = async (n: number) => {
      for (let i = 0; i < n; i++)
        await withTree.append("plugin-sig", "any", [{ type: "Tick", data: { i } }], actor);
    };
    const byTime = startCheckpointSigner(ledger, { events: undefined, minutes: 10 }, testLogger, {
      pollMs: 3_600_000,
      now: () => clock,
    });
    await tick(1);
    clock += 9 * 60_000;
    expect(await byTime.tick()).toBe("waiting");
    clock += 2 * 60_000;
    expect(await byTime.tick()).toBe("signed");
    clock += 60 * 60_000;
    expect(await byTime.tick()).toBe("waiting");
    await byTime.stop();
  });
});

describe.each(backends)("checkpoint signer on $name", ({ open }) => {
  let db: TestDatabase;
  let ledger: Ledger;
  beforeAll(async () => {
    db = await open();
    ledger = createLedger(db.db, { schema: db.schema, logger: testLogger, origin: signer.name, signer });
  });
  afterAll(async () => {
    await ledger?.close();
    await db?.close();
  });

  it("signs a checkpoint every N events from the change feed, whatever the batches", async () => {
    // The subscriber reads the ledger's own events: releases, one event each, or an import of many.
    let minor = 0;
    const entry = () => ({
      pluginId: "signed",
      version: `1.${minor++}.0`,
      buildDate: "2026-01-01",
      author: "ci",
    });
    const tick = async (n: number) => {
      for (let i = 0; i < n; i++)
        await ledger.execute({ kind: "release", ...entry() }, { actor: actor.actor });
    };
    const keyless = createLedger(db.db, { schema: db.schema, logger: testLogger, origin: signer.name });
    await tick(1);
    await expect(keyless.checkpoint()).rejects.toThrow(/no signing key/);
    const base = (await ledger.checkpoint()).size;
    const byEvents = startCheckpointSigner(ledger, { events: 3, minutes: undefined }, testLogger, {
      pollMs: 3_600_000,
    });
    try {
      // A new subscriber starts at the head: it must hold its lease before the events come.
      await until(() => byEvents.leading);
      expect(await byEvents.tick()).toBe("waiting");
      await tick(2);
      await tick(1);
      await until(async () => (await ledger.latestCheckpoint())?.size === base + 3);
      // Signed in position order: nothing at the sizes before the third event.
      expect(await ledger.checkpointAt(base + 1)).toBeNull();
      expect(await ledger.checkpointAt(base + 2)).toBeNull();
      // Seven events in one append (one batch of the feed): signed at +6 and +9, not at +10.
      await ledger.execute(
        { kind: "import", releases: Array.from({ length: 7 }, entry) },
        { actor: actor.actor },
      );
      await until(async () => (await ledger.latestCheckpoint())?.size === base + 9);
      expect((await ledger.checkpoints()).map((c) => c.size).filter((size) => size > base)).toEqual([
        base + 3,
        base + 6,
        base + 9,
      ]);
      expect(await ledger.head()).toBe(base + 10);
    } finally {
      await byEvents.stop();
    }
    const signerRow = (await ledger.subscriptions()).find((s) => s.name === CHECKPOINT_SIGNER);
    expect(signerRow?.position).toBe(base + 10);
  });
});

describe("Merkle tree rebuilt and filled from the events", () => {
  let db: TestDatabase;
  afterAll(async () => {
    await db?.close();
  });

  const release = (n: number) => ({
    pluginId: `p${n % 7}`,
    version: `1.${Math.floor(n / 7)}.0`,
    buildDate: "2026-01-01",
    author: "a",
  });

  async function nodes(): Promise<string[]> {
    const found = await db.db.pool.query(
      `SELECT level, index, encode(hash, 'hex') AS hash FROM "${db.schema}".merkle_nodes ORDER BY level, index`,
    );
    return found.rows.map((r) => `${r.level}/${r.index}/${r.hash}`);
  }

  it("rebuild gives the same tree, and opening a ledger that predates the tree fills it", async () => {
    db = await backends[0].open();
    const ledger = createLedger(db.db, { schema: db.schema, logger: testLogger });
    let n = 0;
    for (const batch of [1, 40, 3, 17, 64, 1, 50]) {
      const releases = Array.from({ length: batch }, () => release(n++));
      const result = await ledger.execute({ kind: "import", releases }, { actor: { kind: "cli", id: "t" } });
      expect(result.ok).toBe(true);
    }
    const live = await nodes();
    const head = await ledger.treeHead();
    expect(head.size).toBe(n);
    expect(live.length).toBeGreaterThan(10);

    await ledger.rebuild();
    expect(await nodes()).toEqual(live);

    // A ledger from before the tree: no nodes, its checkpoint at 0.
    await db.db.pool.query(`TRUNCATE "${db.schema}".merkle_nodes`);
    await db.db.pool.query(
      `UPDATE "${db.schema}".projection_checkpoints SET position = 0 WHERE projection = 'merkle'`,
    );
    const opened = await openLedger({
      databaseUrl: db.env.DATABASE_URL,
      dataDir: "unused",
      schema: db.schema,
      poolSize: 2,
      logger: testLogger,
    });
    try {
      expect(await nodes()).toEqual(live);
      expect(await opened.treeHead()).toEqual(head);
      const after = await opened.execute(
        { kind: "release", ...release(n++) },
        { actor: { kind: "cli", id: "t" } },
      );
      expect(after.ok).toBe(true);
    } finally {
      await opened.close();
    }
  });
});

describe("the merkle migration on a ledger that already holds events", () => {
  it("builds the same tree in SQL as the projection does, and sets its checkpoint at the head", async () => {
    const test = await backends[0].open();
    const schema = await schemaBefore(test, "1764231000000_merkle.sql");
    try {
      const store = appendingStore({ pool: test.db.pool, schema });
      for (const batch of [5, 30, 1, 64, 100]) {
        await store.append(
          "plugin-old",
          "any",
          Array.from({ length: batch }, (_, i) => ({ type: "Tick", data: { i } })),
          actor,
        );
      }
      await migrate(test.db.pool, schema, testLogger);
      const found = await test.db.pool.query(`SELECT hash FROM "${schema}".events ORDER BY position`);
      const { completed } = appendLeaves(
        [],
        0,
        found.rows.map((r) => leafHash(r.hash)),
      );
      const expected = completed
        .filter((n) => n.level >= 4)
        .map((n) => `${n.level}/${n.index}/${n.hash.toString("hex")}`)
        .sort();
      const stored = await test.db.pool.query(
        `SELECT level, index, encode(hash, 'hex') AS hash FROM "${schema}".merkle_nodes`,
      );
      expect(stored.rows.map((r) => `${r.level}/${r.index}/${r.hash}`).sort()).toEqual(expected);
      expect(expected).toHaveLength(12 + 6 + 3 + 1);
      const checkpoint = await test.db.pool.query(
        `SELECT position FROM "${schema}".projection_checkpoints WHERE projection = 'merkle'`,
      );
      expect(Number(checkpoint.rows[0]?.position)).toBe(200);
    } finally {
      await test.db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await test.close();
    }
  });
});
