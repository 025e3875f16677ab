import { describe, expect, it } from "vitest";
import { ledgerCli, startCli } from "../support/cli.ts";

/** `npm start` (no verb) without a token: it says the bot did not start, and what to do next. */
describe("plugin-ledger start without a bot token", () => {
  const started = ledgerCli();

  it("reports the ledger, says the bot did not start and ends with the next steps, exit 0", async () => {
    const run = await started.cli();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("bot: not started: TELEGRAM_BOT_TOKEN is not set");
    expect(run.stdout).toContain("What next:");
    expect(run.stdout).toContain("@BotFather");
    expect(run.stdout).toContain("npx plugin-ledger --help");
    expect(run.stdout.trimEnd().split("\n").at(-1)).toContain("README.md");
    const json = await started.json();
    expect(json.body).toMatchObject({
      chainVerifies: true,
      bot: expect.stringMatching(/^not started/),
    });
  });

  it("with --stay (a container) keeps running until SIGTERM, then exits 0", async () => {
    const child = startCli(["start", "--stay"], started.ledger.env);
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", () => output.includes("Staying up") && resolve());
      child.on("close", () => reject(new Error(`exited before staying up: ${output}`)));
    });
    expect(child.exitCode).toBeNull();
    expect(output).toContain("docker compose exec ledger npx plugin-ledger status");
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
