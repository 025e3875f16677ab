import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../support/cli.ts";
import { openServerLedger, type TestDatabase } from "../support/databases.ts";
import { TOKEN } from "../support/http-api.ts";
import { type ServeProcess, startServe } from "../support/serve-process.ts";

type HostLine = Record<string, unknown> & { event: string };

/** examples/python_host.py as a process: the JSON lines it printed, and a wait for one. */
function startPythonHost(url: string, args: string[], cache: string) {
  const child = spawn("python3", [path.join(ROOT, "examples/python_host.py"), ...args], {
    env: { PATH: process.env.PATH ?? "", LEDGER_URL: url, LEDGER_TOKEN: TOKEN, LEDGER_CACHE: cache },
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const lines: HostLine[] = [];
  const waiters: { test: (l: HostLine) => boolean; resolve: (l: HostLine) => void }[] = [];
  createInterface({ input: child.stdout }).on("line", (text) => {
    const line = JSON.parse(text) as HostLine;
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  return {
    lines,
    stderr: () => stderr,
    waitFor(test: (l: HostLine) => boolean): Promise<HostLine> {
      const seen = lines.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ test, resolve });
        exited.then(() => reject(new Error(`the Python host exited: ${stderr}`)));
      });
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** A port free now, so that a restarted server comes back where the host looks for it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

describe("examples/python_host.py against a serve process", () => {
  let ledger: TestDatabase;
  let serve: ServeProcess | undefined;
  let port = 0;
  const cache = path.join(mkdtempSync(path.join(tmpdir(), "pl-host-")), "versions.json");
  const serveArgs = () => ["serve", "--port", String(port)];
  const cli = async (...args: string[]) => {
    const run = await runCli(args, ledger.env);
    if (run.code !== 0) throw new Error(`plugin-ledger ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
    return run.stdout;
  };

  beforeAll(async () => {
    ledger = await openServerLedger();
    for (const [plugin, version] of [
      ["momentum", "1.0.0"],
      ["momentum", "1.1.0"],
      ["grid_bot", "0.9.0"],
      ["grid_bot", "0.10.0"],
    ] as const) {
      await cli("release", plugin, version);
    }
    await cli("register", "momentum", "1.0.0");
    await cli("register", "grid_bot", "0.9.0");
    await cli("abtest", "start", "grid_bot", "0.10.0", "--weight", "30");
    port = await freePort();
    serve = await startServe(ledger.env, serveArgs());
  });
  afterAll(async () => {
    await serve?.stop();
    await ledger?.close();
  });

  it("loads the versions, assigns units as /v1/assign does, hears a CLI upgrade, and rides out the API going away", async () => {
    const units = Array.from({ length: 40 }, (_, i) => `SYM${i}USDT`).concat(["acct:42", "Ünit-é"]);
    const url = serve?.url as string;
    const host = startPythonHost(url, ["--check-assign", "grid_bot", ...units], cache);
    try {
      const loaded = await host.waitFor((l) => l.event === "loaded");
      expect(loaded.versions).toEqual({ momentum: "1.0.0", grid_bot: "0.9.0" });

      await host.waitFor((l) => l.event === "following");
      const assigned = host.lines.filter((l) => l.event === "assign");
      expect(assigned.map((l) => l.unit)).toEqual(units);
      for (const line of assigned) expect(line.local, String(line.unit)).toEqual(line.ledger);
      // Both arms occur, so the comparison says something of the rule.
      const arms = new Set(assigned.map((l) => (l.local as { arm: string }).arm));
      expect(arms).toEqual(new Set(["control", "candidate"]));

      await cli("upgrade", "momentum", "1.1.0", "--reason", "from the Python host test");
      const change = await host.waitFor((l) => l.event === "change" && l.plugin === "momentum");
      expect(change).toMatchObject({ type: "PluginUpgraded", version: "1.1.0" });
      // How long the change took from its commit to the host (the database's clock and the
      // host's are this machine's): reported here, asserted by `npm run bench` (changes).
      const latencyMs = (change.receivedAt as number) * 1000 - Date.parse(change.recordedAt as string);
      process.stderr.write(
        `python host: upgrade received ${latencyMs.toFixed(0)} ms after it was recorded\n`,
      );
    } finally {
      await host.stop();
    }
  });
});
