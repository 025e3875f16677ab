import { Writable } from "node:stream";
import fc from "fast-check";
import pino from "pino";
import type { Update } from "telegraf/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.ts";
import type { FakeUser } from "../support/fake-bot-api.ts";
import { FUZZ_SEED, withoutUnhandledRejections } from "../support/fuzz.ts";

/**
 * The real bot against random updates: commands with hostile arguments, plain text, forged and
 * mangled button data, presses by the wrong people. It must answer or ignore every one, never
 * fail a handler or leave a rejection unhandled; only a Confirm pressed by the requester may
 * write; a stranger changes nothing at all.
 */
const admin: FakeUser = { id: 2001, first_name: "Ada", username: "ada" };
const operator: FakeUser = { id: 2002, first_name: "Otto" };
const viewer: FakeUser = { id: 2004, first_name: "Vera" };
const stranger: FakeUser = { id: 2999, first_name: "Sam" };
const USERS = [admin, operator, viewer, stranger];

const hostile = fc.oneof(
  fc.constantFrom(
    "",
    "alpha",
    "beta",
    "1.0.0",
    "1.1.0",
    "2.0.0",
    "9.9.9",
    "10",
    "150",
    "-1",
    "99999999999999999999999",
    "2026-02-30",
    "2026-11-30T14:05Z",
    "--force",
    "--allow-major",
    "--nope",
    "start",
    "weight",
    "promote",
    "abort",
    "status",
    "\u0000",
    "a\u0000b",
    "\ud800",
    "<b>x</b>",
    "&amp;",
    "😀",
    "x".repeat(600),
  ),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 10 }),
  fc.bigInt().map(String),
);

const COMMANDS = [
  "/version",
  "/versions",
  "/history",
  "/upgrade",
  "/rollback",
  "/register",
  "/deactivate",
  "/deprecate",
  "/sethost",
  "/abtest",
  "/matrix",
  "/audit",
  "/asof",
  "/verify",
  "/whoami",
  "/help",
  "/start",
  "/diff",
  "/timeline",
  "/nope",
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Step =
  | { kind: "text"; user: FakeUser; text: string }
  | { kind: "button"; user: FakeUser; data: string }
  | { kind: "press"; user: FakeUser; choice: "confirm" | "cancel" };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record({
        user: fc.constantFrom(...USERS),
        command: fc.constantFrom(...COMMANDS),
        args: fc.array(hostile, { maxLength: 4 }),
      })
      .map(({ user, command, args }) => ({
        kind: "text" as const,
        user,
        text: [command, ...args].join(" "),
      })),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("text" as const),
      user: fc.constantFrom(...USERS),
      text: hostile,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("button" as const),
      user: fc.constantFrom(...USERS),
      data: fc.oneof(
        hostile,
        fc.constantFrom(`confirm:${"-".repeat(36)}`, `cancel:${"f".repeat(36)}`, "confirm:", "confirm:x"),
        fc.uuid().map((id) => `confirm:${id}`),
        hostile.map((s) => `confirm:${s}`),
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("press" as const),
      user: fc.constantFrom(...USERS),
      choice: fc.constantFrom("confirm" as const, "cancel" as const),
    }),
  },
);

describe("Telegram bot fuzz", () => {
  let h: BotHarness;
  const logged: Array<{ level: number; msg: string; err?: unknown }> = [];

  const count = async (table: string) => {
    const found = await h.database.db.pool.query(
      `SELECT count(*)::int AS n FROM "${h.database.schema}".${table}`,
    );
    return found.rows[0].n as number;
  };

  beforeAll(async () => {
    // Everything the bot logs at warn and above, so that a failing handler is seen.
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n").filter(Boolean)) logged.push(JSON.parse(line));
        done();
      },
    });
    h = await startBotHarness({
      roles: { admins: [admin], operators: [operator], viewers: [viewer] },
      logger: pino({ level: "warn" }, sink),
      seed: [...FUZZ_SEED],
    });
  });

  afterAll(async () => {
    await h?.close();
  });

  it("answers random updates without a failing handler; only the requester's Confirm writes", async () => {
    await withoutUnhandledRejections(() =>
      fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 3 }), async (steps) => {
          for (const s of steps) {
            const events = await count("events");
            const pending = await count("telegram_pending_actions");
            let update: Update;
            let mayWrite = false;
            if (s.kind === "text") {
              update = h.api.message(s.user, s.text);
            } else if (s.kind === "button") {
              update = h.api.press(s.user, s.data, { chatId: s.user.id, messageId: 1 });
            } else {
              const preview = h.lastPreview();
              if (!preview) continue;
              const data = s.choice === "confirm" ? preview.confirm : preview.cancel;
              expect(data.split(":")[1]).toMatch(UUID);
              update = h.pressOf(s.user, data);
              mayWrite = s.choice === "confirm" && s.user.id === preview.chatId && s.user !== viewer;
            }
            const before = logged.length;
            await h.api.deliver(update);
            const context = JSON.stringify({ step: s, logged: logged.slice(before) });
            expect(
              logged.slice(before).filter((l) => l.level >= 50),
              context,
            ).toEqual([]);
            if (!mayWrite) expect(await count("events"), context).toBe(events);
            if (s.user === stranger || s.kind !== "text") {
              expect(await count("telegram_pending_actions"), context).toBe(pending);
            }
          }
        }),
        { numRuns: 80 },
      ),
    );
    expect((await h.ledger.verify()).ok).toBe(true);
  });
});
