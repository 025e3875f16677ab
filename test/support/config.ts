import { expect } from "vitest";
import { type Config, ConfigError, loadConfig } from "../../src/config.ts";

/** The environment is refused as a whole, with a ConfigError. */
export function expectRefused(env: NodeJS.ProcessEnv): void {
  expect(() => loadConfig(env)).toThrow(ConfigError);
}

/**
 * What `loadConfig` answers any environment: a configuration, which `check` reads, or a
 * ConfigError whose message is one line.
 */
export function expectConfigOrOneLineError(env: NodeJS.ProcessEnv, check: (config: Config) => void): void {
  try {
    check(loadConfig(env));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain("\n");
  }
}
