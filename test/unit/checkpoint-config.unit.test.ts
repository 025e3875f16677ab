import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { expectConfigOrOneLineError, expectRefused } from "../support/config.ts";

describe("checkpoint settings", () => {
  it("default the origin to the schema and leave signing off", () => {
    expect(loadConfig({ LEDGER_SCHEMA: "books" })).toMatchObject({
      origin: "plugin-ledger/books",
      signingKeyFile: undefined,
      checkpointEvery: undefined,
    });
  });

  it.each([
    ["1000", { events: 1000, minutes: undefined }],
    ["10m", { events: undefined, minutes: 10 }],
    ["500,5m", { events: 500, minutes: 5 }],
  ])("read LEDGER_CHECKPOINT_EVERY=%s", (value, expected) => {
    expect(loadConfig({ LEDGER_CHECKPOINT_EVERY: value }).checkpointEvery).toEqual(expected);
  });

  it.each(["0", "0m", "10 m", "5m,500", "ten", "-1", "1h"])(
    "refuse LEDGER_CHECKPOINT_EVERY=%s in one line",
    (value) => expectRefused({ LEDGER_CHECKPOINT_EVERY: value }),
  );

  it("answer any value of the three with a configuration or a ConfigError", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("LEDGER_CHECKPOINT_EVERY", "LEDGER_ORIGIN", "LEDGER_SIGNING_KEY_FILE"),
        fc.string(),
        (name, value) =>
          expectConfigOrOneLineError({ [name]: value }, (config) => {
            if (name === "LEDGER_ORIGIN" && value !== "") expect(config.origin).toBe(value);
          }),
      ),
      { numRuns: 300 },
    );
  });
});
