import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type LedgerEvent, parseEvent, streamIdOf, versionDiff } from "../../src/domain/index.ts";
import type { RecordedEvent } from "../../src/ledger/recorded-event.ts";
import type { Metadata } from "../../src/store/index.ts";
import {
  actorText,
  catalogMessage,
  changeMessage,
  groupChanges,
  groupMessages,
} from "../../src/telegram/audit-messages.ts";
import { releaseData } from "../support/scenario.ts";

let position = 0;
function recorded(event: LedgerEvent, metadata: Partial<Metadata> = {}): RecordedEvent {
  position += 1;
  return {
    ...parseEvent(event.type, event.data),
    position,
    streamId: streamIdOf(event),
    streamVersion: 1,
    eventId: `00000000-0000-4000-8000-${String(position).padStart(12, "0")}`,
    schemaVersion: 1,
    metadata: { actor: { kind: "cli", id: "cli:alice", name: "alice" }, idempotencyKey: "k1", ...metadata },
    recordedAt: new Date("2026-11-30T12:00:00Z"),
    prevHash: "00".repeat(32),
    hash: "ab".repeat(32),
  };
}
const release = (pluginId: string, version: string, extra: Partial<ReturnType<typeof releaseData>> = {}) =>
  ({ type: "VersionReleased", data: { ...releaseData(pluginId, version), ...extra } }) as LedgerEvent;

describe("audit messages", () => {
  it("group one append's events together, and consecutive releases and deprecations together", () => {
    const events = [
      recorded(release("momentum", "1.0.0"), { idempotencyKey: "a" }),
      recorded(release("momentum", "1.1.0"), { idempotencyKey: "b" }),
      recorded(
        { type: "VersionDeprecated", data: { pluginId: "momentum", version: "1.0.0", reason: "old" } },
        { idempotencyKey: "c" },
      ),
      recorded(
        {
          type: "AbTestAborted",
          data: { pluginId: "momentum", testId: "t", control: "1.0.0", candidate: "1.1.0" },
        },
        { idempotencyKey: "d" },
      ),
      recorded(
        {
          type: "PluginUpgraded",
          data: { pluginId: "momentum", from: "1.0.0", to: "1.1.0", direction: "up", crossesMajor: false },
        },
        { idempotencyKey: "d" },
      ),
      recorded(
        { type: "PluginDeactivated", data: { pluginId: "momentum", version: "1.1.0" } },
        { idempotencyKey: "e" },
      ),
    ];
    expect(groupChanges(events).map((g) => [g.catalog, g.events.length])).toEqual([
      [true, 3],
      [false, 2],
      [false, 1],
    ]);
  });

  it("say who, why, forced past what, where, and what changes", () => {
    const from = { ...releaseData("momentum", "1.0.0"), features: ["a"], deprecated: false };
    const to = {
      ...releaseData("momentum", "2.0.0"),
      features: ["b"],
      releaseNotes: "New <API>",
      deprecated: false,
    };
    const diff = versionDiff("momentum", "1.0.0", "2.0.0", [from, to], null);
    const group = groupChanges([
      recorded(
        {
          type: "PluginUpgraded",
          data: { pluginId: "momentum", from: "1.0.0", to: "2.0.0", direction: "up", crossesMajor: true },
        },
        {
          actor: { kind: "telegram", id: "1001", name: "ada" },
          reason: "go",
          forced: true,
          overrides: ["MAJOR_MISMATCH"],
        },
      ),
    ])[0];
    if (!group || !diff.ok) throw new Error("fixture");
    const text = changeMessage(group, diff.diff);
    expect(text).toContain(
      "<b>momentum</b>: <code>1.0.0</code> → <code>2.0.0</code> (upgraded, across a MAJOR)",
    );
    expect(text).toContain("By ada (Telegram 1001)");
    expect(text).toContain("Reason: go");
    expect(text).toContain("<b>FORCED</b> past MAJOR_MISMATCH");
    expect(text).toMatch(/#\d+ · head <code>abababababab<\/code>/);
    expect(text).toContain("+ feature b");
    expect(text).toContain("New &lt;API&gt;");
  });

  it("tell the A/B split a test runs at", () => {
    const [group] = groupChanges([
      recorded({
        type: "AbTestStarted",
        data: {
          pluginId: "momentum",
          testId: "t",
          control: "1.0.0",
          candidate: "1.1.0",
          candidateWeightBp: 1250,
          salt: "s",
        },
      }),
    ]);
    expect(changeMessage(group as never, null)).toContain(
      "A/B split now: <code>1.0.0</code> 87.5% vs <code>1.1.0</code> 12.5%",
    );
  });

  it("read actors as people do", () => {
    expect(actorText({ kind: "telegram", id: "1001", name: "ada" })).toBe("ada (Telegram 1001)");
    expect(actorText({ kind: "cli", id: "cli:alice" })).toBe("cli:alice (CLI)");
    expect(actorText({ kind: "system", id: "TELEGRAM_AUDIT_CHAT_IDS", name: "configuration" })).toBe(
      "configuration (system TELEGRAM_AUDIT_CHAT_IDS)",
    );
  });

  it("list thousands of releases in one message under the limit, with how many more", () => {
    const events = Array.from({ length: 3000 }, (_, i) => recorded(release("bulk_plugin", `1.${i}.0`)));
    const [group] = groupChanges(events);
    const text = catalogMessage(group as never);
    expect(text.length).toBeLessThanOrEqual(4000);
    const listed = text.split("\n").filter((l) => l.startsWith("• ")).length;
    const more = Number(/… and (\d+) more/.exec(text)?.[1]);
    expect(listed + more).toBe(3000);
    expect(text).toContain("<b>3000 releases</b>");
  });

  it("escape whatever a release or a reason holds, and never go over Telegram's limit", () => {
    const text = fc.string({ unit: "binary", maxLength: 3000 });
    fc.assert(
      fc.property(
        text,
        text,
        fc.array(text, { maxLength: 5 }),
        fc.integer({ min: 1, max: 40 }),
        (reason, notes, features, n) => {
          const events = Array.from({ length: n }, (_, i) =>
            recorded(
              release("fuzz_plugin", `1.${i}.0`, { releaseNotes: notes, features: features.filter(Boolean) }),
              {
                reason,
              },
            ),
          );
          events.push(
            recorded(
              { type: "VersionDeprecated", data: { pluginId: "fuzz_plugin", version: "1.0.0", reason } },
              { reason },
            ),
            recorded(
              { type: "PluginRegistered", data: { pluginId: "fuzz_plugin", version: "1.1.0" } },
              { reason, actor: { kind: "telegram", id: "5", name: reason || "x" }, idempotencyKey: "z" },
            ),
          );
          for (const group of groupChanges(events)) {
            for (const part of groupMessages(group, null)) {
              expect(part.length).toBeLessThan(4096);
              // Only our own tags: any "<" of the input arrives as &lt;.
              expect(part.replace(/<\/?(b|i|code)>/g, "")).not.toMatch(/[<>]/);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
