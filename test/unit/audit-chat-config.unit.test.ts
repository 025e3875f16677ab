import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { isChatId } from "../../src/domain/index.ts";
import { expectConfigOrOneLineError, expectRefused } from "../support/config.ts";

describe("TELEGRAM_AUDIT_CHAT_IDS", () => {
  it("defaults to no chat", () => {
    expect(loadConfig({}).telegram.auditChatIds).toEqual([]);
  });

  it("reads groups (negative), people (positive), spaces and repeats", () => {
    expect(
      loadConfig({ TELEGRAM_AUDIT_CHAT_IDS: "-1001234567890, 42,,-1001234567890" }).telegram.auditChatIds,
    ).toEqual([-1001234567890, 42]);
  });

  it.each(["abc", "0", "-0", "1.5", "@ops", "12345678901234567890", "- 5"])(
    "refuses %s in one line",
    (value) => expectRefused({ TELEGRAM_AUDIT_CHAT_IDS: value }),
  );

  it("answers any value with chat ids the ledger accepts, or a one-line ConfigError", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(fc.integer(), { maxLength: 4 }).map((ids) => ids.join(",")),
        ),
        (value) =>
          expectConfigOrOneLineError({ TELEGRAM_AUDIT_CHAT_IDS: value }, (config) => {
            for (const id of config.telegram.auditChatIds ?? []) expect(isChatId(id)).toBe(true);
          }),
      ),
      { numRuns: 300 },
    );
  });
});
