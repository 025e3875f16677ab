import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookSubscriberName } from "../../src/index.ts";
import { createLedger, type Ledger } from "../../src/ledger/ledger.ts";
import { ROOT, runCli } from "../support/cli.ts";
import { openServerLedger, type TestDatabase, testLogger } from "../support/databases.ts";

type Watcher = {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  lineCount(n: number): Promise<void>;
  exited: Promise<number | null>;
};

/** `plugin-ledger watch ...` as a pipeline runs it: a long-lived process whose stdout we read. */
function watchProcess(args: string[], env: Record<string, string>): Watcher {
  return cliProcess(["watch", ...args], env);
}

function cliProcess(args: string[], env: Record<string, string>): Watcher {
  const child = spawn(process.execPath, [path.join(ROOT, "bin/plugin-ledger.js"), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOG_LEVEL: "warn", ...env },
  });
  const lines: string[] = [];
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  let notify = () => {};
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    notify();
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    lineCount(n) {
      return new Promise((resolve, reject) => {
        const check = () => lines.length >= n && resolve();
        notify = check;
        check();
        exited.then((code) =>
          reject(new Error(`watch exited ${code} with ${lines.length} lines; ${stderr}`)),
        );
      });
    },
  };
}

describe("plugin-ledger watch and subscriptions", () => {
  let test: TestDatabase;
  let ledger: Ledger;
  const cli = (...args: string[]) => runCli(args, test.env);
  const release = async (plugin: string, version: string) =>
    expect((await cli("release", plugin, version, "--reason", "nightly")).code).toBe(0);

  beforeAll(async () => {
    test = await openServerLedger();
    ledger = createLedger(test.db, { schema: test.schema, logger: testLogger, feed: { pollMs: 100 } });
  });
  afterAll(async () => {
    await ledger?.close();
    await test?.close();
  });

  it("follows the changes live as JSON lines, only the plugin asked for, and ends 0 on SIGTERM", async () => {
    await release("momentum", "1.0.0");
    await release("momentum", "1.1.0");
    const watcher = watchProcess(["--from", "1", "--plugin", "momentum", "--json"], test.env);
    await watcher.lineCount(1);
    await release("breakout", "1.0.0");
    await release("momentum", "1.2.0");
    await watcher.lineCount(2);
    const events = watcher.lines.map((l) => JSON.parse(l));
    expect(events.map((e) => [e.position, e.data.version])).toEqual([
      [2, "1.1.0"],
      [4, "1.2.0"],
    ]);
    // The same shape as `plugin-ledger events`.
    const listed = await cli("events", "--from", "3");
    expect(JSON.parse(listed.stdout.split("\n")[0] as string)).toEqual(events[1]);
    watcher.child.kill("SIGTERM");
    expect(await watcher.exited).toBe(0);
  });

  it("prints a line a person reads, and ends 0 when its reader goes away", async () => {
    await release("trend", "1.0.0");
    const watcher = watchProcess(["--from", "0"], test.env);
    await watcher.lineCount((await ledger.status()).position);
    expect(watcher.lines.find((l) => l.includes("trend"))).toMatch(
      /^#\d+ \d{4}-\d\d-\d\dT[\d:.]+Z VersionReleased trend 1\.0\.0 by cli:\S+ "nightly"$/,
    );
    // The reader of the pipe closes it; the next event's write finds it closed.
    watcher.child.stdout.destroy();
    await release("momentum", "1.3.0");
    expect(await watcher.exited).toBe(0);
  });

  it("lists each subscriber's position, lag, last run and last error", async () => {
    let fail = true;
    const sub = ledger.subscribe(
      "reporting",
      (events) => {
        if (fail && events.some((e) => e.position === 6)) throw new Error("warehouse unreachable");
      },
      { retry: { initialMs: 50, maxMs: 200 }, standbyMs: 50, batchSize: 1 },
    );
    const listed = async () => (await cli("subscriptions", "--json")).stdout;
    for (;;) {
      const body = JSON.parse(await listed());
      if (body.items[0]?.consecutiveFailures > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const { items } = JSON.parse(await listed());
    expect(items).toEqual([
      expect.objectContaining({
        name: "reporting",
        position: 5,
        lag: 1,
        lastError: "warehouse unreachable",
        lastErrorAt: expect.any(String),
        lastRunAt: expect.any(String),
        running: true,
      }),
    ]);
    fail = false;
    for (;;) {
      const body = JSON.parse(await listed());
      if (body.items[0]?.position === 6) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const human = await cli("subscriptions");
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /^subscriber\s+running\s+position\s+lag\s+last run \(UTC\)\s+failures\s+last error/,
    );
    const time = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`;
    expect(human.stdout).toMatch(
      new RegExp(String.raw`\nreporting\s+yes\s+6\s+0\s+${time}\s+0\s+${time} warehouse un`),
    );
    await sub.stop();
  });

  it("refuses a bad --plugin or --from with exit 2 and one line", async () => {
    for (const args of [
      ["--plugin", "Not-A-Plugin"],
      ["--from", "-1"],
      ["--from", "x"],
    ]) {
      const run = await cli("watch", ...args);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("npm start delivers the webhooks until SIGTERM when they are configured", async () => {
    const posted: Array<{ position: number; type: string }> = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        posted.push({ position: Number(req.headers["x-ledger-position"]), type: JSON.parse(body).type });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ledger`;
    const env = { ...test.env, LEDGER_WEBHOOK_URLS: url, LEDGER_WEBHOOK_SECRET: "x".repeat(24) };
    const started = cliProcess([], env);
    try {
      await started.lineCount(3); // where the ledger lives, its events, its chain
      const name = webhookSubscriberName(url);
      while (!(await ledger.subscriptions()).some((s) => s.name === name))
        await new Promise((r) => setTimeout(r, 50));
      const before = (await ledger.status()).position;
      await release("momentum", "5.0.0");
      while (posted.length === 0) await new Promise((r) => setTimeout(r, 50));
      expect(posted).toEqual([{ position: before + 1, type: "VersionReleased" }]);
      started.child.kill("SIGTERM");
      expect(await started.exited).toBe(0);
    } finally {
      started.child.kill("SIGKILL");
      receiver.close();
    }
  });
});
