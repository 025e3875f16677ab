import { readFileSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invokeCli } from "../../src/cli/program.ts";
import { ROOT, runCli } from "../support/cli.ts";
import { openServerLedger, type TestDatabase } from "../support/databases.ts";
import { FakeBotApi } from "../support/fake-bot-api.ts";

/** What users of helm and kubectl expect of a CLI, one convention a test. */
describe("CLI conventions", () => {
  let database: TestDatabase;
  const cli = (...args: string[]) => runCli(args, database.env);

  beforeAll(async () => {
    database = await openServerLedger();
    for (const argv of [
      ["release", "conv", "1.0.0"],
      ["release", "conv", "2.0.0"],
      ["register", "conv", "1.0.0"],
    ]) {
      expect((await cli(...argv)).code).toBe(0);
    }
  });
  afterAll(async () => {
    await database?.close();
  });

  it("prints its version with --version", async () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const run = await cli("--version");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${version}\n`);
  });

  it("takes -o/--output json|table wherever it takes --json", async () => {
    const json = await cli("status", "--json");
    const output = await cli("status", "-o", "json");
    expect(output.code).toBe(0);
    expect(JSON.parse(output.stdout)).toEqual(JSON.parse(json.stdout));
    expect(JSON.parse((await cli("--output", "json", "history", "conv")).stdout).items).toHaveLength(1);
    const table = await cli("status", "--output", "table");
    expect(table.stdout).toMatch(/^as of position \d+ \(now\)\n/);
    const yaml = await cli("status", "-o", "yaml");
    expect(yaml.code).toBe(2);
    expect(yaml.stderr).toMatch(/^plugin-ledger: [^\n]*json, table[^\n]*\n$/);
    const both = await cli("status", "--json", "-o", "table");
    expect(both.code).toBe(2);
  });

  it("names an unknown verb and suggests the nearest one", async () => {
    const run = await cli("statu");
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "plugin-ledger: unknown command 'statu' (did you mean status?); see plugin-ledger --help\n",
    );
    const group = await cli("abtest", "strat", "conv");
    expect(group.code).toBe(2);
    expect(group.stderr).toBe(
      "plugin-ledger: unknown command 'strat' (did you mean start?); see plugin-ledger abtest --help\n",
    );
    const bare = await cli("abtest");
    expect(bare.code).toBe(2);
    expect(bare.stderr).toBe(
      "plugin-ledger: abtest needs a command: start, weight, promote, abort or assign; see plugin-ledger abtest --help\n",
    );
    const far = await cli("frobnicate", "now");
    expect(far.code).toBe(2);
    expect(far.stderr).toBe("plugin-ledger: unknown command 'frobnicate'; see plugin-ledger --help\n");
  });

  it("lists the global options in every verb's --help", async () => {
    const verbs = [
      ["release"],
      ["import"],
      ["deprecate"],
      ["register"],
      ["upgrade"],
      ["rollback"],
      ["deactivate"],
      ["host"],
      ["host", "set"],
      ["status"],
      ["versions"],
      ["history"],
      ["matrix"],
      ["audit"],
      ["abtest"],
      ["abtest", "start"],
      ["abtest", "weight"],
      ["abtest", "promote"],
      ["abtest", "abort"],
      ["abtest", "assign"],
      ["timeline"],
      ["asof"],
      ["replay"],
      ["events"],
      ["verify"],
      ["rebuild"],
      ["migrate"],
      ["bot"],
      ["diff"],
      ["keygen"],
      ["checkpoint"],
      ["prove"],
      ["verify-proof"],
    ];
    for (const verb of verbs) {
      let help = "";
      const stdout = new Writable({
        write(chunk, _encoding, done) {
          help += chunk;
          done();
        },
      });
      const code = await invokeCli([...verb, "--help"], { stdout, stderr: stdout, env: database.env });
      expect(code, verb.join(" ")).toBe(0);
      for (const option of ["--json", "-o, --output <format>", "--actor <name>", "--reason <text>"]) {
        expect(help, `${verb.join(" ")} --help`).toContain(option);
      }
    }
    // And once as a process, as a person would see it.
    expect((await cli("upgrade", "--help")).stdout).toMatch(/Global Options:[\s\S]*--reason <text>/);
  });

  it("prints a rejection's violations on stderr, one line each, while --json keeps stdout", async () => {
    const run = await cli("upgrade", "conv", "2.0.0", "--json");
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, violations: [{ code: "MAJOR_MISMATCH" }] });
    expect(run.stderr).toMatch(/^plugin-ledger: rejected: MAJOR_MISMATCH: [^\n]+\n$/);
    const human = await cli("register", "conv", "1.0.0");
    expect(human.code).toBe(3);
    expect(human.stdout).toBe("");
    expect(human.stderr).toMatch(/^plugin-ledger: rejected: ALREADY: [^\n]+\n$/);
  });

  it("speaks in its own flags, not the library's option names", async () => {
    const run = await cli("upgrade", "conv", "2.0.0");
    expect(run.stderr).toContain("allow it with --allow-major");
    expect(run.stderr).not.toContain("allowMajor");
    const forced = await cli("upgrade", "conv", "2.0.0", "--force");
    expect(forced.code).toBe(2);
    expect(forced.stderr).toMatch(/^plugin-ledger: rejected: INVALID_INPUT: --force needs --reason/);
  });

  it("answers a weight in percent, as it was given", async () => {
    const run = await cli("abtest", "start", "conv", "2.0.0", "--weight", "150", "--allow-major");
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "plugin-ledger: rejected: INVALID_INPUT: The candidate weight must be between 0.01 and 99.99 percent, not 150.\n",
    );
    expect(run.stderr).not.toContain("15000");
  });

  it("calls a token Telegram refuses (401) a configuration error, exit 2", async () => {
    const api = await FakeBotApi.start();
    try {
      api.failNext("getMe", 20, { ok: false, error_code: 401, description: "Unauthorized" });
      const run = await runCli(["bot"], {
        ...database.env,
        TELEGRAM_BOT_TOKEN: api.token,
        TELEGRAM_API_ROOT: api.url,
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^plugin-ledger: [^\n]*TELEGRAM_BOT_TOKEN[^\n]*401[^\n]*\n$/m);
      expect(run.stderr).not.toContain(api.token);
    } finally {
      await api.close();
    }
  });
});
