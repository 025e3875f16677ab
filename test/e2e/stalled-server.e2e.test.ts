import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createLedger } from "../../src/ledger/ledger.ts";
import { runCli } from "../support/cli.ts";
import { openServerLedger, type TestDatabase, testLogger } from "../support/databases.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

/**
 * The CLI against a server that accepts TCP and never answers (a stopped postmaster, a black-holed
 * network), through a loopback proxy: every verb ends by itself, within its configured bounds, with
 * exit 1 and one line naming the database (at the CLI's default log level, `info`). The bounds
 * are set small through the environment.
 */

const bounds = {
  DATABASE_CONNECT_TIMEOUT_MS: "500",
  DATABASE_STATEMENT_TIMEOUT_MS: "1000",
  DATABASE_RETRY_MS: "1000",
};

// A process still running after this is a hang: the test fails on the kill, not on a duration.
const HANG_MS = 60_000;

describe.skipIf(inject("serverKind") !== "postgres")("the CLI against a stalled server", () => {
  let direct: TestDatabase;
  let proxy: TcpProxy;
  let env: Record<string, string>;

  beforeAll(async () => {
    direct = await openServerLedger();
    const ledger = createLedger(direct.db, { schema: direct.schema, logger: testLogger });
    const actor = { actor: { kind: "system" as const, id: "seed" } };
    for (const version of ["1.0.0", "1.1.0"]) {
      const released = await ledger.execute(
        { kind: "release", pluginId: "stalled", version, buildDate: "2026-01-01T00:00:00Z", author: "ci" },
        actor,
      );
      expect(released.ok).toBe(true);
    }
    expect(
      (await ledger.execute({ kind: "register", pluginId: "stalled", version: "1.0.0" }, actor)).ok,
    ).toBe(true);
    const url = direct.env.DATABASE_URL as string;
    const target = new URL(url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    env = { ...direct.env, ...bounds, DATABASE_URL: proxy.urlFor(url), LOG_LEVEL: "info" };
  });
  afterAll(async () => {
    await proxy?.close();
    await direct?.close();
  });

  async function expectOneLineExit1(args: string[]) {
    const run = await runCli(args, env, undefined, HANG_MS);
    expect(run.signal, `plugin-ledger ${args.join(" ")} hung and was killed`).toBeNull();
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    const lines = run.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^plugin-ledger: cannot reach the ledger database at postgres://[^ ]*127\\.0\\.0\\.1:${proxy.port}/[^ ]*: .+; check DATABASE_URL and that the server runs$`,
      ),
    );
  }

  describe("that never answers a new connection", () => {
    beforeAll(() => proxy.stall());
    afterAll(() => proxy.restore());

    it.each([["status"], ["upgrade", "stalled", "1.1.0"], ["verify"]])(
      "plugin-ledger %s exits 1",
      async (...args) => {
        await expectOneLineExit1(args);
      },
    );
  });

  describe("that stops answering in the middle of the work", () => {
    afterAll(() => proxy.restore());

    it("plugin-ledger upgrade exits 1 when the server goes silent under the head lock", async () => {
      const sprung = proxy.stallAfterSending("FOR UPDATE");
      await expectOneLineExit1(["upgrade", "stalled", "1.1.0"]);
      await sprung;
      await proxy.restore();
    });

    it("plugin-ledger verify exits 1 when the server goes silent while it reads the chain", async () => {
      const sprung = proxy.stallAfterSending("ORDER BY position LIMIT");
      await expectOneLineExit1(["verify"]);
      await sprung;
      await proxy.restore();
    });

    it("the ledger is unchanged and answers again once the server does", async () => {
      const run = await runCli(["status", "--json"], env, undefined, HANG_MS);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).plugins).toMatchObject([{ pluginId: "stalled", version: "1.0.0" }]);
    });
  });
});
