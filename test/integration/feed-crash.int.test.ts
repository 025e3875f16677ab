import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import type { CommandRequest } from "../../src/index.ts";
import { createLedger, type Ledger } from "../../src/ledger/ledger.ts";
import { ROOT } from "../support/cli.ts";
import { backends, type TestDatabase, testLogger } from "../support/databases.ts";

const actor = { kind: "system", id: "feeder" } as const;

type Peer = {
  child: ChildProcessWithoutNullStreams;
  handled(): number;
  exited: Promise<unknown>;
  stderr(): string;
};

function startSubscriber(env: Record<string, string>, args: string[]): Peer {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(ROOT, "test/support/subscriber-peer.ts"), ...args],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    },
  );
  let last = 0;
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    const [word, position] = line.split(" ");
    if (word === "handled") last = Math.max(last, Number(position));
  });
  return {
    child,
    handled: () => last,
    exited: new Promise((resolve) => child.on("close", resolve)),
    stderr: () => stderr,
  };
}

async function until(probe: () => boolean | Promise<boolean>, what: string, peers: Peer[] = []) {
  const started = Date.now();
  while (!(await probe())) {
    // Not a timed assertion: a guard so a broken run fails with its processes' stderr, not a hang.
    if (Date.now() - started > 90_000)
      throw new Error(`never ${what}: ${peers.map((p) => p.stderr()).join("\n")}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Releases `count` versions of a plugin in one import: `count` events at consecutive positions. */
async function importVersions(ledger: Ledger, pluginId: string, from: number, count: number) {
  const releases = Array.from({ length: count }, (_, i) => ({
    pluginId,
    version: `1.${from + i}.0`,
    buildDate: "2024-05-01T12:00:00.000Z",
    author: "ci",
  }));
  const result = await ledger.execute({ kind: "import", releases } as CommandRequest, { actor });
  if (!result.ok) throw new Error(JSON.stringify(result.violations));
}

describe.each(backends)("a durable subscriber's processes on $name", ({ open }) => {
  let test: TestDatabase | undefined;
  let ledger: Ledger | undefined;
  const peers: Peer[] = [];
  afterEach(async () => {
    for (const p of peers.splice(0)) {
      p.child.kill("SIGKILL");
      await p.exited;
    }
    await ledger?.close();
    await test?.close();
  });

  it("resumes after a SIGKILL mid-stream with every position handled in order, and two never run at once", async () => {
    test = await open();
    ledger = createLedger(test.db, { schema: test.schema, logger: testLogger });
    const q = (t: string) => `"${test?.schema}".${t}`;
    await test.db.pool.query(
      `CREATE TABLE ${q("feed_runs")} (id serial PRIMARY KEY, pid int, first bigint, last bigint, started timestamptz, ended timestamptz)`,
    );
    await test.db.pool.query(
      `CREATE TABLE ${q("feed_handled")} (seq bigserial PRIMARY KEY, position bigint, pid int)`,
    );
    await importVersions(ledger, "momentum", 0, 150);

    // The lease row (embedded) outlives a killed holder by its lease: keep it short here.
    const args = ["copier", "10", "20", "2000"];
    const a = startSubscriber(test.env, args);
    const b = startSubscriber(test.env, args);
    peers.push(a, b);
    await until(() => a.handled() + b.handled() >= 50, "handled 50", peers);
    const leader = a.handled() > 0 ? a : b;
    const standby = leader === a ? b : a;
    expect(standby.handled()).toBe(0);
    leader.child.kill("SIGKILL");
    await leader.exited;
    // More events while the leader is dead, and more once the standby has taken over.
    await importVersions(ledger, "momentum", 150, 60);
    await until(() => standby.handled() >= 210, "took over", peers);
    await importVersions(ledger, "momentum", 210, 30);
    await until(() => standby.handled() >= 240, "handled all", peers);

    const { rows: handled } = await test.db.pool.query<{ position: string }>(
      `SELECT position FROM ${q("feed_handled")} ORDER BY seq`,
    );
    const positions = handled.map((r) => Number(r.position));
    const firstSeen = [...new Set(positions)];
    expect(firstSeen).toEqual(Array.from({ length: 240 }, (_, i) => i + 1));
    // Duplicates only from the batch in flight when the leader died: at most one batch (10), the
    // whole of it when the kill fell after the handler's work and before the checkpoint moved.
    expect(positions.length - firstSeen.length).toBeLessThanOrEqual(10);
    // Order kept: whatever came back again came right after the kill, from the checkpoint on.
    const backwards = positions.filter((p, i) => i > 0 && p <= (positions[i - 1] as number));
    expect(backwards.length).toBeLessThanOrEqual(1);

    const { rows: runs } = await test.db.pool.query<{ pid: number; started: Date; ended: Date | null }>(
      `SELECT pid, started, ended FROM ${q("feed_runs")} ORDER BY started`,
    );
    expect(new Set(runs.map((r) => r.pid))).toEqual(new Set([leader.child.pid, standby.child.pid]));
    // No run starts before the one before it ended (the killed run counts as ending at its start).
    for (let i = 1; i < runs.length; i++) {
      const previous = runs[i - 1] as (typeof runs)[number];
      const end = previous.ended ?? previous.started;
      expect(runs[i]?.started.getTime()).toBeGreaterThanOrEqual(end.getTime());
    }
    const [status] = await ledger.subscriptions();
    expect(status).toMatchObject({ name: "copier", position: 240, lag: 0 });
  });
});
