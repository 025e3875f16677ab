import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseWith, splitWords } from "../../src/telegram/arguments.ts";
import { notifyArguments } from "../../src/telegram/features/notify.ts";

const read = (payload: string) => {
  const words = splitWords(payload);
  return words.ok ? parseWith(notifyArguments.schema, notifyArguments.fromWords(words.value)) : words;
};

describe("/notify arguments", () => {
  it("read on, off, nothing, and a reason", () => {
    expect(read("")).toEqual({ ok: true, value: { sub: "status" } });
    expect(read("on  the ops room ")).toEqual({ ok: true, value: { sub: "on", reason: "the ops room" } });
    expect(read("off")).toEqual({ ok: true, value: { sub: "off" } });
    expect(read("maybe")).toMatchObject({ ok: false, problem: "say on, off or nothing" });
    expect(read("on --force")).toMatchObject({ ok: false });
  });

  it("answer any text with a subcommand or one problem line, never a throw", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 700 }), (payload) => {
        const parsed = read(payload);
        if (parsed.ok) {
          expect(["on", "off", "status"]).toContain(parsed.value.sub);
          expect((parsed.value.reason ?? "").length).toBeLessThanOrEqual(500);
        } else expect(parsed.problem).toMatch(/^[^\n]+$/);
      }),
      { numRuns: 500 },
    );
  });
});
