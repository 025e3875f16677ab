import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  formatCheckpoint,
  parseCheckpoint,
  parseNote,
  parsePrivateKey,
  signerFromSeed,
  signNote,
} from "../../src/domain/signed-note.ts";
import { createLedger } from "../../src/ledger/ledger.ts";
import { createEventStore } from "../../src/store/event-store.ts";
import { eventHash } from "../../src/store/hash-chain.ts";
import { runCli, runOffline } from "../support/cli.ts";
import { openServerLedger, type TestDatabase, testLogger } from "../support/databases.ts";

const cli = { actor: { kind: "cli" as const, id: "test" } };

describe("checkpoints and proofs through the CLI", () => {
  let db: TestDatabase;
  let dir: string;
  let env: Record<string, string>;
  let verifierKey: string;

  async function release(...versions: string[]) {
    const ledger = createLedger(db.db, { schema: db.schema, logger: testLogger });
    for (const version of versions) {
      const result = await ledger.execute(
        { kind: "release", pluginId: "combined_v3", version, buildDate: "2026-01-01", author: "a" },
        cli,
      );
      expect(result.ok).toBe(true);
    }
  }

  beforeAll(async () => {
    db = await openServerLedger();
    dir = mkdtempSync(path.join(tmpdir(), "pl-proof-"));
    env = { ...db.env, LEDGER_SIGNING_KEY_FILE: path.join(dir, "signing.key") };
    const keygen = await runCli(["keygen"], env);
    expect(keygen.code).toBe(0);
    verifierKey = keygen.stdout.trim();
    await release("1.0.0", "1.0.1");
    expect((await runCli(["checkpoint", "--out", path.join(dir, "at-2.note")], env)).code).toBe(0);
    await release("1.0.2", "1.1.0", "1.2.0", "2.0.0");
    expect((await runCli(["checkpoint", "--out", path.join(dir, "at-6.note")], env)).code).toBe(0);
    const prove = await runCli(["prove", "3", "--out", path.join(dir, "3.proof")], env);
    expect(prove.stderr).toBe("");
    expect(prove.code).toBe(0);
  });
  afterAll(async () => {
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("keygen writes a private key only its owner reads and prints the verifier key", () => {
    const origin = `plugin-ledger/${db.schema}`;
    expect(statSync(env.LEDGER_SIGNING_KEY_FILE as string).mode & 0o777).toBe(0o600);
    expect(verifierKey).toMatch(
      new RegExp(`^${origin.replace("/", "\\/")}\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]{44}$`),
    );
    const note = readFileSync(path.join(dir, "at-6.note"), "utf8");
    expect(parseCheckpoint(parseNote(note).text)).toMatchObject({ origin, size: 6 });
  });

  it("verify-proof checks a proof with no database, no ledger folder and no settings", async () => {
    const offline = mkdtempSync(path.join(tmpdir(), "pl-offline-"));
    try {
      writeFileSync(path.join(offline, "3.proof"), readFileSync(path.join(dir, "3.proof")));
      const run = await runOffline(["verify-proof", "3.proof", "--key", verifierKey, "--json"], offline);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, position: 3, treeSize: 6 });
      expect(readdirSync(offline)).toEqual(["3.proof"]);
      expect(existsSync(path.join(offline, ".ledger"))).toBe(false);
    } finally {
      rmSync(offline, { recursive: true, force: true });
    }
  });

  async function rejected(file: string, reason: RegExp) {
    const offline = mkdtempSync(path.join(tmpdir(), "pl-offline-"));
    try {
      writeFileSync(path.join(offline, "bad.proof"), file);
      const run = await runOffline(["verify-proof", "bad.proof", "--key", verifierKey], offline);
      expect(run.code).toBe(5);
      expect(run.stdout).toBe("");
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr).toMatch(reason);
    } finally {
      rmSync(offline, { recursive: true, force: true });
    }
  }

  it("answers a position or size it cannot prove, and a bad key, with exit 2 in one line", async () => {
    for (const [args, runEnv, message] of [
      [["prove", "99"], env, /no event at position 99/],
      [["prove", "3", "--size", "5"], env, /no signed checkpoint of size 5/],
      [["verify-proof", path.join(dir, "3.proof"), "--key", "not-a-key"], {}, /--key/],
    ] as const) {
      const run = await runCli([...args], { ...runEnv });
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr).toMatch(message);
    }
  });

  it("answers a size already signed with its stored note, even without the key", async () => {
    const run = await runCli(["checkpoint"], db.env);
    expect(run.code).toBe(0);
    expect(`${run.stdout.trimEnd()}\n`).toBe(readFileSync(path.join(dir, "at-6.note"), "utf8"));
  });

  it("rejects a proof with one byte changed, in one line, exit 5", async () => {
    const file = readFileSync(path.join(dir, "3.proof"), "utf8");
    const at = file.indexOf('"1.0.2"') + 5;
    await rejected(`${file.slice(0, at)}3${file.slice(at + 1)}`, /content does not match its hash/);
  });

  it("rejects a checkpoint signed by another key, and one of another origin", async () => {
    const file = readFileSync(path.join(dir, "3.proof"), "utf8");
    const document = JSON.parse(file);
    const [tlog, note] = [
      document.proof.slice(0, document.proof.indexOf("\n\n") + 2),
      document.proof.slice(document.proof.indexOf("\n\n") + 2),
    ];
    const checkpoint = parseCheckpoint(parseNote(note).text);
    const withNote = (other: string) =>
      `${JSON.stringify({ ...document, proof: `${tlog}${other}` }, null, 2)}\n`;

    const stranger = signerFromSeed(checkpoint.origin, Buffer.alloc(32, 9));
    await rejected(withNote(signNote(formatCheckpoint(checkpoint), stranger)), /not signed by/);

    const ours = parsePrivateKey(readFileSync(env.LEDGER_SIGNING_KEY_FILE as string, "utf8"));
    await rejected(
      withNote(signNote(formatCheckpoint({ ...checkpoint, origin: "another/log" }), ours)),
      /another\/log/,
    );
  });

  it("after a superuser rewrites event 3 and every later hash, plain verify passes and verify --checkpoint exits 5", async () => {
    const store = createEventStore({ pool: db.db.pool, schema: db.schema });
    const events = [];
    for await (const event of store.readAll(0)) events.push(event);
    let prevHash = (events[1] as (typeof events)[number]).hash;
    const rewritten = events.slice(2).map((event, i) => {
      const data = i === 0 ? { ...(event.data as object), releaseNotes: "rewritten" } : event.data;
      const hash = eventHash({ ...event, data, prevHash });
      const row = { position: event.position, data, prevHash, hash };
      prevHash = hash;
      return row;
    });
    const client = await db.db.pool.connect();
    const events_ = `"${db.schema}".events`;
    try {
      await client.query("BEGIN");
      await client.query(`ALTER TABLE ${events_} DISABLE TRIGGER ALL`);
      for (const row of rewritten) {
        await client.query(`UPDATE ${events_} SET data = $2, prev_hash = $3, hash = $4 WHERE position = $1`, [
          row.position,
          JSON.stringify(row.data),
          row.prevHash,
          row.hash,
        ]);
      }
      await client.query(`UPDATE "${db.schema}".head SET hash = $1`, [prevHash]);
      await client.query(`ALTER TABLE ${events_} ENABLE TRIGGER ALL`);
      await client.query("COMMIT");
    } finally {
      client.release();
    }

    const plain = await runCli(["verify", "--json"], env);
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject({ ok: true, events: 6 });

    const held = await runCli(
      ["verify", "--checkpoint", path.join(dir, "at-6.note"), "--key", verifierKey, "--json"],
      env,
    );
    expect(held.code).toBe(5);
    const answer = JSON.parse(held.stdout);
    expect(answer).toMatchObject({
      ok: false,
      chainOk: true,
      checkpoint: { ok: false, signatureChecked: true, lastHolding: { size: 2 }, broken: [6] },
    });
    expect(answer.checkpoint.problem).toMatch(/rewritten/);
    const human = await runCli(
      ["verify", "--checkpoint", path.join(dir, "at-6.note"), "--key", verifierKey],
      env,
    );
    expect(human.code).toBe(5);
    expect(human.stdout).toMatch(/CHECKPOINT BROKEN/);
    expect(human.stdout).toMatch(/last stored checkpoint that still holds: size 2/);

    const before = await runCli(
      ["verify", "--checkpoint", path.join(dir, "at-2.note"), "--key", verifierKey],
      env,
    );
    expect(before.code).toBe(0);
  });
});
