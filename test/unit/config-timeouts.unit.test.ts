import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";

describe("database bounds in the configuration", () => {
  it("defaults to 5 s to connect, 30 s a statement and 15 s of retrying", () => {
    expect(loadConfig({}).timeouts).toEqual({ connectMs: 5_000, statementMs: 30_000, retryMs: 15_000 });
  });

  it("reads each from the environment", () => {
    const config = loadConfig({
      DATABASE_CONNECT_TIMEOUT_MS: "250",
      DATABASE_STATEMENT_TIMEOUT_MS: "1000",
      DATABASE_RETRY_MS: "0",
    });
    expect(config.timeouts).toEqual({ connectMs: 250, statementMs: 1_000, retryMs: 0 });
  });

  it.each([
    ["DATABASE_CONNECT_TIMEOUT_MS", "0"],
    ["DATABASE_CONNECT_TIMEOUT_MS", "-5"],
    ["DATABASE_STATEMENT_TIMEOUT_MS", "1.5"],
    ["DATABASE_STATEMENT_TIMEOUT_MS", "soon"],
    ["DATABASE_RETRY_MS", "-1"],
    ["DATABASE_RETRY_MS", "99999999999"],
  ])("refuses %s=%s with one line naming it", (name, value) => {
    const load = () => loadConfig({ [name]: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(new RegExp(name));
    try {
      load();
    } catch (error) {
      expect((error as Error).message).not.toContain("\n");
    }
  });
});
