import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LedgerEvent } from "../../src/domain/index.ts";
import { decide, foldEvents } from "../../src/domain/index.ts";
import { given } from "../support/scenario.ts";

const on = (chatId: number, source: "config" | "command" = "command"): LedgerEvent => ({
  type: "AuditChatEnabled",
  data: { chatId, source },
});
const off = (chatId: number, source: "config" | "command" = "command"): LedgerEvent => ({
  type: "AuditChatDisabled",
  data: { chatId, source },
});
const GROUP = -1001234567890;

describe("audit chats: /notify on and off", () => {
  it("turns a chat on, then refuses to turn it on again", () => {
    given().when({ kind: "auditChatEnable", chatId: GROUP }).thenEmits(on(GROUP));
    given(on(GROUP)).when({ kind: "auditChatEnable", chatId: GROUP }).thenRejects("ALREADY");
  });

  it("turns an enabled chat off, whatever turned it on; a chat not on is ALREADY off", () => {
    given(on(GROUP, "config")).when({ kind: "auditChatDisable", chatId: GROUP }).thenEmits(off(GROUP));
    given().when({ kind: "auditChatDisable", chatId: GROUP }).thenRejects("ALREADY");
    given(on(GROUP), off(GROUP)).when({ kind: "auditChatDisable", chatId: GROUP }).thenRejects("ALREADY");
  });

  it("refuses what is not a chat id, even forced", () => {
    for (const chatId of [0, 1.5, 2 ** 53, Number.NaN, "12" as unknown as number]) {
      given().when({ kind: "auditChatEnable", chatId, force: true }).thenRejects("INVALID_INPUT");
    }
  });
});

describe("audit chats: the configured ones", () => {
  it("enables a listed chat the first time it is seen, and writes nothing for the same list again", () => {
    given()
      .when({ kind: "auditChatsConfigure", chatIds: [GROUP, 42] })
      .thenEmits(on(GROUP, "config"), on(42, "config"));
    given(on(GROUP, "config"), on(42, "config"))
      .when({ kind: "auditChatsConfigure", chatIds: [42, GROUP, 42] })
      .thenRejects("ALREADY");
  });

  it("leaves off a listed chat an admin turned off, until an admin turns it on", () => {
    given(on(GROUP, "config"), off(GROUP, "command"))
      .when({ kind: "auditChatsConfigure", chatIds: [GROUP] })
      .thenRejects("ALREADY");
  });

  it("disables a chat the configuration enabled and no longer lists, and enables it when listed again", () => {
    given(on(GROUP, "config"), on(42, "command"))
      .when({ kind: "auditChatsConfigure", chatIds: [] })
      .thenEmits(off(GROUP, "config"));
    given(on(GROUP, "config"), off(GROUP, "config"))
      .when({ kind: "auditChatsConfigure", chatIds: [GROUP] })
      .thenEmits(on(GROUP, "config"));
  });

  it("refuses a list with anything but chat ids", () => {
    given()
      .when({ kind: "auditChatsConfigure", chatIds: [GROUP, 0] })
      .thenRejects("INVALID_INPUT");
    given()
      .when({ kind: "auditChatsConfigure", chatIds: "1,2" as unknown as number[] })
      .thenRejects("INVALID_INPUT");
  });

  it("after any history, configuring a list leaves every listed chat on unless an admin turned it off", () => {
    const chat = fc.constantFrom(GROUP, 42, -7);
    const event = fc.oneof(
      fc
        .record({ chatId: chat, source: fc.constantFrom("config" as const, "command" as const) })
        .map((d) => on(d.chatId, d.source)),
      fc
        .record({ chatId: chat, source: fc.constantFrom("config" as const, "command" as const) })
        .map((d) => off(d.chatId, d.source)),
    );
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 12 }),
        fc.uniqueArray(chat, { maxLength: 3 }),
        (past, listed) => {
          const state = foldEvents(past);
          const decision = decide({ kind: "auditChatsConfigure", chatIds: listed }, state);
          const after = decision.ok ? foldEvents(decision.events, state) : state;
          for (const id of listed) {
            const known = after.auditChats[String(id)];
            expect(known?.enabled || (known?.source === "command" && !known.enabled)).toBe(true);
          }
          for (const [id, known] of Object.entries(after.auditChats)) {
            if (known.enabled && known.source === "config") expect(listed.map(String)).toContain(id);
          }
          // A second run with the same list has nothing left to do.
          expect(decide({ kind: "auditChatsConfigure", chatIds: listed }, after)).toMatchObject({
            ok: false,
          });
        },
      ),
    );
  });
});
